"""Learners and staff imported from a CSV file: a preview of what each row will create or change,
a message on each bad row, nothing imported until the whole file is good, and the invitations
sent once the import has committed."""

import csv
import io

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile

from audit.models import AuditEntry
from people import imports
from portfolio.enrolments import choice_problems
from portfolio.models import Enrolment, OutgoingEmail, Portfolio, User
from tests.factories import PortfolioFactory, UserFactory
from tests.test_enrolments import CERTIFICATE, VALID, load_units, units
from tests.test_qualifications import listed
from units.qualification_importer import import_qualification_file

pytestmark = pytest.mark.django_db

LEARNER_HEADER = [
    "first_name",
    "last_name",
    "email",
    "units",
    "assessor",
    "iqa",
    "organisation",
    "sector",
    "job_role",
    "start_date",
]


@pytest.fixture
def centre(c4, login):
    people = {
        "admin": UserFactory(centre_admin=True, username="admin"),
        "assessor": UserFactory(assessor=True, username="assessor1", email="a1@example.org"),
        "iqa": UserFactory(iqa=True, username="iqa1", email="iqa1@example.org"),
        "eqa": UserFactory(eqa=True, username="eqa1"),
    }
    login(people["admin"])
    return people


def csv_file(header, rows, *, name="people.csv", delimiter=",", encoding="utf-8"):
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter)
    writer.writerow(header)
    writer.writerows(rows)
    return SimpleUploadedFile(name, out.getvalue().encode(encoding), content_type="text/csv")


def learner_row(n, **changes):
    values = {
        "first_name": f"Learner{n}",
        "last_name": "Smith",
        "email": f"learner{n}@example.org",
        "units": "C4",
        "assessor": "assessor1",
        "iqa": "iqa1@example.org",
        "organisation": "Riverside Library",
        "sector": "public",
        "job_role": "Library assistant",
        "start_date": "2026-09-01",
    }
    values.update(changes)
    return [values[name] for name in LEARNER_HEADER]


def preview(client, upload, kind="learners"):
    return client.post("/people/import/", {"kind": kind, "file": upload})


