from certbody.models import CertificationBody


def certification_body(request):
    """Expose the CB's profile to templates as ``cb`` (None before it is configured)."""
    try:
        return {"cb": CertificationBody.get()}
    except CertificationBody.DoesNotExist:
        return {"cb": None}


def workspace_navigation(request):
    """The workspace lists the signed-in staff member may open (top navigation), flat and
    grouped (clients and applications · audits · certificates · reporting)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.is_staff:
        return {}

    from certbody.workspace import desks_for, nav_groups

    desks = desks_for(user)
    return {"workspace_desks": desks, "workspace_groups": nav_groups(user, desks)}


# Client portal navigation: apps add their pages with ``register_portal_link`` in ready().
PORTAL_LINKS: list[tuple[int, str, str]] = []
# url_name → applies(user) -> bool: a link offered only where it applies (issue #14).
PORTAL_LINK_APPLIES: dict = {}


def register_portal_link(order: int, label, url_name: str, applies=None) -> None:
    """Add a link to the client portal's navigation (``url_name`` reversed without args);
    ``applies(user) -> bool``, when given, offers it only to the users it applies to."""
    if not any(name == url_name for _, _, name in PORTAL_LINKS):
        PORTAL_LINKS.append((order, label, url_name))
        PORTAL_LINKS.sort(key=lambda link: link[0])
    if applies is not None:
        PORTAL_LINK_APPLIES[url_name] = applies


def portal_navigation(request):
    """The portal links for a signed-in client user."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or user.is_staff:
        return {}
    from django.urls import reverse

    return {
        "portal_links": [
            (label, reverse(name))
            for _, label, name in PORTAL_LINKS
            if name not in PORTAL_LINK_APPLIES or PORTAL_LINK_APPLIES[name](user)
        ]
    }
