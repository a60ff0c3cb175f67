"""Contracts drafted before the fee schedule carried one lump ``fee``: it becomes their audit
fee, so that the schedule adds up to the stored total (``fee`` stays the total)."""

from django.db import migrations
from django.db.models import F


def fee_to_audit_fee(apps, schema_editor):
    Contract = apps.get_model("applications", "Contract")
    Contract.objects.filter(
        application_fee=0, audit_fee=0, certificate_fee=0, surveillance_fee=0
    ).update(audit_fee=F("fee"))


def audit_fee_to_fee(apps, schema_editor):
    pass  # the total was kept: nothing to undo


class Migration(migrations.Migration):
    dependencies = [
        ("applications", "0006_contract_fee_schedule_invoices_payments"),
    ]

    operations = [migrations.RunPython(fee_to_audit_fee, audit_fee_to_fee)]
