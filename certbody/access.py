"""The one helper that scopes querysets to what a user may see (style.md "Views are thin")."""

from django.db.models import QuerySet


def visible_to(queryset: QuerySet, user, organization_path: str = "organization") -> QuerySet:
    """Rows of ``queryset`` the user may see: all for active staff, their organisation's for a
    client user, none otherwise. ``organization_path`` is the lookup from the model to its
    Organization (e.g. "certificate__organization")."""
    if not user.is_authenticated or not user.is_active:
        return queryset.none()
    if user.is_staff:
        return queryset
    if user.organization_id is None:
        return queryset.none()
    return queryset.filter(**{f"{organization_path}_id": user.organization_id})