def confirm(client, page, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return client.post("/people/import/confirm/", {"sealed": page.context["sealed"]})


def what_exists():
    return (
        User.objects.count(),
        Enrolment.objects.count(),
        Portfolio.objects.count(),
        OutgoingEmail.objects.count(),
        AuditEntry.objects.count(),
    )


class TestLearners:
    def test_the_preview_says_what_each_row_does_and_writes_nothing(self, client, centre):
        known = PortfolioFactory(learner__email="known@example.org").learner
        before = what_exists()

        page = preview(
            client,
            csv_file(
                LEARNER_HEADER,
                [learner_row(1), learner_row(2, email="KNOWN@example.org", units="")],
            ),
        )

        assert page.status_code == 400  # the second row names no unit
        rows = page.context["outcome"].rows
        assert rows[0].action.startswith("Added as a learner and invited by e-mail")
        assert rows[1].problems == ["Name at least one unit."]
        assert what_exists() == before
        assert not mail.outbox
        assert known.enrolments.count() == 1

    def test_a_good_file_is_imported_in_two_posts_and_the_invitations_follow_the_commit(
        self, client, centre, django_capture_on_commit_callbacks
    ):
        existing = UserFactory(learner=True, email="already@example.org")
        rows = [learner_row(n) for n in range(1, 4)]
        rows.append(learner_row(4, email="Already@Example.org", first_name="", last_name=""))

        page = preview(client, csv_file(LEARNER_HEADER, rows))

        assert page.status_code == 200
        assert "Every row can be imported" in page.text
        assert "Import 4 rows" in page.text
        actions = [row.action for row in page.context["outcome"].rows]
        assert actions[3] == "Already registered: entered for single units: C4"
        assert not User.objects.filter(email="learner1@example.org").exists()

        done = confirm(client, page, django_capture_on_commit_callbacks)

        assert done.status_code == 302
        assert done.url == "/people/"
        for n in range(1, 4):
            learner = User.objects.get(email=f"learner{n}@example.org")
            assert learner.is_learner
            assert not learner.has_usable_password()
            portfolio = learner.portfolios.get()
            assert (portfolio.unit.code, portfolio.assessor, portfolio.iqa) == (
                "C4",
                centre["assessor"],
                centre["iqa"],
            )
            assert portfolio.workplace.organisation == "Riverside Library"
            assert portfolio.job_role == "Library assistant"
            assert str(portfolio.enrolment.start_date) == "2026-09-01"
        assert existing.portfolios.count() == 1
        assert sorted(m.to[0] for m in mail.outbox) == [
            f"learner{n}@example.org" for n in range(1, 4)
        ]
        imported = AuditEntry.objects.get(action="people.imported")
        assert imported.actor == centre["admin"]
        assert imported.data == {"kind": "learners", "rows": 4, "invited": 3}
        assert AuditEntry.objects.filter(action="person.invited").count() == 3

    def test_each_bad_row_says_why_and_nothing_is_imported(self, client, centre):
        before = what_exists()
        rows = [
            learner_row(1),
            learner_row(2, units="C4; Z99"),
            learner_row(3, assessor="eqa1"),
            learner_row(4, email="learner1@example.org"),
            learner_row(5, email="not-an-address"),
            learner_row(6, sector="charity", start_date="31/02/2026"),
            learner_row(7, iqa="nobody"),
            learner_row(8, iqa="assessor1"),
        ]

        page = preview(client, csv_file(LEARNER_HEADER, rows))

        assert page.status_code == 400
        problems = {row.number: row.problems for row in page.context["outcome"].rows}
        assert problems[2] == []
        assert problems[3] == ["No unit has the code Z99."]
        assert problems[4] == [f"{centre['eqa']} (eqa1) does not hold the Assessor role."]
        assert problems[5] == [
            "The same person as row 2 (learner1@example.org): list each person once (for a "
            "learner, put every unit in the one row)."
        ]
        assert problems[6] == ["'not-an-address' is not an e-mail address."]
        assert problems[7] == [
            "'charity' is not a sector: write public, private or voluntary, or leave it empty.",
            "'31/02/2026' is not a date: write it as 2026-09-01 or 01/09/2026.",
        ]
        assert problems[8] == ["No one has the username or e-mail address nobody."]
        assert problems[9] == [
            f"{centre['assessor']} (assessor1) does not hold the Internal quality assurer role."
        ]
        assert "Nothing is imported: 7 rows cannot be" in page.text
        assert "sealed" not in page.text  # no import to confirm
        assert what_exists() == before

    def test_a_qualification_is_chosen_and_its_rules_refuse_in_their_own_words(
        self, client, centre, tmp_path
    ):
        qualification = import_qualification_file(CERTIFICATE).qualification
        load_units(tmp_path, set(listed(CERTIFICATE)))
        header = [*LEARNER_HEADER, "qualification"]

        page = preview(
            client,
            csv_file(
                header,
                [
                    [*learner_row(1, units="; ".join(VALID)), qualification.code],
                    [*learner_row(2, units="M1; M2"), qualification.code],
                ],
            ),
        )

        good, short = page.context["outcome"].rows
        assert good.problems == []
        assert good.action.startswith(
            f"Added as a learner and invited by e-mail; entered for {qualification.title}"
        )
        assert short.problems == choice_problems(qualification, units("M1", "M2"))

    def test_an_email_held_by_staff_is_not_made_a_learner_unasked(self, client, centre):
        page = preview(client, csv_file(LEARNER_HEADER, [learner_row(1, email="a1@example.org")]))

        assert page.context["outcome"].rows[0].problems == [
            f"{centre['assessor']} already has the e-mail address a1@example.org and is not a "
            "learner: give them the learner role first (the staff import or their page)."
        ]

    def test_the_file_changing_meanwhile_imports_nothing(
        self, client, centre, django_capture_on_commit_callbacks
    ):
        page = preview(client, csv_file(LEARNER_HEADER, [learner_row(1), learner_row(2)]))
        UserFactory(email="learner2@example.org")  # registered by someone else meanwhile
        before = what_exists()

        refused = confirm(client, page, django_capture_on_commit_callbacks)

        assert refused.status_code == 409
        assert "Nothing is imported" in refused.text
        assert what_exists() == before
        assert not mail.outbox


class TestStaff:
    HEADER = ["first_name", "last_name", "email", "roles", "active"]

    def test_new_staff_are_added_and_invited_and_existing_ones_changed(
        self, client, centre, django_capture_on_commit_callbacks
    ):
        page = preview(
            client,
            csv_file(
                self.HEADER,
                [
                    ["Sam", "Jones", "sam@example.org", "assessor; IQA", "yes"],
                    ["Kim", "Lee", "kim@example.org", "EQA", "no"],
                    ["Ann", "Other", "A1@example.org", "assessor;internal quality assurer", ""],
                    [centre["iqa"].first_name, centre["iqa"].last_name, "iqa1@example.org", "IQA"],
                ],
            ),
            kind="staff",
        )

        assert page.status_code == 200
        actions = [row.action for row in page.context["outcome"].rows]
        assert actions == [
            "Added as Assessor and Internal quality assurer and invited by e-mail",
            "Added as External quality assurer (not active)",
            "Changed: now Assessor and Internal quality assurer",
            "No change",
        ]
        assert not User.objects.filter(email="sam@example.org").exists()

        assert confirm(client, page, django_capture_on_commit_callbacks).status_code == 302

        sam = User.objects.get(email="sam@example.org")
        assert (sam.is_assessor, sam.is_iqa, sam.is_active) == (True, True, True)
        assert not User.objects.get(email="kim@example.org").is_active
        centre["assessor"].refresh_from_db()
        assert centre["assessor"].is_iqa
        assert centre["assessor"].first_name == "Ann"
        assert [m.to for m in mail.outbox] == [["sam@example.org"]]

    def test_a_superuser_is_neither_changed_nor_made(self, client, centre):
        UserFactory(is_superuser=True, is_staff=True, email="root@example.org")

        page = preview(
            client,
            csv_file(self.HEADER, [["Root", "User", "root@example.org", "assessor"]]),
            kind="staff",
        )

        assert page.context["outcome"].rows[0].problems == [
            "Only a superuser may change a superuser's account."
        ]

    def test_unknown_roles_and_a_role_taken_from_a_caseload_are_refused(self, client, centre):
        PortfolioFactory(assessor=centre["assessor"])

        page = preview(
            client,
            csv_file(
                self.HEADER,
                [
                    ["Pat", "New", "pat@example.org", "assessor; tutor", "maybe"],
                    ["A", "One", "a1@example.org", "IQA"],
                ],
            ),
            kind="staff",
        )

        first, second = page.context["outcome"].rows
        assert first.problems == [
            "'tutor' is not a role: write assessor, IQA, EQA, centre administrator, learner or "
            "employer.",
            "'maybe' under active: write yes or no.",
        ]
        assert len(second.problems) == 1
        assert "move their caseload first" in second.problems[0]


class TestTheFile:
    def test_columns_missing_or_unknown_are_named(self, client, centre):
        page = preview(client, csv_file(["first_name", "surname", "e-mail", "colour"], [["a"]]))

        assert page.status_code == 400
        message = page.context["form"].errors["file"][0]
        assert "it has no column units or organisation" in message
        assert "it has columns this import does not know: colour" in message
        assert "The columns of a learners import are: first_name, last_name, email" in message

    @pytest.mark.parametrize(
        ("data", "said"),
        [
            (b"", "file is empty"),
            (b"first_name,last_name,email,roles\n", "has no rows below them"),
            (b"\x89PNG\r\n\x1a\n\x00\x00\x00", "This is not a CSV file"),
        ],
    )
    def test_a_file_that_is_not_a_csv_of_rows_is_explained(self, client, centre, data, said):
        upload = SimpleUploadedFile("people.csv", data, content_type="text/csv")

        page = preview(client, upload, kind="staff")

        assert page.status_code == 400
        assert said in page.context["form"].errors["file"][0]

    def test_a_file_too_large_is_refused_before_it_is_read(self, client, centre, settings):
        upload = SimpleUploadedFile("people.csv", b"x" * (imports.MAX_BYTES + 1))

        page = preview(client, upload, kind="staff")

        assert "at most 1024 KB can be imported at once" in page.context["form"].errors["file"][0]

    def test_a_file_of_too_many_rows_is_refused_whole(self, client, centre, monkeypatch):
        monkeypatch.setattr(imports, "MAX_ROWS", 2)

        page = preview(client, csv_file(LEARNER_HEADER, [learner_row(n) for n in range(3)]))

        assert page.context["form"].errors["file"] == ["The file has more than 2 rows: split it."]

    def test_excels_ways_of_saving_are_read(self, client, centre):
        # Semicolons (a European Excel), a byte-order mark, Windows' own encoding.
        upload = csv_file(
            ["First name", "Surname", "E-mail address", "Roles"],
            [["Zoë", "Brontë", "zoe@example.org", "assessor"]],
            delimiter=";",
            encoding="cp1252",
        )

        page = preview(client, upload, kind="staff")

        assert page.status_code == 200
        assert page.context["outcome"].rows[0].person == "Zoë Brontë (zoe@example.org)"
        bom = "\ufefffirst_name,last_name,email,roles\nA,B,ab@example.org,IQA\n".encode()
        page = preview(client, SimpleUploadedFile("p.csv", bom), kind="staff")
        assert page.status_code == 200

    def test_the_import_takes_only_a_preview_made_for_this_person(
        self, client, centre, login, django_capture_on_commit_callbacks
    ):
        page = preview(client, csv_file(LEARNER_HEADER, [learner_row(1)]))
        sealed = page.context["sealed"]

        tampered = client.post("/people/import/confirm/", {"sealed": sealed[:-2] + "xx"})
        login(UserFactory(centre_admin=True))
        another = client.post("/people/import/confirm/", {"sealed": sealed})

        for refused in (tampered, another):
            assert refused.status_code == 400
            assert "The preview could not be read: choose the file again." in refused.text
        assert not User.objects.filter(email="learner1@example.org").exists()

    def test_a_preview_an_hour_old_is_checked_again(self, client, centre, monkeypatch):
        page = preview(client, csv_file(LEARNER_HEADER, [learner_row(1)]))
        monkeypatch.setattr("django.core.signing.time.time", lambda: 10**10)

        refused = client.post("/people/import/confirm/", {"sealed": page.context["sealed"]})

        assert refused.status_code == 400
        assert "more than an hour old" in refused.text

    @pytest.mark.parametrize("kind", ["learners", "staff"])
    def test_an_example_file_reads_back_as_its_import(self, client, centre, kind):
        response = client.get(f"/people/import/{kind}.csv")

        assert response["Content-Type"] == "text/csv; charset=utf-8"
        assert f'filename="{kind}-import.csv"' in response["Content-Disposition"]
        rows = imports.read(kind, response.content)
        assert len(rows) == 1
        assert client.get("/people/import/other.csv").status_code == 404
