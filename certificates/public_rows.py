"""Keeping ``PublicCertificate`` rows in step with certificates (issue #16).

The public API and verification read one precomputed row per certificate instead of three joins,
a prefetch and an events query. The row is rebuilt inside the same transaction as whatever
changed the certificate's public face, so a reader never sees a stale status:

- every save of a ``Certificate`` (issue, suspend, restore, withdraw, cancel, expire, supersede,
  reissue, scope and grade changes all end in ``save``), every ``CertificateEvent`` written or
  deleted, every change of its business scopes, and every save of its ``Organization`` (name,
  USCC, address appear in the payload) refresh the rows concerned (signals, ``connect``);
- paths that write rows without ``save`` (the importer's and the data generator's bulk inserts)
  call ``public_rows_refresh`` themselves; ``manage.py refresh_public_certificates`` rebuilds all.

A service that changes one certificate several times in a transaction (an issue saves it, sets
its business scopes and writes its event: three rebuilds of the same row) wraps that work in
``public_rows_deferred()``: the receivers then only collect the ids, and each row is rebuilt
once when the block ends, still inside the transaction (issue #16).
"""

import hashlib
import json
from contextlib import contextmanager
from contextvars import ContextVar

from django.db import connection
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.utils import translation

from certbody.sql import rows_update_sql
from certificates.models import Certificate, CertificateEvent, PublicCertificate
from certificates.public import certificate_json, organization_name, public_queryset

# The interface languages a payload is stored in: (Django language code, model field).
PAYLOAD_FIELDS = (("zh-hans", "payload_zh"), ("en", "payload_en"))
# Every column a refresh overwrites (all but the key).
_WRITTEN = [f.name for f in PublicCertificate._meta.concrete_fields if not f.primary_key]


def payload_field(language: str | None) -> str:
    """The ``PublicCertificate`` field holding the payload for ``language`` (a Django language
    code; English for ``en*``, Chinese otherwise, as ``PublicCertificate.payload``)."""
    return "payload_en" if (language or "").startswith("en") else "payload_zh"


