"""Every portfolio already claimed gets a units claim of its own, made when it was claimed, with
its reference, and by whoever its ``portfolio.claimed`` audit entry names (no one where there
is none). Going back leaves the claims: going forward again makes none twice."""

from django.db import migrations


def claims_from_portfolios(apps, schema_editor):
    Portfolio = apps.get_model("portfolio", "Portfolio")
    Claim = apps.get_model("portfolio", "Claim")
    AuditEntry = apps.get_model("audit", "AuditEntry")
    claimed = Portfolio.objects.filter(status="claimed", claim__isnull=True).order_by("pk")
    for portfolio in claimed.iterator():
        entry = (
            AuditEntry.objects.filter(action="portfolio.claimed", portfolio_id=portfolio.pk)
            .order_by("-created_at", "-pk")
            .first()
        )
        claim = Claim.objects.create(
            enrolment_id=portfolio.enrolment_id,
            kind="units",
            reference=portfolio.claim_reference,
            claimed_at=portfolio.claimed_at or (entry and entry.created_at) or portfolio.updated_at,
            claimed_by_id=entry.actor_id if entry is not None else None,
        )
        Portfolio.objects.filter(pk=portfolio.pk).update(claim=claim)


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0002_keyed_chains"),
        ("portfolio", "0025_uln_date_of_birth_and_claims"),
    ]

    operations = [migrations.RunPython(claims_from_portfolios, migrations.RunPython.noop)]
