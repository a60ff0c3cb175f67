"""The workspace's generic pages: list, object, action confirm and create, and the one
decorator every staff view asks the matrix through (``permission_required``)."""

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from certbody.lifecycle import RuleViolation
from certbody.workspace import bulk, saved
from certbody.workspace import desks as workspace
from certbody.workspace.crosslinks import crosslinks
from certbody.workspace.desks import get_desk, require
from certbody.workspace.history import history_for, history_rows
from certbody.workspace.tables import SelectColumn, configure_table, export_response

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


def _list_table(desk, request, queryset, *, selectable: bool = False):
    """The desk's table of ``queryset``: in the desk's default order unless the user sorts by
    a column (``Desk.ordered``), with the checkbox column of the bulk actions if asked."""
    kwargs = {}
    if desk.has_default_order and not request.GET.getlist("sort"):
        queryset = desk.ordered(queryset)
        kwargs["order_by"] = ()
    if selectable:
        kwargs["extra_columns"] = [("selected", SelectColumn())]
        kwargs["sequence"] = ("selected", "...")
    # No ``request=``: django-tables2 would then read page/per_page/sort unvalidated itself.
    table = desk.table_class(queryset, **kwargs)
    table.request = request
    return table


def _filtered(desk, request, data):
    queryset = desk.queryset(request)
    filterset = None
    if desk.filterset_class is not None:
        filterset = desk.filterset_class(data or None, queryset=queryset, request=request)
        queryset = filterset.qs
    return filterset, queryset


@staff_only
@require_GET
def desk_list(request, key: str):
    """A filtered, sorted, paginated list; ``?export=csv|xlsx`` downloads the filtered rows.
    Without a chosen sort the desk's default order (needing action first, newest first); the
    user's saved filters and the bulk actions they may use are offered."""
    desk = get_desk(key)
    require(request.user, desk.permission)
    filterset, queryset = _filtered(desk, request, request.GET)
    export = request.GET.get("export")
    if export:
        table = _list_table(desk, request, queryset)
        configure_table(table, request, paginate=False)
        return export_response(table, title=desk.title, fmt=export, name=desk.key)
    bulk_actions = desk.offered_bulk_actions(request.user)
    table = _list_table(desk, request, queryset, selectable=bool(bulk_actions))
    configure_table(table, request, per_page=PER_PAGE)
    query = request.GET.urlencode()
    return render(
        request,
        "workspace/list.html",
        {
            "desk": desk,
            "table": table,
            "filter": filterset,
            "can_create": desk.create is not None and request.user.has_perm(desk.create.permission),
            "query": query,
            "filter_query": saved.filter_query(query),
            "saved_filters": list(saved.saved_filters(request.user, desk.key)),
            "bulk_actions": bulk_actions,
            "group_title": workspace.GROUPS.get(desk.group, ""),
        },
    )


@staff_only
@require_POST
def desk_bulk(request, key: str):
    """One bulk action over the ticked rows (``selected``) of a list: "export selected"
    downloads them at once; any other action shows a confirm page listing the rows (and the
    action's form), then, posted with ``confirm``, runs the action row by row and lists what
    was done and what was refused. 403 when the user holds neither the list's nor the
    action's permission (a forged POST); rows the user cannot see on this list are ignored."""
    desk = get_desk(key)
    require(request.user, desk.permission)
    bulk_action = desk.bulk_action(request.POST.get("bulk", ""))
    require(request.user, bulk_action.permission)
    back = desk.url()
    list_query = saved.filter_query(request.POST.get("query", ""))
    if list_query:
        back = f"{back}?{list_query}"
    ids = bulk.selected_ids(request.POST.getlist("selected"))
    queryset = desk.queryset(request).filter(pk__in=ids)
    if not ids or not queryset.exists():
        messages.error(request, _("Select at least one row."))
        return redirect(back)
    if bulk_action.is_export:
        table = _list_table(desk, request, queryset)
        configure_table(table, request, paginate=False)
        return export_response(table, title=desk.title, fmt="xlsx", name=desk.key)
    confirmed = "confirm" in request.POST
    form = workspace.build_form(
        bulk_action.form_class,
        obj=None,
        user=request.user,
        data=request.POST if confirmed else None,
        model=desk.model,
    )
    context = {
        "desk": desk,
        "bulk": bulk_action,
        "form": form,
        "ids": ids,
        "query": list_query,
        "back": back,
        "group_title": workspace.GROUPS.get(desk.group, ""),
    }
    if confirmed and (form is None or form.is_valid()):
        objects = list(desk.ordered(queryset) if desk.has_default_order else queryset)
        cleaned = form.cleaned_data if form is not None else {}
        outcomes = bulk.run_bulk(bulk_action, objects, user=request.user, cleaned=cleaned)
        context["outcomes"] = outcomes
        context["done"] = sum(1 for o in outcomes if o.ok)
        context["refused"] = [o for o in outcomes if not o.ok]
        return render(request, "workspace/bulk_done.html", context)
    table = _list_table(desk, request, queryset)
    configure_table(table, request, paginate=False)
    context["table"] = table
    status = 422 if confirmed else 200
    return render(request, "workspace/bulk.html", context, status=status)


@staff_only
@require_POST
def desk_filter_save(request, key: str):
    """Save the list's current filters (``query``) under ``name`` for the user."""
    desk = get_desk(key)
    require(request.user, desk.permission)
    query = saved.filter_query(request.POST.get("query", ""))
    try:
        saved.saved_filter_save(
            actor=request.user, desk_key=desk.key, name=request.POST.get("name", ""), query=query
        )
    except RuleViolation as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Filter saved."))
    return redirect(f"{desk.url()}?{query}" if query else desk.url())


@staff_only
@require_POST
def desk_filter_delete(request, key: str, pk: int):
    """Delete one of the user's saved filters of this list (404 for anyone else's)."""
    desk = get_desk(key)
    require(request.user, desk.permission)
    if not saved.saved_filter_delete(actor=request.user, desk_key=desk.key, pk=pk):
        raise Http404(_("No such filter."))
    messages.success(request, _("Filter deleted."))
    return redirect(desk.url())


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
