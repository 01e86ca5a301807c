from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def from_qualifications(apps, schema_editor):
    """Every listing made before listings named their awarding body is of its qualification's."""
    Qualification = apps.get_model("units", "Qualification")
    UnitListing = apps.get_model("units", "UnitListing")
    UnitListing.objects.update(
        awarding_body=Subquery(
            Qualification.objects.filter(pk=OuterRef("qualification_id")).values("awarding_body")
        )
    )


class Migration(migrations.Migration):
    dependencies = [
        ("units", "0002_qualifications"),
    ]

    operations = [
        migrations.AddField(
            model_name="unitlisting",
            name="awarding_body",
            field=models.CharField(
                default="",
                help_text="The unit's awarding body: the qualification's unless the listing names one.",
                max_length=40,
            ),
            preserve_default=False,
        ),
        migrations.RunPython(from_qualifications, migrations.RunPython.noop, elidable=False),
    ]
