# Bulk exports become one kind of export among others (a portfolio's PDF, a person's own data),
# keeping their table, their rows and their ZIPs: every existing row is a bulk export.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def count_portfolios(apps, schema_editor):
    """An existing bulk export's total is its number of portfolios."""
    Export = apps.get_model("records", "Export")
    for export in Export.objects.only("pk", "portfolio_ids"):
        Export.objects.filter(pk=export.pk).update(total=len(export.portfolio_ids))


class Migration(migrations.Migration):

    dependencies = [
        ('portfolio', '0008_evidence_file_checked'),
        ('records', '0001_initial'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RenameModel('BulkExport', 'Export'),
        migrations.AddField(
            model_name='export',
            name='kind',
            field=models.CharField(choices=[('bulk', 'Portfolio PDFs as one ZIP'), ('pdf', 'Portfolio PDF'), ('data', 'Everything held about you')], default='bulk', max_length=10),
        ),
        migrations.AddField(
            model_name='export',
            name='portfolio',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='portfolio.portfolio'),
        ),
        migrations.AlterField(
            model_name='export',
            name='portfolio_ids',
            field=models.JSONField(default=list, help_text='The portfolios of a bulk export.'),
        ),
        migrations.AddField(
            model_name='export',
            name='total',
            field=models.PositiveIntegerField(default=1),
        ),
        migrations.AddField(
            model_name='export',
            name='reuse_key',
            field=models.CharField(blank=True, help_text='What the file shows, digested: a later request for the same reuses the file.', max_length=64),
        ),
        migrations.AddField(
            model_name='export',
            name='started_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='export',
            name='heartbeat_at',
            field=models.DateTimeField(blank=True, help_text='When the worker building it last reported progress.', null=True),
        ),
        migrations.RunPython(count_portfolios, migrations.RunPython.noop, elidable=True),
        migrations.AddIndex(
            model_name='export',
            index=models.Index(condition=models.Q(('status', 'done')), fields=['portfolio', 'kind', 'reuse_key'], name='ready_export_by_key'),
        ),
        migrations.AddConstraint(
            model_name='export',
            constraint=models.UniqueConstraint(condition=models.Q(('portfolio__isnull', False), ('status__in', ['queued', 'running'])), fields=('requested_by', 'kind', 'portfolio'), name='one_unfinished_export_per_portfolio'),
        ),
        migrations.AddConstraint(
            model_name='export',
            constraint=models.UniqueConstraint(condition=models.Q(('kind', 'data'), ('status__in', ['queued', 'running'])), fields=('requested_by', 'kind'), name='one_unfinished_data_export'),
        ),
    ]
