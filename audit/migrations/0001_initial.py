# The audit trail's models move here from assessments, keeping their tables and every row: only
# Django's record of which app holds them changes.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('assessments', '0005_sample_rates'),
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
    ]
