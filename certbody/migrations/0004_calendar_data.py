from django.db import migrations


def load(apps, schema_editor):
    from certbody.workdays import load_package_calendar

    load_package_calendar(
        apps.get_model("certbody", "CalendarDay"), apps.get_model("certbody", "CalendarYear")
    )


class Migration(migrations.Migration):
    dependencies = [("certbody", "0003_calendar")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
