"""Public pages for anonymous readers, built from a frame rendered once (issue #16).

A public page such as the certificate search is mostly the site layout and fixed text: for an
anonymous reader the header, the navigation, the footer with its language switch and the
page's own fixed parts depend only on the language and the CB profile. Rendering them on every
request cost more than the rest of the request together, so :func:`render_public` renders each
page once per template, language and CB profile with its varying parts left as holes (the
*frame*), keeps it in this process, and per request fills the holes: the parts the view
rendered (the results), the reader's query, the language form's ``next`` path. Nothing a frame
holds can go stale: its key is everything it was rendered from (templates, translations and
URLs do not change while the process runs).

Only readers without a session cookie and without a messages cookie get the frame
(:func:`anonymous_reader`): for them the layout shows no user, no staff or client navigation
and no message, and neither the session nor the user is loaded. Everyone else gets the whole
template through ``render``; for an anonymous reader both give the same HTML
(tests/certbody/test_public_layout.py).

:func:`fragment` keeps rendered parts the same way, under a key that names what they are made
of (a public row's ETag and the language): such a key cannot point to stale HTML.
"""

import re
from collections.abc import Callable, Mapping, Sequence
from threading import Lock
from typing import TypeVar

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.contrib.messages.storage.cookie import CookieStorage
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.template.loader import get_template
from django.utils import translation
from django.utils.html import conditional_escape, escape

from certbody.models import CertificationBody

T = TypeVar("T")

# The frame's holes: NUL characters never reach a page otherwise (a query has them stripped,
# a path is percent-encoded), and holes are found once, when the frame is built.
_HOLE = "\x00{}\x00"
_HOLES = re.compile(r"\x00(\w+)\x00")
# Frames kept per process: pages × languages × CB profile versions seen (a new profile's
# frames replace the old ones when this is reached).
MAX_FRAMES = 64

# Fragments kept per process (a certificate's results, its QR page's facts: a few KB each);
# the oldest go first when this is reached.
MAX_FRAGMENTS = 4096

_frames: dict[tuple, tuple[str, ...]] = {}
_fragments: dict[tuple, object] = {}
_lock = Lock()


def anonymous_reader(request: HttpRequest) -> bool:
    """True when ``request`` carries neither a session cookie nor a messages cookie: its reader
    is anonymous (``AuthenticationMiddleware`` finds users in the session only) and has no
    message waiting, so the layout shows them nothing of their own."""
    cookies = request.COOKIES
    return settings.SESSION_COOKIE_NAME not in cookies and CookieStorage.cookie_name not in cookies


class _FrameRequest:
    """What the layout reads of the request while the frame is rendered."""

    def get_full_path(self) -> str:
        return _HOLE.format("next")


def _cb_profile() -> tuple[CertificationBody | None, tuple | None]:
    """The CB profile as the ``certification_body`` context processor gives it, and the values
    of all its columns (the frame's key)."""
    try:
        body = CertificationBody.get()
    except CertificationBody.DoesNotExist:
        return None, None
    return body, tuple(getattr(body, f.attname) for f in body._meta.concrete_fields)


def _frame(template_name: str, fill: tuple[str, ...], language: str) -> tuple[str, ...]:
    """The page ``template_name`` rendered for an anonymous reader in ``language`` with the
    values ``fill`` left as holes, split into (text, hole name, text, …, text)."""
    body, profile = _cb_profile()
    key = (template_name, fill, language, profile)
    frame = _frames.get(key)
    if frame is not None:
        return frame
    context = {
        "cb": body,
        "user": AnonymousUser(),
        "request": _FrameRequest(),
        "messages": (),
        "csrf_token": _HOLE.format("csrf_token"),
        **{name: _HOLE.format(name) for name in fill},
    }
    with translation.override(language):
        html = get_template(template_name).render(context)
    frame = tuple(_HOLES.split(html))
    with _lock:
        if len(_frames) >= MAX_FRAMES:
            _frames.clear()
        _frames[key] = frame
    return frame


def frames_clear() -> None:
    """Forget every frame and fragment of this process (tests that change templates or
    settings)."""
    with _lock:
        _frames.clear()
        _fragments.clear()


@receiver(setting_changed)
def _setting_changed(**kwargs) -> None:
    # Frames and fragments hold what the settings made of them (languages, URLs, templates):
    # tests that override settings must not see those of another test.
    frames_clear()


def fragment(key: tuple, render: Callable[[], T]) -> T:
    """What ``render()`` returns (rendered HTML, or a tuple of it), kept in this process
    under ``key`` (a hashable tuple) and returned from there next time.

    ``key`` must name everything the result is made of, so that a change gives a new key
    instead of stale HTML: e.g. ``("verify", etag, token, language)`` for a certificate's
    search result, whose public row's ETag is a digest of its payloads. At most
    ``MAX_FRAGMENTS`` are kept, the oldest dropped first."""
    try:
        return _fragments[key]
    except KeyError:
        pass
    value = render()
    with _lock:
        while len(_fragments) >= MAX_FRAGMENTS:
            del _fragments[next(iter(_fragments))]
        _fragments[key] = value
    return value


def render_public(
    request: HttpRequest, template_name: str, context: Mapping, *, fill: Sequence[str]
) -> HttpResponse:
    """The page ``template_name`` (extending ``base.html``) with ``context``, as
    ``render(request, template_name, context)`` gives it.

    ``fill`` names the values of ``context`` that vary per request; the page must print each of
    them plainly (``{{ name }}``: no filter, no test, no lookup on it). A value is a string,
    escaped when printed, or HTML rendered by the view (``render_to_string`` gives a safe
    string), e.g. the results of a search.

    For an :func:`anonymous_reader` everything else comes from this process's frame of the
    page; for anyone else the whole template is rendered.
    """
    if not anonymous_reader(request):
        return render(request, template_name, context)
    frame = _frame(template_name, tuple(fill), translation.get_language() or "zh-hans")
    values = {name: conditional_escape(context[name]) for name in fill}
    values["next"] = escape(request.get_full_path())
    if "csrf_token" in frame[1::2]:  # a form of the page's own (the layout's needs none)
        values["csrf_token"] = get_token(request)
    # frame: text, hole, text, hole, …, text
    return HttpResponse(
        "".join(piece if i % 2 == 0 else values[piece] for i, piece in enumerate(frame))
    )
