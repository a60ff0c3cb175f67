"""The QR page reads the successor's token from the public row (issue #16)."""

from django.db import migrations, models


def backfill(apps, schema_editor):
    # Every public row rebuilt by the live code now that its new column exists (0012 skips the
    # rebuild when it runs before this column, e.g. when the history is replayed).
    if not apps.get_model("certificates", "Certificate").objects.exists():
        return
    from certificates.public_rows import public_rows_backfill

    public_rows_backfill(schema_editor)


class Migration(migrations.Migration):
    dependencies = [("certificates", "0013_certificate_certificates_in_force_expiry")]

    operations = [
        migrations.AddField(
            model_name="publiccertificate",
            name="successor_token",
            field=models.CharField(blank=True, default="", max_length=40),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
