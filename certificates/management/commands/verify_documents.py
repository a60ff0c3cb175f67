"""``manage.py verify_documents [--regenerate]``: re-check every issued document.

Reads every stored certificate, notice (``CertificateDocument``) and audit report and compares
its SHA-256 with the digest recorded when it was issued. Prints one line per missing or altered
file and exits non-zero when there is any (for cron or monitoring); a broken document already
replaced by a regenerated version is listed but not counted. Pending documents (not rendered
yet) are counted and listed with their last error.

``--regenerate``: for each broken certificate or notice not yet replaced, make the new version
from its recorded content (``certificates.pdf.certificate_document_regenerate``, as the system
user: same number and text, a new file with its own hash, the old row kept, no CNCA event) and
render it at once. Audit reports are not regenerated here: the team leader signs a new version.
"""

from django.core.management.base import BaseCommand, CommandError

from audits.models import AuditReport
from certbody import uploads
from certbody.lifecycle import RuleViolation, system_user
from certificates import pdf
from certificates.models import CertificateDocument


class Command(BaseCommand):
    help = "Check the SHA-256 of every issued document; optionally regenerate broken ones."

    def add_arguments(self, parser):
        parser.add_argument(
            "--regenerate",
            action="store_true",
            help="make a new version of each broken certificate or notice from its record",
        )

    def handle(self, *args, regenerate=False, **options):
        checked = broken = 0
        for document in (
            CertificateDocument.objects.filter(state=CertificateDocument.State.STORED)
            .select_related("certificate", "decision", "appeal")
            .prefetch_related("replacements")
            .order_by("pk")
        ):
            checked += 1
            problem = pdf.document_problem(document)
            if not problem:
                continue
            replacement = next(iter(document.replacements.all()), None)
            label = pdf.describe(document)
            if replacement is not None:
                self.stdout.write(f"{label}: {problem} (replaced by #{replacement.pk})")
                continue
            broken += 1
            self.stdout.write(self.style.ERROR(f"{label}: {problem}"))
            if regenerate:
                broken -= self._regenerate(document)
        for report in AuditReport.objects.select_related("audit").order_by("pk"):
            checked += 1
            problem = uploads.file_problem(report.file, report.sha256)
            if problem:
                broken += 1
                self.stdout.write(
                    self.style.ERROR(
                        f"{report.get_kind_display()} v{report.version} {report.audit} "
                        f"(audit report #{report.pk}): {problem}"
                    )
                )
        pending = CertificateDocument.objects.filter(state=CertificateDocument.State.PENDING)
        for document in pending.order_by("pk"):
            error = f": {document.last_error}" if document.last_error else ""
            self.stdout.write(
                f"{pdf.describe(document)}: pending, {document.attempts} attempt(s){error}"
            )
        self.stdout.write(
            f"{checked} document(s) checked, {broken} broken, {pending.count()} pending"
        )
        if broken:
            raise CommandError(f"{broken} document(s) missing or altered")

    def _regenerate(self, document) -> int:
        """1 when the document's new version is stored now, else 0."""
        try:
            new = pdf.certificate_document_regenerate(document=document, actor=system_user())
        except RuleViolation as exc:
            self.stdout.write(self.style.WARNING(f"  not regenerated: {exc}"))
            return 0
        if pdf.document_render(document_id=new.pk):
            new.refresh_from_db()
            self.stdout.write(
                self.style.SUCCESS(f"  regenerated as #{new.pk} (SHA-256 {new.sha256})")
            )
            return 1
        new.refresh_from_db()
        self.stdout.write(
            self.style.WARNING(f"  new version #{new.pk} pending: {new.last_error or 'queued'}")
        )
        return 0
