"""The whole journey through the pages, as each person would make it, in Chromium."""

import datetime
import io
import re
from io import StringIO
from pathlib import Path

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone
from pypdf import PdfReader

from portfolio.models import EvidenceItem
from tests import samples
from tests.browser.conftest import sign_in
from tests.browser.test_accessibility import violations
from tests.factories import PASSWORD, PortfolioFactory, UserFactory, c4_unit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

OCCASIONS = [("a", 60, "Customer A"), ("b", 40, "Customer B"), ("c", 20, "Customer C"),
             ("d", 5, "Customer D")]  # fmt: skip
PERFORMANCE = re.compile(r"^\s*\d\.\d+ \(P\d+\)")


def run_worker():
    """What the background worker does with the tasks waiting."""
    call_command("db_worker", "--batch", "--no-startup-delay", stdout=StringIO(), stderr=StringIO())


@pytest.fixture
def people():
    c4_unit()
    portfolio = PortfolioFactory(
        workplace__organisation="Hallam Rail", job_role="Ticket office assistant"
    )
    return {
        "portfolio": portfolio,
        "learner": portfolio.learner,
        "assessor": portfolio.assessor,
        "iqa": portfolio.iqa,
        "eqa": UserFactory(eqa=True, username="verifier"),
        "admin": UserFactory(centre_admin=True, username="centreadmin"),
    }


# What each person posted after signing in: every request the browser made that is not a GET,
# form or script alike, from the browser's own request log.
POSTS: dict[str, list[str]] = {}


@pytest.fixture
def as_person(browser, live_server):
    contexts = []
    POSTS.clear()

    def open_as(user, name=None):
        context = browser.new_context(
            viewport={"width": 1280, "height": 900}, accept_downloads=True
        )
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        if user is not None:
            sign_in(page, live_server.url, user.username)
        posts = POSTS.setdefault(name or (user.username if user else "witness"), [])
        page.on(
            "request",
            lambda request: (
                request.method != "GET"
                and posts.append(f"{request.method} {request.url.split('/', 3)[3]}")
            ),
        )
        return page

    yield open_as
    for context in contexts:
        context.close()


class AccessibilityLog:
    """Every page the journey shows, checked with axe-core once per distinct path."""

    def __init__(self):
        self.seen, self.problems = set(), {}

    def check(self, page):
        path = re.sub(r"\d+", "N", page.url.split("//", 1)[1].split("/", 1)[1])
        if path in self.seen:
            return
        self.seen.add(path)
        if found := violations(page):
            self.problems[path] = found


def submit_with_declaration(page, log=None, button="Submit for assessment"):
    if log:
        log.check(page)
    page.get_by_label("I declare that this evidence is my own work").check()
    page.get_by_role("button", name=button).click()


