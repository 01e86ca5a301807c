import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("portfolio", "0016_enrolments_from_portfolios"),
    ]

    operations = [
        migrations.AlterField(
            model_name="portfolio",
            name="enrolment",
            field=models.ForeignKey(editable=False, on_delete=django.db.models.deletion.PROTECT, related_name="portfolios", to="portfolio.enrolment"),
        ),
    ]
