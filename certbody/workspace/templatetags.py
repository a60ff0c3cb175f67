"""Template helpers for the staff workspace: masked personal data and permission checks."""

from django import template

from certbody import badges, masking

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


@register.filter
def state_badge(obj, field=""):
    """``{{ object|state_badge }}`` (or ``|state_badge:"status"``): the state's badge with its
    colour and icon (``certbody.badges``)."""
    return badges.state_badge(obj, field)


@register.filter
def badge_icon(value, model_name=""):
    """``{{ certificate.status|badge_icon }}``: the icon of a state's tone (✓ ● ! ✕ ○)."""
    return badges.ICONS[badges.tone(value, model_name)]
