"""The workspace's generic pages: list, object, action confirm and create, and the one
decorator every staff view asks the matrix through (``permission_required``)."""

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from certbody.workspace import desks as workspace
from certbody.workspace.crosslinks import crosslinks
from certbody.workspace.desks import get_desk, require
from certbody.workspace.history import history_for, history_rows
from certbody.workspace.tables import configure_table, export_response

PER_PAGE = 25


def permission_required(permission: str):
    """Log-in required, then ``permission`` (a ``certbody.policy.MATRIX`` name, asked through
    ``policy.allowed``) or 403 with ``policy.denial_message`` (who may do it). The one way a
    staff view asks who may use it; object-level checks inside the view use ``require``."""

    def decorate(view):
        @login_required
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            require(request.user, permission)
            return view(request, *args, **kwargs)

        return wrapped

    return decorate


# Log-in required; client users and the public get 403 (they have the portal).
staff_only = permission_required("certbody.use_workspace")


@staff_only
@require_GET
def desk_list(request, key: str):
    """A filtered, sorted, paginated list; ``?export=csv|xlsx`` downloads the filtered rows."""
    desk = get_desk(key)
    require(request.user, desk.permission)
    queryset = desk.queryset(request)
    filterset = None
    if desk.filterset_class is not None:
        filterset = desk.filterset_class(request.GET or None, queryset=queryset, request=request)
        queryset = filterset.qs
    # No ``request=``: django-tables2 would then read page/per_page/sort unvalidated itself.
    table = desk.table_class(queryset)
    export = request.GET.get("export")
    if export:
        configure_table(table, request, paginate=False)
        return export_response(table, title=desk.title, fmt=export, name=desk.key)
    configure_table(table, request, per_page=PER_PAGE)
    return render(
        request,
        "workspace/list.html",
        {
            "desk": desk,
            "table": table,
            "filter": filterset,
            "can_create": desk.create is not None and request.user.has_perm(desk.create.permission),
            "query": request.GET.urlencode(),
            "group_title": workspace.GROUPS.get(desk.group, ""),
        },
    )


def moved_on_url(request, desk, pk) -> str | None:
    """Where the object ``pk`` of ``desk``'s model now lives when it has left ``desk``'s list
    (a decision made, a request handled …): ``desk.moved_on(obj)``, else the page of the first
    other desk of the same model that holds it and that ``request.user`` may open. None when
    the object does not exist or no such place is open to the user (then the page is a 404)."""
    obj = desk.model._default_manager.filter(pk=pk).first()
    if obj is None:
        return None
    if desk.moved_on is not None:
        url = desk.moved_on(obj)
        if url:
            return url
    for other in workspace.DESKS.values():
        if (
            other.key != desk.key
            and other.model is desk.model
            and workspace.policy.allowed(request.user, other.permission)
            and other.queryset(request).filter(pk=pk).exists()
        ):
            return other.object_url(obj)
    return None


def _object_or_moved(request, desk, pk):
    """``(object, None)`` on this desk, or ``(None, redirect)`` to where a moved-on object now
    lives, with a message saying so; 404 when it is nowhere the user may look."""
    found = desk.queryset(request).filter(pk=pk).first()
    if found is not None:
        return found, None
    url = moved_on_url(request, desk, pk)
    if url is None:
        raise Http404(_("No such record."))
    messages.info(request, _("This item has moved on; this is where it is now."))
    return None, redirect(url)


@staff_only
@require_GET
def desk_object(request, key: str, pk: int):
    """The object's summary, related sections, offered transitions and full history."""
    desk = get_desk(key)
    require(request.user, desk.permission)
    obj, moved = _object_or_moved(request, desk, pk)
    if moved is not None:
        return moved
    context = {
        "desk": desk,
        "object": obj,
        "summary": desk.summary(obj, request.user) if desk.summary else [],
        "actions": desk.action_buttons(obj, request.user),
        "history": history_for((desk.history or history_rows)(obj), request.user),
        "group_title": workspace.GROUPS.get(desk.group, ""),
        "crosslinks": crosslinks(obj, request.user, desk_key=desk.key),
    }
    if desk.sections_context:
        context.update(desk.sections_context(obj, request))
    return render(request, "workspace/object.html", context)


@staff_only
@require_http_methods(["GET", "POST"])
def desk_action(request, key: str, pk: int, action: str):
    """Confirm and perform one transition; 403 without the permission, 409 when the object's
    state does not allow it."""
    desk = get_desk(key)
    require(request.user, desk.permission)
    obj, moved = _object_or_moved(request, desk, pk)
    if moved is not None:
        return moved
    act = desk.action(action)
    require(request.user, act.permission, obj)
    if not workspace._available(act, obj):
        return HttpResponse(
            _("This action is not possible in the current state."),
            status=409,
            content_type="text/plain; charset=utf-8",
        )
    data = request.POST if request.method == "POST" else None
    files = request.FILES if request.method == "POST" else None
    form = workspace.build_form(
        act.form_class, obj=obj, user=request.user, data=data, files=files, model=desk.model
    )
    error = ""
    # Said before the form is filled; the service decides on confirmation (issue #14).
    precheck = act.refusal(obj, request.user) if request.method == "GET" else ""
    if request.method == "POST" and (form is None or form.is_valid()):

        def call(cleaned):
            kwargs = {act.target: obj, "actor": request.user, **cleaned}
            if act.extra:
                kwargs.update(act.extra(obj, request.user))
            return act.service(**kwargs)

        result, error = workspace.run_service(form, call)
        if result is not None:
            messages.success(request, _("%(action)s: done.") % {"action": act.label})
            return workspace.back_to(desk, obj, act, result)
    status = 422 if request.method == "POST" else 200
    return render(
        request,
        "workspace/action.html",
        {
            "desk": desk,
            "object": obj,
            "action": act,
            "form": form,
            "error": error,
            "precheck": precheck,
        },
        status=status,
    )


@staff_only
@require_http_methods(["GET", "POST"])
def desk_create(request, key: str):
    """The "new …" page of a desk."""
    desk = get_desk(key)
    require(request.user, desk.permission)
    if desk.create is None:
        return redirect(desk.url())
    create = desk.create
    require(request.user, create.permission)
    data = request.POST if request.method == "POST" else None
    files = request.FILES if request.method == "POST" else None
    form = workspace.build_form(
        create.form_class, obj=None, user=request.user, data=data, files=files, model=desk.model
    )
    if request.method == "POST" and form.is_valid():

        def call(cleaned):
            kwargs = {"actor": request.user, **cleaned}
            if create.extra:
                kwargs.update(create.extra(request.user))
            return create.service(**kwargs)

        result, _error = workspace.run_service(form, call)
        if result is not None:
            messages.success(request, _("%(action)s: done.") % {"action": create.label})
            return redirect(desk.object_url(result))
    status = 422 if request.method == "POST" else 200
    return render(
        request,
        "workspace/create.html",
        {"desk": desk, "create": create, "form": form},
        status=status,
    )
