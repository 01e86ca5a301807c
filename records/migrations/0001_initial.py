# Bulk exports move here from portfolio, keeping their table and every row: only Django's record
# of which app holds them changes.

import django.db.models.deletion
import records.models
from django.conf import settings
from django.db import migrations, models


def move_content_types(apps, schema_editor, backwards=False):
    """The moved models' content types follow them, keeping their ids, so that the admin's
    history and any permission granted on them stay attached. Going back (a rollback, which
    restoring the old release's backup does better) leaves any that the old app has again."""
    source, target = ('records', 'portfolio') if backwards else ('portfolio', 'records')
    ContentType = apps.get_model("contenttypes", "ContentType")
    moving = ContentType.objects.filter(app_label=source, model__in=['bulkexport'])
    there = ContentType.objects.filter(app_label=target, model__in=['bulkexport'])
    if backwards:
        moving = moving.exclude(model__in=there.values("model"))
    elif there.exists() and moving.exists():
        raise RuntimeError(
            f"The content types {sorted(there.values_list('model', flat=True))} exist under "
            f"both {source} and {target}: a migration was rolled back part way. Restore the "
            "backup taken before the upgrade, then migrate."
        )
    moving.update(app_label=target)


def move_content_types_back(apps, schema_editor):
    move_content_types(apps, schema_editor, backwards=True)


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        ('portfolio', '0006_eqa_grant_from_assessments'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='BulkExport',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('portfolio_ids', models.JSONField(default=list)),
                        ('status', models.CharField(choices=[('queued', 'Waiting to start'), ('running', 'Building'), ('done', 'Ready to download'), ('failed', 'Failed'), ('removed', 'Removed')], default='queued', max_length=10)),
                        ('done', models.PositiveIntegerField(default=0)),
                        ('file', models.FileField(blank=True, max_length=300, storage=records.models._evidence_storage, upload_to='')),
                        ('size', models.PositiveBigIntegerField(default=0)),
                        ('error', models.TextField(blank=True)),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('finished_at', models.DateTimeField(blank=True, null=True)),
                        ('removed_at', models.DateTimeField(blank=True, null=True)),
                        ('requested_by', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'db_table': 'portfolio_bulkexport',
                        'ordering': ['-created_at', '-pk'],
                    },
                ),
            ],
        ),
        migrations.RunPython(move_content_types, move_content_types_back),
    ]
