from certbody.models import CertificationBody


def certification_body(request):
    """Expose the CB's profile to templates as ``cb`` (None before it is configured)."""
    try:
        return {"cb": CertificationBody.get()}
    except CertificationBody.DoesNotExist:
        return {"cb": None}
