"""A demo centre to try the product with, or, with many learners, volumes for benchmarks."""

import datetime
import math
import time

from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from demo.centre import STORIES, seed_centre_records, seed_story
from demo.planning import EMPLOYER, seed_planning
from demo.qualification import load_example_specs, seed_example_qualification
from demo.volume import seed_volume
from portfolio.models import Enrolment, Portfolio, Sector, User, Workplace
from units.models import Unit

DEMO_PASSWORD = "demo-portfolio-2026"
LEARNERS_PER_ASSESSOR = 50
ASSESSORS_PER_IQA = 5

FIRST_NAMES = [
    "Amira", "Ben", "Chloe", "Daniel", "Ella", "Femi", "Grace", "Harry", "Isla", "Jamal",
    "Katie", "Liam", "Maya", "Noah", "Olivia", "Priya", "Ryan", "Sophie", "Tom", "Zara",
]  # fmt: skip
LAST_NAMES = [
    "Ahmed", "Brown", "Clarke", "Davies", "Evans", "Fletcher", "Green", "Hughes", "Iqbal",
    "Jones", "Khan", "Lewis", "Morgan", "Nowak", "Owen", "Patel", "Roberts", "Smith", "Taylor",
    "Walker",
]  # fmt: skip
# (organisation, site, sector, job role): learner1 and learner2 work at the same leisure centre.
WORKPLACES = [
    ("Northgate Leisure", "Northgate Pool", Sector.PUBLIC, "Reception assistant"),
    ("Northgate Leisure", "Northgate Pool", Sector.PUBLIC, "Leisure assistant"),
    ("Brightwater Energy", "", Sector.PRIVATE, "Customer service adviser"),
    ("Eastfield Citizens Advice", "", Sector.NOT_FOR_PROFIT, "Volunteer adviser"),
    ("Parkside Housing Association", "", Sector.NOT_FOR_PROFIT, "Tenancy officer"),
    ("Riverside Borough Council", "", Sector.PUBLIC, "Contact centre adviser"),
    ("Hallam Rail", "", Sector.PRIVATE, "Ticket office assistant"),
    ("City Hospital Trust", "", Sector.PUBLIC, "Patient services coordinator"),
    ("Greenway Supermarkets", "", Sector.PRIVATE, "Customer services desk assistant"),
]
# The line manager at the shared workplace, as the centre would record them.
CONTACTS = {
    ("Northgate Leisure", "Northgate Pool"): {
        "name": "Dawn Hargreaves",
        "job_title": "Duty manager",
        "email": "dawn.hargreaves@example.org",
        "phone": "0114 496 0000",
    },
}
# Days since the portfolio started, for learner1 (complete), learner2 (half way), learner3 (new).
STORY_START_DAYS = [150, 75, 6]


def _name(index: int) -> tuple[str, str]:
    return FIRST_NAMES[index % len(FIRST_NAMES)], LAST_NAMES[(index * 7) % len(LAST_NAMES)]


