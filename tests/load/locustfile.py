"""A working day at a large centre, for ``make load``: learners, assessors, IQAs, the EQA and the
administrator signed in at once, each opening the pages their work takes them to and learners
saving drafts. Every person signs in through the sign-in form with the demo password.

Heavy work runs beside them: learners uploading phone photos (``Uploader``) and people exporting
portfolio PDFs (``Exporter``), while ``Watcher`` times ``/health/`` and an ordinary page. Run
``Watcher`` alone first for the idle figures (``make load`` does)."""

import io
import itertools
import os
import random
import re
import threading
import time

from locust import HttpUser, between, constant, task

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
HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')
PHOTO_COUNT = 40


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


_photos: list[bytes] = []
_photos_lock = threading.Lock()


def photos() -> list[bytes]:
    """Distinct 12-megapixel JPEGs with camera tags, as a phone sends them, made once."""
    with _photos_lock:
        if not _photos:
            from PIL import Image, ImageDraw

            base = Image.radial_gradient("L").resize((4000, 3000)).convert("RGB")
            exif = Image.Exif()
            exif[0x010F], exif[0x0110] = "Phone maker", "Phone model"  # Make, Model
            for number in range(PHOTO_COUNT):
                photo = base.copy()
                ImageDraw.Draw(photo).rectangle(
                    (number * 90, 100, number * 90 + 80, 180), fill=(200, 40, number * 6)
                )
                out = io.BytesIO()
                photo.save(out, "JPEG", quality=90, exif=exif)
                _photos.append(out.getvalue())
    return _photos


def form_fields(page: str) -> dict[str, str]:
    """The hidden fields of a page's form (the CSRF token and any one-time submission key)."""
    return dict(HIDDEN.findall(page))


class Watcher(Person):
    """Times ``/health/`` and an ordinary signed-in page, alone (idle) or beside the rest."""

    fixed_count = 1
    wait_time = constant(0.5)
    username = "learner3"

    @task
    def health(self):
        self.client.get("/health/", name="watch: /health/")
        self.client.get("/learner/", name="watch: learner home")


class Uploader(Person):
    """A learner adding a phone photo to a new draft, again and again."""

    fixed_count = 10
    wait_time = between(1, 3)

    def on_start(self):
        self.username = f"learner{LEARNERS - next(_uploaders)}"
        super().on_start()
        home = self.open("/learner/", "upload: learner home")
        self.portfolio = PORTFOLIO.search(home.text).group(1)
        self.photos = itertools.cycle(random.sample(photos(), PHOTO_COUNT))

    @task
    def upload(self):
        url = f"/portfolios/{self.portfolio}/evidence/new/"
        form = self.open(url, "upload: new evidence form").text
        context = re.search(FIRST_CHECKBOX.format("contexts"), form)
        with self.client.post(
            url,
            {
                **form_fields(form),
                "title": "Photo of the complaint log",
                "method": "work_product",
                "occurred_on": "2026-11-02",
                "contexts": context.group(1),
                "account": "The log page where I wrote down what the customer asked for.",
            },
            files={"files": ("complaint-log.jpg", next(self.photos), "image/jpeg")},
            headers={"Referer": self.host + url},
            name="upload: 12 MP photo",
            catch_response=True,
        ) as response:
            if response.url.endswith(url):  # the form came back with what was wrong
                shown = re.search(r"invalid-feedback[^>]*>(.*?)</", response.text, re.S)
                response.failure(shown.group(1).strip() if shown else "the form came back")


_uploaders = itertools.count(0)
EXPORT_FORM = re.compile(r'<form[^>]+action="([^"]*export[^"]*)"[^>]*method="post"', re.I)
DOWNLOAD = re.compile(r'href="([^"]*/download/)"')


class Exporter(Person):
    """An assessor exporting portfolios of their caseload as PDFs, one after another, and
    waiting for each to be ready while the worker builds it."""

    fixed_count = 10
    wait_time = between(1, 3)

    def on_start(self):
        self.username = f"assessor{_next(_assessors, ASSESSORS)}"
        super().on_start()
        caseload = self.open("/assessor/", "export: caseload")
        self.portfolios = itertools.cycle(PORTFOLIO.findall(caseload.text))

    @task
    def export(self):
        page = self.open(f"/portfolios/{next(self.portfolios)}/", "export: portfolio").text
        action = EXPORT_FORM.search(page)
        if action is None:
            return
        started = time.monotonic()
        progress = self.client.post(
            action.group(1),
            form_fields(page),
            headers={"Referer": self.host + "/"},
            name="export: start a PDF",
        )
        problem = RuntimeError("the PDF was not ready within 5 minutes")
        while time.monotonic() - started < 300:
            if link := DOWNLOAD.search(progress.text):
                self.client.get(link.group(1), name="export: download the PDF")
                problem = None
                break
            if progress.status_code != 200 or "Failed" in progress.text:
                problem = RuntimeError(f"the PDF was not made ({progress.status_code})")
                break
            time.sleep(2)
            progress = self.open(progress.url, "export: progress page")
        # From the request to the download link: the worker's time, as the person waits it.
        self.environment.events.request.fire(
            request_type="PDF",
            name="export: ready to download",
            response_time=(time.monotonic() - started) * 1000,
            response_length=0,
            exception=problem,
            context={},
        )
