# The workplace becomes a record shared by the learners who work there: this adds it, its
# contacts and a portfolio's link to it (empty until 0016 fills it from the portfolio's text).

import django.db.models.deletion
from django.db import migrations, models

SECTORS = [
    ("private", "Private sector"),
    ("not_for_profit", "Not-for-profit"),
    ("public", "Public services"),
]


class Migration(migrations.Migration):
    dependencies = [
        ("portfolio", "0018_enrolment_qualification"),
    ]

    operations = [
        migrations.CreateModel(
            name="Workplace",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "organisation",
                    models.CharField(help_text="Where the learner works.", max_length=200),
                ),
                (
                    "site",
                    models.CharField(
                        blank=True,
                        help_text="The branch, office or site, where it has several.",
                        max_length=200,
                    ),
                ),
                ("sector", models.CharField(choices=SECTORS, max_length=20)),
                ("address", models.TextField(blank=True, max_length=2000)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("updated_at", models.DateTimeField(auto_now=True)),
            ],
            options={
                "ordering": ["organisation", "site", "pk"],
            },
        ),
        migrations.CreateModel(
            name="WorkplaceContact",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("name", models.CharField(max_length=200)),
                ("job_title", models.CharField(blank=True, max_length=200)),
                ("email", models.EmailField(blank=True, max_length=254)),
                ("phone", models.CharField(blank=True, max_length=50)),
                (
                    "workplace",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="contacts",
                        to="portfolio.workplace",
                    ),
                ),
            ],
            options={
                "ordering": ["name", "pk"],
            },
        ),
        migrations.AddField(
            model_name="portfolio",
            name="workplace",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="portfolios",
                to="portfolio.workplace",
            ),
        ),
    ]
