from django.db import migrations


def load(apps, schema_editor):
    from certbody.reference import load_reference_data

    load_reference_data(apps.get_model("certbody", "BusinessScope"), apps.get_model("certbody", "CncaCode"))


def create_roles_and_system_user(apps, schema_editor):
    from certbody.roles import STAFF_ROLES, SYSTEM_USERNAME

    Group = apps.get_model("auth", "Group")
    for name in STAFF_ROLES:
        Group.objects.get_or_create(name=name)
    User = apps.get_model("certbody", "User")
    User.objects.get_or_create(
        username=SYSTEM_USERNAME,
        defaults={"display_name": "系统", "is_active": False, "password": "!"},
    )


class Migration(migrations.Migration):
    dependencies = [("certbody", "0001_initial")]

    operations = [
        migrations.RunPython(load, migrations.RunPython.noop),
        migrations.RunPython(create_roles_and_system_user, migrations.RunPython.noop),
    ]
