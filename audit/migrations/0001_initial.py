# The audit trail's models move here from assessments, keeping their tables and every row: only
# Django's record of which app holds them changes.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def move_content_types(apps, schema_editor, backwards=False):
    """The moved models' content types follow them, keeping their ids, so that the admin's
    history and any permission granted on them stay attached. Going back (a rollback, which
    restoring the old release's backup does better) leaves any that the old app has again."""
    source, target = ('audit', 'assessments') if backwards else ('assessments', 'audit')
    ContentType = apps.get_model("contenttypes", "ContentType")
    moving = ContentType.objects.filter(app_label=source, model__in=['auditentry', 'audithead'])
    there = ContentType.objects.filter(app_label=target, model__in=['auditentry', 'audithead'])
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
        ('assessments', '0005_sample_rates'),
        ('contenttypes', '0002_remove_content_type_name'),
        ('portfolio', '0005_bulk_export_removed'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='AuditHead',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('sequence', models.PositiveBigIntegerField(default=0)),
                        ('hash', models.CharField(max_length=64)),
                    ],
                    options={
                        'db_table': 'assessments_audithead',
                    },
                ),
                migrations.CreateModel(
                    name='AuditEntry',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('sequence', models.PositiveBigIntegerField(unique=True)),
                        ('created_at', models.DateTimeField()),
                        ('actor_label', models.CharField(help_text='Who acted, as they were named then.', max_length=200)),
                        ('action', models.CharField(max_length=60)),
                        ('object_type', models.CharField(blank=True, max_length=60)),
                        ('object_id', models.CharField(blank=True, max_length=40)),
                        ('summary', models.CharField(max_length=300)),
                        ('data', models.JSONField(default=dict)),
                        ('previous_hash', models.CharField(max_length=64)),
                        ('hash', models.CharField(max_length=64)),
                        ('actor', models.ForeignKey(null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('portfolio', models.ForeignKey(null=True, on_delete=django.db.models.deletion.PROTECT, related_name='audit_entries', to='portfolio.portfolio')),
                    ],
                    options={
                        'verbose_name_plural': 'audit entries',
                        'db_table': 'assessments_auditentry',
                        'ordering': ['sequence'],
                    },
                ),
            ],
        ),
        migrations.RunPython(move_content_types, move_content_types_back),
    ]
