from django.core.management.base import BaseCommand

from certbody.models import BusinessScope, CncaCode
from certbody.reference import load_reference_data


class Command(BaseCommand):
    help = "Load (or refresh) business scope categories and CNCA code tables from certbody/data."

    def handle(self, *args, **options):
        scopes, codes = load_reference_data(BusinessScope, CncaCode)
        self.stdout.write(f"reference data: {scopes} business scope categories, {codes} CNCA codes")
