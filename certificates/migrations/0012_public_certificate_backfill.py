"""Build the public row of every existing certificate (issue #16)."""

from django.db import migrations


def backfill(apps, schema_editor):
    # The payload is the public API's JSON, built by the live code (certificates.public); an
    # empty database (tests, new installs) never reaches it, so later schema changes to
    # Certificate cannot break this migration there.
    if not apps.get_model("certificates", "Certificate").objects.exists():
        return
    from certificates.public_rows import public_rows_refresh_all

    public_rows_refresh_all()


class Migration(migrations.Migration):
    dependencies = [("certificates", "0011_public_certificate")]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