class Command(BaseCommand):
    help = (
        "Create the demo centre: admin, assessor1, iqa1, eqa1 and learner1..N with portfolios on "
        "OCR unit C4, learner2 entered for the example qualification (C4 and the example unit "
        "EX1, loaded from demo/specs/). Running it again changes nothing. Every demo account's "
        f"password is {DEMO_PASSWORD!r}."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--learners", type=int, default=3, help="number of learners (default 3)"
        )

    def handle(self, *args, learners: int, **options):
        if learners < 1:
            raise CommandError("--learners must be at least 1.")
        unit = Unit.objects.filter(awarding_body="OCR", code="C4").first()
        if unit is None:
            raise CommandError(
                "Unit OCR C4 is not loaded. Run: python manage.py import_unit "
                "units/specs/ocr-c4.yaml"
            )
        assessors = max(1, math.ceil(learners / LEARNERS_PER_ASSESSOR))
        iqas = max(1, math.ceil(assessors / ASSESSORS_PER_IQA))
        with transaction.atomic():
            created_people = self._ensure_people(learners, assessors, iqas)
            created_portfolios = self._ensure_portfolios(unit, learners, assessors, iqas)
            created_evidence = sum(
                seed_story(portfolio)
                for portfolio in Portfolio.objects.filter(
                    unit=unit, learner__username__in=STORIES
                ).select_related("learner", "assessor", "iqa", "unit")
            )
            seed_centre_records(unit)
            created_evidence += seed_example_qualification(load_example_specs())
            seed_planning()
        started = time.monotonic()
        created_evidence += seed_volume(unit, progress=self._progress)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo centre ready: {created_people} people, {created_portfolios} portfolios "
                f"and {created_evidence} evidence items added. In all: {learners} learner(s), "
                f"{assessors} assessor(s), {iqas} IQA(s); "
                f"the volume data took {time.monotonic() - started:.1f} s."
            )
        )
        self._print_logins(learners, assessors, iqas)

    def _ensure_people(self, learners: int, assessors: int, iqas: int) -> int:
        wanted: list[User] = []
        for n in range(1, assessors + 1):
            wanted.append(self._person(f"assessor{n}", 10_000 + 13 * n, is_assessor=True))
        for n in range(1, iqas + 1):
            wanted.append(self._person(f"iqa{n}", 20_000 + 17 * n, is_iqa=True))
        wanted.append(self._person("eqa1", 30_000, is_eqa=True))
        # The duty manager at learner2's and learner3's workplace, a contact there already.
        manager = CONTACTS["Northgate Leisure", "Northgate Pool"]
        first, last = manager["name"].split()
        wanted.append(
            User(
                username=EMPLOYER,
                first_name=first,
                last_name=last,
                email=manager["email"],
                is_employer=True,
            )
        )
        for n in range(1, learners + 1):
            wanted.append(self._person(f"learner{n}", n, is_learner=True))

        existing = set(User.objects.values_list("username", flat=True))
        missing = [user for user in wanted if user.username not in existing]
        password = make_password(DEMO_PASSWORD)
        for user in missing:
            user.password = password
        User.objects.bulk_create(missing, batch_size=1000)

        created = len(missing)
        if "admin" not in existing:
            admin = User(
                username="admin",
                first_name="Centre",
                last_name="Administrator",
                email="admin@example.org",
                is_centre_admin=True,
                is_superuser=True,
            )
            admin.set_password(DEMO_PASSWORD)
            admin.save()
            created += 1
        return created

    def _person(self, username: str, index: int, **roles: bool) -> User:
        first, last = _name(index)
        return User(
            username=username,
            first_name=first,
            last_name=last,
            email=f"{username}@example.org",
            **roles,
        )

    def _ensure_portfolios(self, unit: Unit, learners: int, assessors: int, iqas: int) -> int:
        users = dict(User.objects.values_list("username", "pk"))
        has_portfolio = set(
            Portfolio.objects.filter(unit=unit).values_list("learner__username", flat=True)
        )
        today = timezone.localdate()
        workplaces = {}
        new = []
        for n in range(1, learners + 1):
            if f"learner{n}" in has_portfolio:
                continue
            assessor = (n - 1) % assessors + 1
            iqa = (assessor - 1) % iqas + 1
            organisation, site, sector, job_role = WORKPLACES[(n - 1) % len(WORKPLACES)]
            if (organisation, site) not in workplaces:
                workplace = Workplace.objects.matching(
                    organisation=organisation, site=site, sector=sector
                )
                contact = CONTACTS.get((organisation, site))
                if contact and not workplace.contacts.exists():
                    workplace.contacts.create(**contact)
                workplaces[organisation, site] = workplace
            days = STORY_START_DAYS[n - 1] if n <= len(STORY_START_DAYS) else 10 + (n * 37) % 300
            new.append(
                Portfolio(
                    learner_id=users[f"learner{n}"],
                    unit=unit,
                    assessor_id=users[f"assessor{assessor}"],
                    iqa_id=users[f"iqa{iqa}"],
                    workplace=workplaces[organisation, site],
                    job_role=job_role,
                    start_date=today - datetime.timedelta(days=days),
                )
            )
        enrolments = Enrolment.objects.bulk_create(
            [Enrolment(learner_id=p.learner_id, start_date=p.start_date) for p in new],
            batch_size=1000,
        )
        for portfolio, enrolment in zip(new, enrolments, strict=True):
            portfolio.enrolment = enrolment
        Portfolio.objects.bulk_create(new, batch_size=1000)
        return len(new)

    def _progress(self, done: int, total: int) -> None:
        if done == total or done % 500 == 0:
            self.stdout.write(f"  volume data: {done} of {total} portfolios")

    def _print_logins(self, learners: int, assessors: int, iqas: int) -> None:
        def more(count: int) -> str:
            return f" (and {count - 1} more like it)" if count > 1 else ""

        rows = [
            ("admin", "centre administrator (also the Django admin at /admin/)"),
            ("assessor1", "assessor" + more(assessors)),
            ("iqa1", "internal quality assurer" + more(iqas)),
            ("eqa1", "external quality assurer"),
            ("learner1", "learner: OCR unit C4 complete, on single units" + more(learners)),
        ]
        if learners >= 2:
            rows.append(("learner2", "learner on the example qualification: C4 and unit EX1"))
            rows.append((EMPLOYER, "employer: the line manager at learner2's workplace"))
        self.stdout.write("\nDemo log-ins, all with the password " + DEMO_PASSWORD + ":")
        for username, role in rows:
            self.stdout.write(f"  {username:<10} {role}")
