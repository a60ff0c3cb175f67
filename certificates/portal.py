"""Client portal: a client user's certificates and documents (002 §4.1.2)."""

from django.contrib.auth.decorators import login_required
from django.http import FileResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET

from certbody.access import visible_to
from certificates.models import Certificate, CertificateDocument


@login_required
@require_GET
def home(request):
    """The client's certificates with their documents; staff go to their own workspace."""
    if request.user.is_staff:
        return redirect("home")
    certificates = (
        visible_to(Certificate.objects.all(), request.user)
        .select_related("head", "organization")
        .prefetch_related("documents")
        .order_by("-issued_on", "number")  # a head, then its -1, -2 … sub-certificates
    )
    return render(request, "certificates/portal.html", {"certificates": certificates})


@login_required
@require_GET
def download(request, pk: int):
    """Serve one issued document; 404 when it belongs to another organisation."""
    document = get_object_or_404(
        visible_to(
            CertificateDocument.objects.select_related("certificate"),
            request.user,
            "certificate__organization",
        ),
        pk=pk,
    )
    response = FileResponse(
        document.file.open("rb"),
        content_type="application/pdf",
        as_attachment=True,
        filename=document.file.name.rsplit("/", 1)[-1],
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response
