# Bulk exports move here from portfolio, keeping their table and every row: only Django's record
# of which app holds them changes. The content types of every model moved in this release follow
# them, so the admin's history and any permission granted on them stay attached.

import django.db.models.deletion
import records.models
from django.conf import settings
from django.db import migrations, models

MOVED = [
    ('assessments', 'audit', ['auditentry', 'audithead']),
    ('assessments', 'portfolio', ['eqagrant']),
    ('portfolio', 'records', ['bulkexport']),
]


def move_content_types(apps, schema_editor, *, backwards=False):
    ContentType = apps.get_model('contenttypes', 'ContentType')
    for old, new, names in MOVED:
        old, new = (new, old) if backwards else (old, new)
        taken = ContentType.objects.filter(app_label=new).values('model')
        moving = ContentType.objects.filter(app_label=old, model__in=names)
        moving.exclude(model__in=taken).update(app_label=new)


def move_content_types_back(apps, schema_editor):
    move_content_types(apps, schema_editor, backwards=True)


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('assessments', '0006_audit_and_eqa_grant_moved_out'),
        ('audit', '0001_initial'),
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