def _row_select(key: str, value: str, fields: tuple[str, ...]) -> tuple | None:
    """The columns ``fields`` of the ``PublicCertificate`` whose unique ``key`` (number or
    token) is ``value``, or None. One query on the unique index, written as SQL because
    building it through the ORM costs about as much again as running it (issue #16)."""
    meta = PublicCertificate._meta
    quote = connection.ops.quote_name
    columns = ", ".join(quote(meta.get_field(name).column) for name in fields)
    sql = (
        f"SELECT {columns} FROM {quote(meta.db_table)} "
        f"WHERE {quote(meta.get_field(key).column)} = %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [value])
        row = cursor.fetchone()
    return tuple(row) if row is not None else None


def public_row_read(number: str, language: str | None) -> tuple[str, str, str] | None:
    """``(payload, etag, token)`` of the certificate whose canonical number is ``number``, the
    payload (JSON text) in ``language`` (``payload_field``); None when there is none.

    The public hot path (API detail, ``/verify/?q=<number>``; issue #16): one indexed query."""
    return _row_select("number", number, (payload_field(language), "etag", "token"))


def public_row_by_token(token: str, language: str | None) -> tuple[str, str, str] | None:
    """``(payload, etag, successor_token)`` of the certificate whose QR token is ``token``,
    the payload (JSON text) in ``language`` (``payload_field``), ``successor_token`` the token
    of the certificate that replaced it or ""; None when there is none.

    The QR page (``/verify/<token>/``; issue #16): one indexed query."""
    return _row_select("token", token, (payload_field(language), "etag", "successor_token"))


def public_results(numbers=None, certificate_ids=None, *, language: str | None) -> list[dict]:
    """The stored public payloads (``certificate_json`` as dicts, each with its ``token`` added)
    of the certificates with these canonical ``numbers`` or primary keys, in the order given;
    ``language`` picks the payload (``payload_field``). One indexed query; unknown ones are
    left out. Raises ``ValueError`` unless exactly one of ``numbers``, ``certificate_ids`` is
    given."""
    if (numbers is None) == (certificate_ids is None):
        raise ValueError("give numbers or certificate_ids")
    key, wanted = ("number", numbers) if numbers is not None else ("pk", certificate_ids)
    wanted = list(wanted)
    if not wanted:
        return []
    field = payload_field(language)
    found = {}
    for value, payload, token in PublicCertificate.objects.filter(
        **{f"{key}__in": wanted}
    ).values_list(key, field, "token"):
        data = json.loads(payload)
        data["token"] = token
        found[value] = data
    return [found[value] for value in wanted if value in found]


# Certificate ids whose rows wait for the end of the current ``public_rows_deferred`` block
# (None outside one). A ContextVar: each thread (and request) has its own.
_deferred: ContextVar[dict | None] = ContextVar("public_rows_deferred", default=None)


def _dumps(data: dict) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def public_row_build(certificate: Certificate, *, scopes=None, events=None) -> PublicCertificate:
    """The (unsaved) public row of ``certificate``, loaded with ``public_queryset()``, or
    with ``scopes`` and ``events`` given (``certificate_json``)."""
    row = PublicCertificate(
        certificate_id=certificate.pk,
        number=certificate.number,
        token=certificate.token,
        status=certificate.status,
        organization_name=organization_name(certificate)[:200],
        uscc=certificate.organization.uscc or "",
        successor_token=certificate.superseded_by.token if certificate.superseded_by_id else "",
    )
    for language, field in PAYLOAD_FIELDS:
        with translation.override(language):
            setattr(row, field, _dumps(certificate_json(certificate, scopes=scopes, events=events)))
    row.etag = _etag(row)
    return row


def _etag(row: PublicCertificate) -> str:
    """The row's ETag: the first 32 hex digits of the SHA-256 of its payloads in
    ``PAYLOAD_FIELDS`` order (as ``public_row_build`` computes it)."""
    digest = hashlib.sha256()
    for _language, field in PAYLOAD_FIELDS:
        digest.update(getattr(row, field).encode())
    return digest.hexdigest()[:32]


def public_rows_refresh(certificate_ids) -> int:
    """Rebuild the public rows of the certificates with these primary keys (an iterable of
    ints); rows of certificates that no longer exist disappear with them (cascade).

    Call inside the transaction that changed them. Returns the number of rows written (one
    upsert statement for all of them)."""
    return len(_rows_write(dict.fromkeys(pk for pk in certificate_ids if pk is not None)))


def _rows_write(pending: dict) -> list[PublicCertificate]:
    """Write the public rows of ``pending`` (certificate id → ``(certificate, scopes, events)``
    held by the caller, or None to read the certificate back); returns the rows written."""
    rows = [public_row_build(c, scopes=s, events=e) for c, s, e in filter(None, pending.values())]
    ids = [pk for pk, held in pending.items() if held is None]
    if ids:
        rows += [
            public_row_build(certificate)
            for certificate in public_queryset().prefetch_related("events").filter(pk__in=ids)
        ]
    if not rows:
        return []
    # One statement for the batch: insert, or overwrite the row the certificate already has.
    PublicCertificate.objects.bulk_create(
        rows, update_conflicts=True, unique_fields=["certificate"], update_fields=_WRITTEN
    )
    return rows


@contextmanager
def public_rows_deferred():
    """Rebuild the public rows the block's changes touch once, when the block ends.

    Use inside the transaction that makes the changes (the rows are written before it
    commits, so readers never see a stale row). Nested blocks join the outermost one. When the
    block raises, nothing is rebuilt: the transaction rolls back with the changes.

    Yields a list that holds, once the outermost block has ended, the ``PublicCertificate``
    rows it wrote (as written; empty for a nested block), for ``public_rows_replace_sql``.
    """
    written: list[PublicCertificate] = []
    if _deferred.get() is not None:
        yield written
        return
    pending: dict = {}
    token = _deferred.set(pending)
    try:
        yield written
    finally:
        _deferred.reset(token)
    # Outside the ``finally``: after an exception the transaction is rolled back anyway.
    written += _rows_write(pending)


def public_rows_replace_sql(rows, replacements: dict[str, str]):
    """The UPDATE that replaces texts in public rows already written in this transaction:
    ``(sql, params, rows it must update)``, or None when no row changes; run it with
    ``certbody.sql.updates_run`` and check the count (``certificates.services.issue``).

    ``rows``: ``PublicCertificate`` objects as written (``public_rows_deferred`` yields them;
    changed at once); ``replacements``: text → its replacement, applied to the ``number`` and
    both payloads (the ETag is recomputed). For an issue that wrote its rows with provisional
    certificate numbers and learns the real ones at the end of its transaction (issue #16):
    the texts must be ones no payload contains otherwise."""
    changed = []
    for row in rows:
        before = (row.number, row.payload_zh, row.payload_en)
        for old, new in replacements.items():
            row.number = row.number.replace(old, new)
            row.payload_zh = row.payload_zh.replace(old, new)
            row.payload_en = row.payload_en.replace(old, new)
        if (row.number, row.payload_zh, row.payload_en) != before:
            row.etag = _etag(row)
            changed.append(row)
    if not changed:
        return None
    fields = ("number", "payload_zh", "payload_en", "etag")
    sql, params = rows_update_sql(
        PublicCertificate,
        "certificate",
        {row.certificate_id: {field: getattr(row, field) for field in fields} for row in changed},
    )
    return sql, params, len(changed)


def public_rows_provide(certificate: Certificate, *, scopes, events) -> None:
    """Inside a ``public_rows_deferred`` block: build ``certificate``'s row at the end of the
    block from these objects instead of reading it back (three queries; issue #16).

    For a certificate written in this block whose objects are complete and final: its
    ``organization`` (and ``head``) loaded, no successor, ``scopes`` all its business scopes,
    ``events`` all its events (a new certificate: those written here). Call it after the
    block's last change to the certificate; a change signalled afterwards reads it back
    again. Outside a block it does nothing (the signals rebuilt the row already)."""
    pending = _deferred.get()
    if pending is not None and certificate.pk is not None:
        pending[certificate.pk] = (certificate, list(scopes), list(events))


def _refresh(certificate_ids) -> None:
    """Rebuild now, or collect the ids for the end of the ``public_rows_deferred`` block."""
    pending = _deferred.get()
    if pending is None:
        public_rows_refresh(certificate_ids)
    else:  # a change after ``public_rows_provide``: read the row's sources back
        pending.update(dict.fromkeys(pk for pk in certificate_ids if pk is not None))


def public_row_refresh(certificate_id: int) -> None:
    """Rebuild one certificate's public row (see ``public_rows_refresh``)."""
    public_rows_refresh([certificate_id])


def public_rows_backfill(schema_editor) -> int:
    """A data migration's rebuild of every public row with the live code (``public`` builds
    the payloads), run only when the tables the live models read already have every column
    those models have: replaying the history (a new install, a test migrating back and forth)
    reaches an early migration's backfill before later columns exist, and the latest migration
    that changes these tables rebuilds the rows again. So every migration that adds a column
    to a table of the certificates, applications or certbody app that public rows are built
    from (or to the public row itself) ends with this backfill. Returns the rows rebuilt
    (0 when skipped or when there is no certificate)."""
    from django.apps import apps

    connection = schema_editor.connection
    with connection.cursor() as cursor:
        tables = set(connection.introspection.table_names(cursor))
        for label in ("certificates", "applications", "certbody"):
            for model in apps.get_app_config(label).get_models():
                if model._meta.proxy or not model._meta.managed:
                    continue
                table = model._meta.db_table
                if table not in tables:
                    return 0
                columns = {
                    c.name for c in connection.introspection.get_table_description(cursor, table)
                }
                if not {f.column for f in model._meta.concrete_fields} <= columns:
                    return 0
    if not Certificate.objects.exists():
        return 0
    return public_rows_refresh_all()


def public_rows_refresh_all(batch: int = 500) -> int:
    """Rebuild every certificate's public row (data migration, command, generator)."""
    ids = list(Certificate.objects.order_by("pk").values_list("pk", flat=True))
    return sum(public_rows_refresh(ids[i : i + batch]) for i in range(0, len(ids), batch))


def _certificate_saved(sender, instance, raw=False, created=False, **kwargs):
    if raw:  # loaddata: rows come with their own state
        return
    ids = [instance.pk]
    if not created:  # a new row is nobody's head nor successor yet
        # A head's number appears in its subs, a successor's in the one it superseded.
        ids += Certificate.objects.filter(head=instance).values_list("pk", flat=True)
        ids += Certificate.objects.filter(superseded_by=instance).values_list("pk", flat=True)
    _refresh(ids)


def _event_changed(sender, instance, raw=False, **kwargs):
    if not raw:
        _refresh([instance.certificate_id])


def _scopes_changed(sender, instance, action, reverse, pk_set, **kwargs):
    if not action.startswith("post_"):
        return
    if not reverse:
        _refresh([instance.pk])
    elif action == "post_clear":
        return  # a scope deleted: its certificates are refreshed by their next save
    else:
        _refresh(pk_set or [])


def _organization_saved(sender, instance, raw=False, **kwargs):
    if not raw:
        _refresh(Certificate.objects.filter(organization=instance).values_list("pk", flat=True))


def connect() -> None:
    """Connect the receivers (``CertificatesConfig.ready``)."""
    from applications.models import Organization

    uid = "certificates.public_rows"
    post_save.connect(_certificate_saved, sender=Certificate, dispatch_uid=f"{uid}.certificate")
    post_save.connect(_event_changed, sender=CertificateEvent, dispatch_uid=f"{uid}.event")
    post_delete.connect(_event_changed, sender=CertificateEvent, dispatch_uid=f"{uid}.event_del")
    m2m_changed.connect(
        _scopes_changed,
        sender=Certificate.business_scopes.through,
        dispatch_uid=f"{uid}.scopes",
    )
    post_save.connect(_organization_saved, sender=Organization, dispatch_uid=f"{uid}.org")
