# One chain per learner and one for the centre, keyed with AUDIT_KEY. Every entry written before
# stays as it was, hash and all: those entries are version 1 (plain SHA-256) and begin the
# centre's chain, whose head, the one row there was, is sealed with the key here.

import hashlib
import hmac
import json

import pgtrigger.compiler
import pgtrigger.migrations
from django.conf import settings
from django.db import migrations, models


def seal_heads(apps, schema_editor):
    """The seal as audit.chain makes it, frozen here."""
    AuditHead = apps.get_model("audit", "AuditHead")
    for head in AuditHead.objects.all():
        payload = {"chain": head.chain, "sequence": head.sequence, "hash": head.hash}
        canonical = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
        head.seal = hmac.new(settings.AUDIT_KEY.encode(), canonical, hashlib.sha256).hexdigest()
        head.save(update_fields=["seal"])


class Migration(migrations.Migration):

    dependencies = [
        ('audit', '0001_initial'),
        ('portfolio', '0006_eqa_grant_from_assessments'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterModelOptions(
            name='auditentry',
            options={'ordering': ['created_at', 'id'], 'verbose_name_plural': 'audit entries'},
        ),
        migrations.AddField(
            model_name='auditentry',
            name='chain',
            field=models.CharField(default='centre', help_text='"centre" or "learner-<id>".', max_length=40),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name='auditentry',
            name='personal_digest',
            field=models.CharField(blank=True, help_text="Keyed digest of the actor's label, summary and data.", max_length=64),
        ),
        migrations.AddField(
            model_name='auditentry',
            name='version',
            field=models.PositiveSmallIntegerField(choices=[(1, 'plain SHA-256 (before 0.2)'), (2, 'HMAC-SHA256 with the personal details digested apart')], default=1),
        ),
        migrations.AlterField(
            model_name='auditentry',
            name='version',
            field=models.PositiveSmallIntegerField(choices=[(1, 'plain SHA-256 (before 0.2)'), (2, 'HMAC-SHA256 with the personal details digested apart')], default=2),
        ),
        migrations.AddField(
            model_name='audithead',
            name='chain',
            field=models.CharField(default='centre', max_length=40, unique=True),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name='audithead',
            name='seal',
            field=models.CharField(default='', help_text='HMAC-SHA256 of chain, sequence and hash.', max_length=64),
            preserve_default=False,
        ),
        migrations.RunPython(seal_heads, migrations.RunPython.noop),
        migrations.AlterField(
            model_name='auditentry',
            name='sequence',
            field=models.PositiveBigIntegerField(),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='auditentry',
            trigger=pgtrigger.compiler.Trigger(name='append_only_no_delete', sql=pgtrigger.compiler.UpsertTriggerSql(func="RAISE EXCEPTION 'pgtrigger: Cannot delete rows from % table', TG_TABLE_NAME;", hash='a5b5f4b075e055639170fa49992170f6233fb745', operation='DELETE', pgid='pgtrigger_append_only_no_delete_40323', table='assessments_auditentry', when='BEFORE')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='auditentry',
            trigger=pgtrigger.compiler.Trigger(name='append_only_no_update', sql=pgtrigger.compiler.UpsertTriggerSql(condition="WHEN (NOT (NEW.actor_label = '[erased]' AND NEW.summary = '[erased]' AND NEW.data = '{}'::jsonb AND (NEW.id, NEW.chain, NEW.sequence, NEW.version, NEW.created_at, NEW.actor_id, NEW.action, NEW.portfolio_id, NEW.object_type, NEW.object_id, NEW.personal_digest, NEW.previous_hash, NEW.hash) IS NOT DISTINCT FROM (OLD.id, OLD.chain, OLD.sequence, OLD.version, OLD.created_at, OLD.actor_id, OLD.action, OLD.portfolio_id, OLD.object_type, OLD.object_id, OLD.personal_digest, OLD.previous_hash, OLD.hash)))", func="RAISE EXCEPTION 'pgtrigger: Cannot update rows from % table', TG_TABLE_NAME;", hash='342fed074dca00b0d875b6b761d9ecd97566c55d', operation='UPDATE', pgid='pgtrigger_append_only_no_update_08d46', table='assessments_auditentry', when='BEFORE')),
        ),
        migrations.AddConstraint(
            model_name='auditentry',
            constraint=models.UniqueConstraint(fields=('chain', 'sequence'), name='audit_entry_in_chain_once'),
        ),
    ]
