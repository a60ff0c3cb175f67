"""The QR page reads the successor's token from the public row (issue #16)."""

from django.db import migrations, models


def backfill(apps, schema_editor):
    Certificate = apps.get_model("certificates", "Certificate")
    PublicCertificate = apps.get_model("certificates", "PublicCertificate")
    superseded = Certificate.objects.filter(superseded_by__isnull=False).values_list(
        "pk", "superseded_by__token"
    )
    for pk, token in superseded.iterator():
        PublicCertificate.objects.filter(pk=pk).update(successor_token=token)


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
