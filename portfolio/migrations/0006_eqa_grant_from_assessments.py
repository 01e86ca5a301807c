# EQA access grants move here from assessments (they are access rules), and bulk exports move to
# records. Both keep their tables and every row: only Django's record of which app holds them
# changes.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def move_content_types(apps, schema_editor, backwards=False):
    """The moved models' content types follow them, keeping their ids, so that the admin's
    history and any permission granted on them stay attached. Going back (a rollback, which
    restoring the old release's backup does better) leaves any that the old app has again."""
    source, target = ('portfolio', 'assessments') if backwards else ('assessments', 'portfolio')
    ContentType = apps.get_model("contenttypes", "ContentType")
    moving = ContentType.objects.filter(app_label=source, model__in=['eqagrant'])
    there = ContentType.objects.filter(app_label=target, model__in=['eqagrant'])
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

    dependencies = [
        ('assessments', '0005_sample_rates'),
        ('contenttypes', '0002_remove_content_type_name'),
        ('portfolio', '0005_bulk_export_removed'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='EqaGrant',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('whole_centre', models.BooleanField(default=False, help_text='Every portfolio of the centre, including ones added later.')),
                        ('expires_at', models.DateTimeField()),
                        ('reason', models.CharField(blank=True, help_text='For example the visit date.', max_length=300)),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('eqa', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='eqa_grants', to=settings.AUTH_USER_MODEL, verbose_name='external quality assurer')),
                        ('granted_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('portfolios', models.ManyToManyField(blank=True, related_name='eqa_grants', to='portfolio.portfolio')),
                    ],
                    options={
                        'verbose_name': 'EQA access grant',
                        'db_table': 'assessments_eqagrant',
                        'ordering': ['-expires_at'],
                    },
                ),
                migrations.DeleteModel(
                    name='BulkExport',
                ),
            ],
        ),
        migrations.RunPython(move_content_types, move_content_types_back),
    ]
