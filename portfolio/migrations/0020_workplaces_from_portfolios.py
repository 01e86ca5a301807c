# Each portfolio's workplace text becomes a workplace record: portfolios whose organisation and
# sector are identical share one. Text that differs at all (even by a space) stays apart, so the
# organisation a signature covers is the one it signed. Going back writes the
# text onto each portfolio again (a site, which the text never had, after a comma).

from django.db import migrations


def workplaces_from_text(apps, schema_editor):
    Portfolio = apps.get_model("portfolio", "Portfolio")
    Workplace = apps.get_model("portfolio", "Workplace")
    groups: dict[tuple[str, str], list[int]] = {}
    rows = Portfolio.objects.filter(workplace=None).order_by("pk")
    for pk, organisation, sector in rows.values_list("pk", "organisation", "sector"):
        groups.setdefault((organisation, sector), []).append(pk)
    for (organisation, sector), pks in groups.items():
        workplace = Workplace.objects.create(organisation=organisation, sector=sector)
        Portfolio.objects.filter(pk__in=pks).update(workplace=workplace)


def text_from_workplaces(apps, schema_editor):
    Portfolio = apps.get_model("portfolio", "Portfolio")
    Workplace = apps.get_model("portfolio", "Workplace")
    for workplace in Workplace.objects.order_by("pk"):
        organisation = workplace.organisation
        if workplace.site:
            organisation = f"{organisation}, {workplace.site}"
        Portfolio.objects.filter(workplace=workplace).update(
            organisation=organisation[:200], sector=workplace.sector, workplace=None
        )
    Workplace.objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("portfolio", "0019_workplace"),
    ]

    operations = [
        migrations.RunPython(workplaces_from_text, text_from_workplaces, elidable=False),
    ]
