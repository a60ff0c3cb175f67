"""Build the public row of every existing certificate (issue #16)."""

from django.db import migrations


def backfill(apps, schema_editor):
    # The payload is the public API's JSON, built by the live code (certificates.public): it
    # runs only when the tables have the live models' columns (public_rows_backfill); 0014
    # rebuilds the rows again once its column exists.
    if not apps.get_model("certificates", "Certificate").objects.exists():
        return
    from certificates.public_rows import public_rows_backfill

    public_rows_backfill(schema_editor)


class Migration(migrations.Migration):
    dependencies = [("certificates", "0011_public_certificate")]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
