"""Every portfolio made before enrolments becomes a single-unit enrolment of its learner, started
and made when the portfolio was."""

from django.db import migrations, models


def enrol(apps, schema_editor):
    Enrolment = apps.get_model("portfolio", "Enrolment")
    Portfolio = apps.get_model("portfolio", "Portfolio")
    for portfolio in Portfolio.objects.filter(enrolment=None).order_by("pk").iterator():
        enrolment = Enrolment.objects.create(
            learner_id=portfolio.learner_id, start_date=portfolio.start_date
        )
        # auto_now_add cannot be given on create: the enrolment was made with its portfolio.
        Enrolment.objects.filter(pk=enrolment.pk).update(created_at=portfolio.created_at)
        Portfolio.objects.filter(pk=portfolio.pk).update(enrolment=enrolment)


def unenrol(apps, schema_editor):
    Enrolment = apps.get_model("portfolio", "Enrolment")
    Portfolio = apps.get_model("portfolio", "Portfolio")
    shared = (
        Portfolio.objects.values("enrolment").annotate(units=models.Count("pk")).filter(units__gt=1)
    )
    if shared.exists():
        raise RuntimeError(
            "Some enrolments have more than one unit; a release before enrolments cannot hold them."
        )
    Portfolio.objects.update(enrolment=None)
    Enrolment.objects.all().delete()


class Migration(migrations.Migration):

    dependencies = [
        ("portfolio", "0015_enrolment"),
    ]

    operations = [migrations.RunPython(enrol, unenrol)]
