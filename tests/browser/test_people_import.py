"""The centre administrator imports learners from a CSV file in a browser: a file with a bad row
is explained and imports nothing; the corrected file of 100 learners takes two posts (the
preview, then the import); every page passes axe on a desktop and at 390 pixels."""

import csv
import io

import pytest
from django.core import mail

from portfolio.models import User
from tests.browser.conftest import has_horizontal_scroll, sign_in
from tests.browser.test_accessibility import violations
from tests.factories import UserFactory, c4_unit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
HEADER = ["first_name", "last_name", "email", "units", "assessor", "iqa", "organisation"]


def learners_csv(path, rows: int, *, bad: bool = False):
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER)
    for n in range(rows):
        unit = "Z9" if bad and n == 41 else "C4"
        writer.writerow(
            [f"Learner{n}", "Import", f"learner{n}@example.org", unit, "assessor1", "iqa1", "Mill"]
        )
    path.write_text(out.getvalue())
    return path


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_a_bad_file_is_explained_then_a_good_one_imports_in_two_posts(
    browser, live_server, tmp_path, viewport, settings
):
    c4_unit()
    admin = UserFactory(centre_admin=True)
    UserFactory(assessor=True, username="assessor1")
    UserFactory(iqa=True, username="iqa1")
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    page.set_default_timeout(30_000)
    sign_in(page, live_server.url, admin.username)
    posts = []
    page.on(
        "request",
        lambda request: (
            posts.append(request.url.removeprefix(live_server.url))
            if request.method != "GET"
            else None
        ),
    )

    page.goto(f"{live_server.url}/people/")
    page.get_by_role("link", name="Import from a CSV file").click()
    assert violations(page) == []
    assert not has_horizontal_scroll(page)
    page.get_by_label("Learners, each registered").check()
    page.get_by_label("The CSV file").set_input_files(
        learners_csv(tmp_path / "bad.csv", 100, bad=True)
    )
    page.get_by_role("button", name="Check the file").click()

    page.get_by_role("heading", name="Nothing is imported: 1 row cannot be").wait_for()
    assert page.get_by_role("row").filter(has_text="No unit has the code Z9.").count() == 1
    assert page.get_by_role("button", name="Import").count() == 0
    assert violations(page) == []
    assert not has_horizontal_scroll(page)
    assert not User.objects.filter(email__startswith="learner").exists()

    posts.clear()
    page.get_by_label("The CSV file").set_input_files(learners_csv(tmp_path / "good.csv", 100))
    page.get_by_role("button", name="Check the file").click()
    page.get_by_role("heading", name="Every row can be imported").wait_for()
    assert violations(page) == []
    assert not has_horizontal_scroll(page)
    page.get_by_role("button", name="Import 100 rows").click()
    page.get_by_text("Imported 100 rows; 100 invited by e-mail.").wait_for()

    assert posts == ["/people/import/", "/people/import/confirm/"]
    assert User.objects.filter(email__startswith="learner", is_learner=True).count() == 100
    assert sorted(message.to[0] for message in mail.outbox) == sorted(
        f"learner{n}@example.org" for n in range(100)
    )
    assert violations(page) == []
    context.close()
