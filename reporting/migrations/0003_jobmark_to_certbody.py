# JobMark moved to certbody (certbody 0009), keeping its table "reporting_jobmark" and its rows:
# the model leaves reporting's state only; the table is not dropped.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("reporting", "0002_admin_protect_evidence"),
        ("certbody", "0009_jobmark"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="JobMark")],
            database_operations=[],
        ),
    ]
