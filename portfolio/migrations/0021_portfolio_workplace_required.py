# Every portfolio has its workplace (0016), which now holds the organisation and sector.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("portfolio", "0020_workplaces_from_portfolios"),
    ]

    operations = [
        migrations.AlterField(
            model_name="portfolio",
            name="workplace",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="portfolios",
                to="portfolio.workplace",
            ),
        ),
        # Given a default first, so that going back can add the columns to existing rows
        # (0016 going back fills them).
        migrations.AlterField(
            model_name="portfolio",
            name="organisation",
            field=models.CharField(default="", help_text="Where the learner works.", max_length=200),
        ),
        migrations.AlterField(
            model_name="portfolio",
            name="sector",
            field=models.CharField(
                choices=[
                    ("private", "Private sector"),
                    ("not_for_profit", "Not-for-profit"),
                    ("public", "Public services"),
                ],
                default="",
                max_length=20,
            ),
        ),
        migrations.RemoveField(model_name="portfolio", name="organisation"),
        migrations.RemoveField(model_name="portfolio", name="sector"),
    ]
