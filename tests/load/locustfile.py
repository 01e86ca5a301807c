"""A working day at a large centre, for ``make load``: learners, assessors, IQAs, the EQA and the
administrator signed in at once, each opening the pages their work takes them to and learners
saving drafts. Every person signs in through the sign-in form with the demo password."""

import itertools
import os
import random
import re

from locust import HttpUser, between, task

PASSWORD = os.environ.get("DEMO_PASSWORD", "demo-portfolio-2026")
LEARNERS = int(os.environ.get("LOAD_LEARNERS", "2000"))
ASSESSORS = max(1, -(-LEARNERS // 50))
IQAS = max(1, -(-ASSESSORS // 5))
# The story learners (1-3) keep their story; the load uses the generated ones.
_learners = itertools.count(4)
_assessors = itertools.count(1)
_iqas = itertools.count(1)

PORTFOLIO = re.compile(r'href="/portfolios/(\d+)/"')
EVIDENCE = re.compile(r'href="/evidence/(\d+)/"')
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
FIRST_CHECKBOX = r'name="{}" value="(\d+)"'


def _next(counter, limit: int) -> int:
    return (next(counter) - 1) % limit + 1


class Person(HttpUser):
    abstract = True
    wait_time = between(1, 3)
    username = ""

    def on_start(self):
        page = self.client.get("/accounts/login/", name="sign-in page")
        with self.client.post(
            "/accounts/login/",
            {
                "username": self.username,
                "password": PASSWORD,
                "csrfmiddlewaretoken": CSRF.search(page.text).group(1),
            },
            headers={"Referer": self.host + "/accounts/login/"},
            name="sign in",
            catch_response=True,
        ) as response:
            if "/accounts/login/" in response.url:
                response.failure(f"{self.username} could not sign in")

    def open(self, url: str, name: str):
        return self.client.get(url, name=name)


class Learner(Person):
    weight = 30

    def on_start(self):
        number = 3 + _next(_learners, max(LEARNERS - 3, 1))
        self.username = f"learner{min(number, LEARNERS)}"
        super().on_start()
        home = self.open("/learner/", "learner: home")
        self.portfolio = PORTFOLIO.search(home.text).group(1)
        page = self.open(f"/portfolios/{self.portfolio}/", "learner: portfolio")
        self.evidence = EVIDENCE.findall(page.text) or [None]

    @task(5)
    def home(self):
        self.open("/learner/", "learner: home")

    @task(5)
    def portfolio_page(self):
        self.open(f"/portfolios/{self.portfolio}/", "learner: portfolio")

    @task(4)
    def evidence_page(self):
        item = random.choice(self.evidence)
        if item:
            self.open(f"/evidence/{item}/", "learner: evidence item")

    @task(2)
    def knowledge(self):
        self.open(f"/portfolios/{self.portfolio}/knowledge/", "learner: knowledge questions")

    @task(1)
    def save_a_draft(self):
        url = f"/portfolios/{self.portfolio}/evidence/new/"
        form = self.open(url, "learner: new evidence form").text
        context = re.search(FIRST_CHECKBOX.format("contexts"), form)
        criterion = re.search(FIRST_CHECKBOX.format("claimed_criteria"), form)
        self.client.post(
            url,
            {
                "csrfmiddlewaretoken": CSRF.search(form).group(1),
                "title": "Complaint about a late delivery",
                "method": "reflective",
                "occurred_on": "2026-11-02",
                "contexts": context.group(1),
                "setting": "real_paid",
                "customer": "external",
                "customer_reference": "Customer 12",
                "account": "The customer was angry that the parcel was late. I listened first.",
                "claimed_criteria": criterion.group(1),
            },
            headers={"Referer": self.host + url},
            name="learner: save a draft",
        )


class Assessor(Person):
    weight = 10

    def on_start(self):
        self.username = f"assessor{_next(_assessors, ASSESSORS)}"
        super().on_start()
        caseload = self.open("/assessor/", "assessor: caseload")
        self.portfolios = PORTFOLIO.findall(caseload.text)

    @task(4)
    def caseload(self):
        self.open("/assessor/", "assessor: caseload")

    @task(2)
    def waiting_first(self):
        self.open("/assessor/?sort=waiting&status=in_progress", "assessor: caseload, sorted")

    @task(4)
    def portfolio_page(self):
        portfolio = random.choice(self.portfolios)
        page = self.open(f"/portfolios/{portfolio}/", "assessor: portfolio")
        items = EVIDENCE.findall(page.text)
        if items:
            self.open(f"/evidence/{random.choice(items)}/", "assessor: evidence review")

    @task(3)
    def matrix(self):
        portfolio = random.choice(self.portfolios)
        self.open(f"/portfolios/{portfolio}/matrix/", "assessor: tracking matrix")

    @task(1)
    def notifications(self):
        self.open("/notifications/", "assessor: notifications")


class Iqa(Person):
    weight = 5

    def on_start(self):
        self.username = f"iqa{_next(_iqas, IQAS)}"
        super().on_start()
        home = self.open("/iqa/", "iqa: home")
        self.portfolios = PORTFOLIO.findall(home.text)

    @task(3)
    def home(self):
        self.open("/iqa/", "iqa: home")

    @task(2)
    def new_sample(self):
        portfolio = random.choice(self.portfolios)
        self.open(f"/portfolios/{portfolio}/samples/new/", "iqa: new sample")

    @task(2)
    def audit(self):
        portfolio = random.choice(self.portfolios)
        self.open(f"/portfolios/{portfolio}/audit/", "iqa: audit trail")

    @task(1)
    def standardisation(self):
        self.open("/standardisation/", "iqa: standardisation")


class Eqa(Person):
    weight = 2
    username = "eqa1"

    def on_start(self):
        super().on_start()
        home = self.open("/eqa/", "eqa: home")
        self.portfolios = PORTFOLIO.findall(home.text)

    @task(1)
    def home(self):
        self.open("/eqa/", "eqa: home")

    @task(3)
    def portfolio_page(self):
        self.open(f"/portfolios/{random.choice(self.portfolios)}/", "eqa: portfolio")


class Administrator(Person):
    weight = 3
    username = "admin"

    @task(3)
    def centre(self):
        self.open("/centre/", "admin: centre home")

    @task(1)
    def visits(self):
        self.open("/centre/eqa-visits/", "admin: EQA visits")

    @task(1)
    def users(self):
        self.open("/admin/portfolio/user/", "admin: users list")

    @task(1)
    def portfolios(self):
        self.open("/admin/portfolio/portfolio/", "admin: portfolios list")
