"""Small SQL statements the ORM builds at a cost that matters where every microsecond is
spent while others wait (issue #16: the certificate number lock).
"""

from __future__ import annotations

from django.db import connection


def rows_update_sql(model, key: str, changes: dict, *, where: dict | None = None):
    """``(sql, params)`` of the UPDATE that sets different values on several rows of
    ``model`` (run it with ``updates_run``; ``changes`` must not be empty).

    ``key``: the name of the field (``"pk"`` for the primary key) picking the rows (every
    row with that value: a history table's object id picks all the object's history rows);
    ``changes``: key value → ``{field name: new value}``, the same fields for every row;
    ``where``: more ``{field name: value}`` equalities a row must satisfy to be updated.
    Values are prepared by their model field (``get_db_prep_save``), as ``save`` does. Written
    as ``UPDATE … SET f = CASE k WHEN … THEN … END … WHERE k IN (…)``: what
    ``QuerySet.update(f=Case(When(…)))`` runs, without building and compiling the
    expressions (about 1 ms a statement). Raises ``ValueError`` when rows name other fields.
    """
    if not changes:
        return 0
    meta = model._meta
    quote = connection.ops.quote_name
    key_field = meta.pk if key == "pk" else meta.get_field(key)
    names = list(next(iter(changes.values())))
    if any(list(values) != names for values in changes.values()):
        raise ValueError("every row must set the same fields")
    keys = [key_field.get_db_prep_value(k, connection) for k in changes]
    assignments, params = [], []
    for name in names:
        field = meta.get_field(name)
        whens = []
        for k, values in zip(keys, changes.values(), strict=True):
            whens.append("WHEN %s THEN %s")
            params += [k, field.get_db_prep_save(values[name], connection)]
        assignments.append(
            f"{quote(field.column)} = CASE {quote(key_field.column)} {' '.join(whens)} END"
        )
    conditions = [f"{quote(key_field.column)} IN ({', '.join(['%s'] * len(keys))})"]
    params += keys
    for name, value in (where or {}).items():
        field = meta.get_field(name)
        conditions.append(f"{quote(field.column)} = %s")
        params.append(field.get_db_prep_value(value, connection))
    sql = (
        f"UPDATE {quote(meta.db_table)} SET {', '.join(assignments)} "
        f"WHERE {' AND '.join(conditions)}"
    )
    return sql, params


def updates_run(statements) -> list[int]:
    """Run UPDATE statements (``(sql, params)``, as ``rows_update_sql`` makes them) and return
    the rows each one updated, in order.

    On PostgreSQL in one round trip: one statement whose data-modifying WITH queries are the
    UPDATEs (each sees the rows as they were before the statement, so the UPDATEs must touch
    different rows: different tables, say), counted by its SELECT. Elsewhere one after
    another. Where others wait on a lock the caller holds (the certificate number, issue
    #16), every round trip counts: on a busy machine each is a chance to lose the CPU.
    """
    statements = list(statements)
    with connection.cursor() as cursor:
        if connection.vendor != "postgresql" or len(statements) < 2:
            counts = []
            for sql, params in statements:
                cursor.execute(sql, params)
                counts.append(cursor.rowcount)
            return counts
        parts = [f"u{i} AS ({sql} RETURNING 1)" for i, (sql, _params) in enumerate(statements)]
        counts_sql = ", ".join(f"(SELECT COUNT(*) FROM u{i})" for i in range(len(statements)))
        cursor.execute(
            f"WITH {', '.join(parts)} SELECT {counts_sql}",
            [param for _sql, params in statements for param in params],
        )
        return list(cursor.fetchone())
