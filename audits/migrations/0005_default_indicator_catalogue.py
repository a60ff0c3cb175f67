from django.db import migrations


def load(apps, schema_editor):
    from audits.catalogue import ensure_default_catalogue

    ensure_default_catalogue(
        apps.get_model("audits", "IndicatorCatalogue"), apps.get_model("audits", "Indicator")
    )


class Migration(migrations.Migration):
    dependencies = [("audits", "0004_score_sheets_nonconformities_reports")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
