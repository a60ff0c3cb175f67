"""Fill each auditor's registration type from their qualification (004 §4.2; 002 §4.3.6.2).

Auditors, senior auditors and trainees hold the registration of the same kind; technical
experts hold none. Runs on rows only (no history row: the type was implied before).
"""

from django.db import migrations

TYPE_FOR = {
    "senior_auditor": "senior_auditor",
    "auditor": "auditor",
    "trainee": "trainee",
}


def fill(apps, schema_editor):
    Auditor = apps.get_model("audits", "Auditor")
    for qualification, registration_type in TYPE_FOR.items():
        Auditor.objects.filter(qualification=qualification, registration_type="").update(
            registration_type=registration_type
        )


class Migration(migrations.Migration):
    dependencies = [("audits", "0011_auditor_registrations_training_witnessed")]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