def test_the_whole_journey(as_person, live_server, people, tmp_path):
    base = live_server.url
    portfolio = people["portfolio"]
    log = AccessibilityLog()

    # The learner adds four pieces of evidence, one per context, each with a photo.
    learner = as_person(people["learner"], "learner")
    evidence_urls = {}
    for letter, days, customer in OCCASIONS:
        photo = tmp_path / f"IMG_{letter}.jpg"
        # Four different photos: the same one twice would be refused as already uploaded.
        photo.write_bytes(samples.jpeg(640, 480, colour=(200, 30, 3 * days)))
        learner.goto(f"{base}/portfolios/{portfolio.pk}/evidence/new/")
        log.check(learner)
        learner.get_by_label("Title").fill(f"Difficult customer, context {letter}")
        learner.get_by_label("Reflective account").check()
        day = timezone.localdate() - datetime.timedelta(days=days)
        learner.get_by_label("Date it happened").fill(day.isoformat())
        learner.get_by_label(re.compile(rf"^\s*{letter} (during|when) ")).check()
        learner.get_by_label("Real job (paid)").check()
        learner.get_by_label("External customer").check()
        learner.get_by_label("Customer reference").fill(customer)
        learner.get_by_label("What happened").fill(f"{customer} was angry; I listened and helped.")
        for box in learner.get_by_label(PERFORMANCE).all():
            box.check()
        learner.get_by_label("Add files").set_input_files(str(photo))
        learner.get_by_role("button", name="Save draft").click()
        learner.get_by_text("is saved as a draft").wait_for()
        evidence_urls[letter] = learner.url
        log.check(learner)
        if letter == "a":
            learner.get_by_role("link", name="Add a witness").click()
            log.check(learner)
            learner.get_by_label("Witness name").fill("Sam Okafor")
            learner.get_by_label("Witness's job title").fill("Duty manager")
            learner.get_by_label("Relationship to you").fill("My line manager")
            learner.get_by_label("The witness is not a relative of mine").check()
            learner.get_by_label("Witness's e-mail address").fill("sam@example.org")
            learner.get_by_label("What the witness saw").fill("I saw the learner calm a customer.")
            learner.get_by_role("button", name="Save and e-mail it to the witness").click()
            learner.get_by_text("is e-mailed to Sam Okafor").wait_for()

    # The four drafts are submitted together, with one declaration.
    learner.goto(f"{base}/portfolios/{portfolio.pk}/")
    learner.get_by_role("link", name="Submit 4 drafts").click()
    submit_with_declaration(learner, log, button="Submit the ticked evidence")
    learner.get_by_text("4 items submitted to your assessor").wait_for()

    # The learner answers every knowledge question, each in one post, going from one to the next.
    learner.goto(f"{base}/portfolios/{portfolio.pk}/knowledge/")
    learner.get_by_role(
        "link", name=f"Answer {portfolio.unit.criteria.get(nos_code='K1').label}", exact=True
    ).click()
    for code in [f"K{n}" for n in range(1, 11)]:
        label = portfolio.unit.criteria.get(nos_code=code).label
        learner.get_by_role("heading", name=re.compile(re.escape(label))).wait_for()
        log.check(learner)
        learner.get_by_label("Answer").fill(f"My answer about {code}, with an example from work.")
        submit_with_declaration(learner)
        learner.get_by_text(f"Your answer for {label} is submitted to your assessor.").wait_for()

    # The witness confirms through the link in their e-mail, with no account.
    [invitation] = [m for m in mail.outbox if m.to == ["sam@example.org"]]
    link = re.search(r"http://\S+/witness/\S+/", invitation.body).group(0)
    witness = as_person(None)
    witness.goto(link.replace("http://testserver", base))
    log.check(witness)
    witness.get_by_role("button", name="Open the statement").click()
    witness.get_by_role("heading", name="Witness statement").wait_for()
    log.check(witness)
    witness.get_by_label("Type your full name").fill("Sam Okafor")
    witness.get_by_label("I confirm that this statement is a true account").check()
    witness.get_by_role("button", name="Confirm the statement").click()
    witness.get_by_role("heading", name="Thank you").wait_for()
    log.check(witness)

    # The assessor refers one item back, with the criteria it shows already ticked; the learner
    # puts it right and resubmits in one post; the assessor accepts every item in one post each,
    # ticking the criteria each shows (all the learner claimed on the first, the first claim on
    # the others).
    assessor = as_person(people["assessor"], "assessor")
    assessor.goto(evidence_urls["b"])
    log.check(assessor)
    assessor.get_by_label("Refer back to the learner").check()
    assessor.locator("#review .criteria-first input.map-tick").first.check()
    assessor.get_by_label("Where it is shown", exact=True).fill("Second paragraph")
    assessor.get_by_label("Feedback").fill("Say what you said to the customer.")
    assessor.get_by_role("button", name="Save the review").click()
    assessor.get_by_text("is referred back").wait_for()

    learner.goto(evidence_urls["b"])
    assert "Say what you said to the customer." in learner.content()
    learner.get_by_role("link", name="Edit or add files").click()
    learner.get_by_label("What happened").fill("I said: I can see why this is frustrating.")
    submit_with_declaration(learner, button="Save and submit")
    learner.get_by_text("is saved and submitted to your assessor").wait_for()

    assessor.goto(f"{base}/notifications/")
    log.check(assessor)
    review_links = [a.get_attribute("href") for a in assessor.locator("main li a").all()]
    for href in dict.fromkeys(review_links):
        assessor.goto(base + href)
        if not assessor.get_by_role("button", name="Save the review").count():
            continue
        ticks = assessor.locator("#review .criteria-first input.map-tick")  # claimed first
        if "context a" in assessor.title():
            for box in ticks.all():
                box.check()
        else:
            ticks.first.check()  # already ticked on the one referred back, and kept
        assessor.get_by_label("Accept").check()
        assessor.get_by_label("Where it is shown", exact=True).fill("Second paragraph")
        assessor.get_by_role("button", name="Save the review").click()
        assessor.get_by_text("is accepted, with").wait_for()
    assert EvidenceItem.objects.filter(status="accepted").count() == 14

    # Every criterion is marked met in one post, and the unit signed off from the same page.
    assessor.goto(f"{base}/portfolios/{portfolio.pk}/matrix/")
    log.check(assessor)
    assessor.get_by_role("link", name="Mark criteria met, or sign the unit off").click()
    log.check(assessor)
    assessor.get_by_label("Mark every criterion listed met").check()
    assessor.get_by_role("button", name="Mark the ticked criteria met").click()
    assessor.get_by_text("are marked met").wait_for()
    assert "Sufficient:" in assessor.content() or "Sign the unit off" in assessor.content()
    log.check(assessor)
    assessor.get_by_label("Your password").fill(PASSWORD)
    assessor.get_by_role("button", name="Sign").click()
    assessor.get_by_text("The unit is signed off").wait_for()

    # The learner signs the unit declaration.
    learner.goto(f"{base}/portfolios/{portfolio.pk}/")
    learner.get_by_role("link", name="Sign the unit declaration").click()
    log.check(learner)
    learner.get_by_label("Your password").fill(PASSWORD)
    learner.get_by_role("button", name="Sign").click()
    learner.get_by_text("You have signed the unit declaration.").wait_for()

    # The IQA samples and countersigns.
    iqa = as_person(people["iqa"], "iqa")
    iqa.goto(f"{base}/iqa/")
    log.check(iqa)
    iqa.get_by_role("link", name=re.compile("^Sample it")).click()
    log.check(iqa)
    iqa.get_by_label("Summative").check()
    iqa.get_by_label("Agree").check()
    iqa.locator("input[name^=look_e]").first.check()
    iqa.get_by_label("Your password").fill(PASSWORD)
    iqa.get_by_role("button", name="Record and sign").click()
    iqa.get_by_text("The sample is recorded and signed.").wait_for()
    log.check(iqa)

    # The administrator grants the EQA access.
    admin = as_person(people["admin"], "admin")
    admin.goto(f"{base}/centre/")
    log.check(admin)
    admin.get_by_role("link", name="EQA access").click()
    admin.get_by_role("link", name="Grant an EQA access").click()
    admin.get_by_label("Until the end of").wait_for()
    log.check(admin)
    admin.get_by_label("External quality assurer").select_option(label=str(people["eqa"]))
    admin.get_by_label("The whole centre").check()
    admin.get_by_label("Until the end of").fill(
        f"{timezone.localdate() + datetime.timedelta(days=30)}"
    )
    admin.get_by_role("button", name="Grant access").click()
    admin.get_by_text("has access and is told so.").wait_for()

    # The EQA reviews the portfolio and downloads its PDF.
    eqa = as_person(people["eqa"], "eqa")
    eqa.goto(f"{base}/eqa/")
    log.check(eqa)
    eqa.get_by_role("link", name=str(people["learner"])).click()
    log.check(eqa)
    eqa.get_by_label("Satisfactory").check()
    eqa.get_by_label("Report").fill("Sound, well-evidenced assessment.")
    eqa.get_by_role("button", name="Record your review").click()
    eqa.get_by_text("Your review is recorded.").wait_for()
    eqa.get_by_role("button", name="Export PDF", exact=True).click()
    eqa.get_by_text("Waiting to start: 0 of 1 done.").wait_for()
    log.check(eqa)
    run_worker()
    # The progress page reloads itself; a reload of our own would race with it.
    download_link = eqa.get_by_role("link", name=re.compile(r"^Download the PDF"))
    download_link.wait_for()
    with eqa.expect_download() as download:
        download_link.click()
    reader = PdfReader(io.BytesIO(Path(download.value.path()).read_bytes()))
    text = " ".join(" ".join(page.extract_text() for page in reader.pages).split())
    assert "Verified".upper() in text
    for kind in [
        "Assessor's unit sign-off",
        "Learner's unit declaration",
        "IQA's countersignature",
    ]:
        assert f"{kind}: VALID" in text
    assert "Sound, well-evidenced assessment." in text
    assert "Confirmed by the witness" in text
    assert len(reader.attachments) == 4  # the four photos
    # Every page of the journey meets WCAG 2.2 A and AA, the administrator's people pages
    # included.
    assert log.problems == {}
    assert {
        "portfolios/N/evidence/new/",
        "portfolios/N/submit/",
        "evidence/N/witness/",
        "portfolios/N/knowledge/N/",
        "evidence/N/",
        "portfolios/N/decisions/",
        "portfolios/N/declaration/",
        "portfolios/N/samples/new/",
        "people/eqa-access/new/",
    } <= log.seen
    assert any(path.startswith("witness/") for path in log.seen)
    # The whole portfolio, 14 items and 27 criteria, in these many posts by each person (the
    # sign-in aside): at most 25 by the assessor and 20 by the learner.
    print("Posts by person:", {name: len(posts) for name, posts in POSTS.items()})
    for name, posts in POSTS.items():
        print(f"  {name}: {posts}")
    assert len(POSTS["learner"]) == 18
    assert len(POSTS["assessor"]) == 17
