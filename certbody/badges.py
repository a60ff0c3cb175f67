"""Status badges: one look for every state and status in lists, object pages and the portal.

A badge is the state's label in the reader's language with a colour *and* an icon (colour is
never the only signal, WCAG 1.4.1): ✓ done or in force, ● in progress or waiting on someone,
! needs attention, ✕ ended badly, ○ ended or archived. The tone is read from the state's value,
with the few model-specific meanings below (a withdrawn application is the client's choice,
a withdrawn certificate is a sanction).
"""

from django.utils.html import format_html
from django.utils.safestring import SafeString

OK, INFO, WARN, BAD, NEUTRAL = "ok", "info", "warn", "bad", "neutral"
ICONS = {OK: "✓", INFO: "●", WARN: "!", BAD: "✕", NEUTRAL: "○"}

TONE_BY_VALUE = {
    # done, in force
    "valid": OK,
    "accepted": OK,
    "signed": OK,
    "confirmed": OK,
    "approved": OK,
    "notified": OK,
    "completed": OK,
    "handled": OK,
    "decided": OK,
    "plan_accepted": OK,
    "stored": OK,
    "sent": OK,
    "submitted": OK,
    "active": OK,
    # in progress, waiting on someone
    "draft": INFO,
    "planned": INFO,
    "in_progress": INFO,
    "under_review": INFO,
    "under_investigation": INFO,
    "received": INFO,
    "acknowledged": INFO,
    "answered": INFO,
    "generated": INFO,
    "pending": INFO,
    # needs attention
    "suspended": WARN,
    "open": WARN,
    # ended badly
    "withdrawn": BAD,
    "cancelled": BAD,
    "expired": BAD,
    "superseded": BAD,
    "rejected": BAD,
    "terminated": BAD,
    "failed": BAD,
    "declined": BAD,
    # ended, archived
    "closed": NEUTRAL,
    "ended": NEUTRAL,
    "dismissed": NEUTRAL,
}

# (model_name, value) whose meaning differs from the value's usual one.
TONE_BY_MODEL = {
    ("application", "submitted"): INFO,  # waiting for the market department's review
    ("application", "withdrawn"): NEUTRAL,  # the applicant's own choice
    ("nonconformity", "closed"): OK,  # verified and closed (004 §5.10.4)
    ("nonconformity", "rejected"): WARN,  # the answer goes back to the client
}


def tone(value: str, model_name: str = "") -> str:
    """The tone ("ok", "info", "warn", "bad" or "neutral") of a state ``value`` of the model
    ``model_name`` (``Model._meta.model_name``); "neutral" for a value not listed."""
    return TONE_BY_MODEL.get((model_name, value)) or TONE_BY_VALUE.get(value, NEUTRAL)


def badge(value: str, label, *, model_name: str = "", css: str = "") -> SafeString:
    """The badge HTML for a state: ``value`` (the stored code), ``label`` (its display text,
    escaped here), the tone's icon hidden from screen readers (the label says it all).
    ``css``: extra classes (the certificates' ``status-<status>``)."""
    shade = tone(value, model_name)
    classes = f"badge tone-{shade} {css}".strip()
    return format_html(
        '<span class="{}" data-state="{}"><span class="badge-icon" aria-hidden="true">{}</span>'
        "{}</span>",
        classes,
        value,
        ICONS[shade],
        label,
    )


def state_badge(obj, field: str = "") -> SafeString:
    """The badge of ``obj``'s ``field`` (default: ``state``, else ``status``) with its choice
    label, e.g. ``state_badge(application)``."""
    if not field:
        field = "state" if hasattr(obj, "state") else "status"
    value = getattr(obj, field)
    label = getattr(obj, f"get_{field}_display")()
    return badge(value, label, model_name=obj._meta.model_name)
