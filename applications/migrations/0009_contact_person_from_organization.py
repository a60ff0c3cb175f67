"""Each existing organisation's contact (``Organization.contact_*``) becomes its primary
``ContactPerson``, so the organisation page lists every contact in one place."""

from django.db import migrations


def forwards(apps, schema_editor):
    Organization = apps.get_model("applications", "Organization")
    ContactPerson = apps.get_model("applications", "ContactPerson")
    have = set(ContactPerson.objects.values_list("organization_id", flat=True))
    ContactPerson.objects.bulk_create(
        ContactPerson(
            organization_id=org.pk,
            name=org.contact_name,
            phone=org.contact_phone,
            email=org.contact_email,
            is_primary=True,
        )
        for org in Organization.objects.exclude(pk__in=have).exclude(contact_name="").iterator()
    )


class Migration(migrations.Migration):
    dependencies = [("applications", "0008_contact_person")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
