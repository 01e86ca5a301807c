# The audit trail moves to its own app and EQA access grants to portfolio; their tables stay as
# they are, so only Django's record of which app holds them changes.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('assessments', '0005_sample_rates'),
        ('audit', '0001_initial'),
        ('portfolio', '0006_eqa_grant_from_assessments'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name='AuditHead'),
                migrations.DeleteModel(name='AuditEntry'),
                migrations.DeleteModel(name='EqaGrant'),
            ],
        ),
    ]
