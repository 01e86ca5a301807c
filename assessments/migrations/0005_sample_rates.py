from django.db import migrations

# Starting rates a centre can change in the admin: every portfolio of a new assessor, half of a
# standard assessor's, a fifth of an experienced assessor's.
DEFAULT_RATES = {"new": 100, "standard": 50, "experienced": 20}


def add_rates(apps, schema_editor):
    SampleRate = apps.get_model("assessments", "SampleRate")
    for rating, percent in DEFAULT_RATES.items():
        SampleRate.objects.get_or_create(rating=rating, defaults={"percent": percent})


class Migration(migrations.Migration):
    dependencies = [
        ("assessments", "0004_actionpoint_eqareview_eqavisit_iqasample_sampleitem_and_more"),
    ]

    operations = [migrations.RunPython(add_rates, migrations.RunPython.noop)]
