"""Template helpers for the staff workspace: masked personal data and permission checks."""

from django import template

from certbody import masking

register = template.Library()


@register.filter
def mask_id(value, user):
    """``{{ value|mask_id:request.user }}``: the ID number, masked unless the user may see it."""
    return value if masking.can_see_personal_data(user) else masking.mask_id_number(value)


@register.filter
def mask_phone(value, user):
    """``{{ value|mask_phone:request.user }}``: the phone, masked unless the user may see it."""
    return value if masking.can_see_personal_data(user) else masking.mask_phone(value)


@register.simple_tag(takes_context=True)
def can(context, permission, obj=None):
    """``{% can "audits.score" audit as allowed %}``: the policy answer for the current user."""
    request = context.get("request")
    return bool(request and request.user.has_perm(permission, obj))
