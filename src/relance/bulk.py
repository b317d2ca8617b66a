"""Writing many rows in a constant number of statements: the imports of a FEC and of a bank
statement (100 000 lines and more).

Django's ``bulk_create`` compiles every field of every row through the fields' generic
machinery — at that size more than the import's own work, and multi-row INSERTs of 39 rows on
SQLite (999 parameters a statement). Here rows go to the driver as they are: one prepared
statement run through ``executemany`` by batches on SQLite, ``COPY … FROM STDIN`` on
PostgreSQL (``executemany`` there would send one statement a row under Django's client-side
binding). No signal is sent, no default filled in by :func:`insert_rows`: every column without
a database default is given, amounts already rounded to the cent.

This module imports no app (the models come as arguments), so every service may use it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, TypeVar, cast

from django.db import connection
from django.db.models import Field, Model
from django.db.models.base import ModelState
from django.utils import timezone

CHUNK = 2000
INSERT_BATCH = 5000

_T = TypeVar("_T")
_M = TypeVar("_M", bound=Model)


def chunks(items: Sequence[_T], size: int = CHUNK) -> Iterator[Sequence[_T]]:
    """``items`` by slices of ``size`` (an ``__in`` look-up, a batch of rows)."""
    for start in range(0, len(items), size):
        yield items[start:start + size]


def insert_rows(model: type[Model], fields: Sequence[str], rows: Iterable[Sequence[Any]], *,
                adapted: bool = False) -> int:
    """INSERT ``rows`` (values in the order of ``fields``, field names; a foreign key by its id),
    streamed: ``rows`` may be a generator. Values go to the driver as they are — decimals, dates
    and strings are adapted as Django registers them — except timestamps, which take Django's
    adaptation (SQLite stores them naive, in UTC), unless ``adapted`` (the caller did it for every
    value). Returns the number of rows."""
    meta = model._meta
    columns = [meta.get_field(name) for name in fields]
    quote = connection.ops.quote_name
    names = ", ".join(quote(str(getattr(c, "column", c.name))) for c in columns)
    stamps = [not adapted and c.get_internal_type() == "DateTimeField" for c in columns]
    adapt = connection.ops.adapt_datetimefield_value

    def prepared() -> Iterator[Sequence[Any]]:
        if not any(stamps):  # nothing to adapt: the rows go as they are (no copy of each row)
            yield from rows
            return
        for row in rows:
            yield tuple(adapt(v) if stamp and v is not None else v for stamp, v in zip(stamps, row, strict=True))

    count = 0
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with connection.wrap_database_errors, cursor.cursor.copy(
                    f"COPY {quote(meta.db_table)} ({names}) FROM STDIN") as copy:
                for row in prepared():
                    copy.write_row(row)
                    count += 1
            return count
        sql = f"INSERT INTO {quote(meta.db_table)} ({names}) VALUES ({', '.join(['%s'] * len(columns))})"
        batch: list[Sequence[Any]] = []
        for row in prepared():
            batch.append(row)
            if len(batch) >= INSERT_BATCH:
                cursor.executemany(sql, batch)
                count += len(batch)
                batch = []
        if batch:
            cursor.executemany(sql, batch)
            count += len(batch)
    return count


_DEFAULTS: dict[type[Model], tuple[dict[str, Any], list[Field[Any, Any]]]] = {}


def instance(model: type[_M], **values: Any) -> _M:
    """A model instance for :func:`insert_objects`, built without ``Model.__init__`` (nine tenths
    of its cost go to generic keyword handling): the fields' defaults, then ``values`` by
    attribute name (``customer_id``…). Callable defaults are called for each instance."""
    cached = _DEFAULTS.get(model)
    if cached is None:
        fields = [cast(Field[Any, Any], f) for f in model._meta.concrete_fields]
        constant = {f.attname: f.get_default() for f in fields if not (f.has_default() and callable(f.default))}
        cached = _DEFAULTS[model] = (constant, [f for f in fields if f.has_default() and callable(f.default)])
    constant, dynamic = cached
    obj = model.__new__(model)
    obj.__dict__.update(constant)
    for f in dynamic:
        obj.__dict__[f.attname] = f.get_default()
    obj.__dict__.update(values)
    obj._state = ModelState()
    return obj


_PLAIN_TYPES = {"CharField", "TextField", "SlugField", "EmailField", "URLField", "BooleanField", "IntegerField",
                "BigIntegerField", "SmallIntegerField", "PositiveIntegerField", "PositiveSmallIntegerField",
                "PositiveBigIntegerField", "ForeignKey", "DecimalField"}


def _converter(field: Field[Any, Any], now: Any) -> Callable[[Model], Any]:
    """How ``field``'s value of an object goes to the driver: what ``pre_save`` and
    ``get_db_prep_save`` do, without their generic machinery (a fifth of the cost) for the
    types of the ledger's models; any other type goes through Django's own preparation."""
    attname = field.attname
    kind = field.get_internal_type()
    ops = connection.ops
    if kind == "DateTimeField" and (getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)):
        stamp = ops.adapt_datetimefield_value(now)
        return lambda obj: stamp
    if kind == "DateField" and not (getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)):
        adapt = ops.adapt_datefield_value
        return lambda obj: adapt(getattr(obj, attname))
    if kind == "FileField":
        return lambda obj: (getattr(obj, attname).name or "") if getattr(obj, attname) else ""
    if kind in _PLAIN_TYPES:  # str, int, bool, Decimal (already to the cent) and None go as they are
        return lambda obj: getattr(obj, attname)
    return lambda obj: field.get_db_prep_save(field.pre_save(obj, True), connection)


def insert_objects(model: type[Model], objects: Sequence[Model], key: tuple[str, ...] = ()) -> None:
    """Insert model instances (built with :func:`instance`, defaults included) through :func:`insert_rows`,
    their values taken as the instances hold them and adapted for the driver (:func:`_converter`).
    With ``key`` (a unique natural key, organisation first), the database ids are read back and set
    on the objects, in one query per 2 000."""
    if not objects:
        return
    fields = [cast(Field[Any, Any], f) for f in model._meta.concrete_fields if not f.primary_key]
    now = timezone.now()
    converters = [_converter(f, now) for f in fields]
    insert_rows(model, [f.name for f in fields], ([convert(obj) for convert in converters] for obj in objects),
                adapted=True)
    if not key:
        return
    organisation_id = getattr(objects[0], "organisation_id")  # noqa: B009
    by_key = {tuple(getattr(o, k) for k in key[1:]): o for o in objects}
    for keys in chunks(list(by_key), CHUNK):
        lookup = {f"{key[1]}__in": [k[0] for k in keys]}
        for row in model._default_manager.filter(organisation_id=organisation_id, **lookup).values_list(
                *key[1:], "pk"):
            found = by_key.get(tuple(row[:-1]))
            if found is not None:
                found.pk = row[-1]
                found._state.adding = False


def update_by_id(model: type[Model], names: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Set ``names`` on many rows, each given as its values (adapted for the driver) then its id:
    ``executemany`` on SQLite (a prepared statement, fast), ``UPDATE … FROM (VALUES …)`` by
    thousand rows on PostgreSQL (where executemany would send one statement a row)."""
    if not rows:
        return
    meta = model._meta
    quote = connection.ops.quote_name
    fields = [cast(Field[Any, Any], meta.get_field(name)) for name in names]
    table = quote(meta.db_table)
    with connection.cursor() as cursor:
        if connection.vendor != "postgresql":
            assignments = ", ".join(f"{quote(cast(str, f.column))} = %s" for f in fields)
            cursor.executemany(f"UPDATE {table} SET {assignments} WHERE {quote('id')} = %s", rows)
            return
        types = [f.db_type(connection) for f in fields]
        aliases = [f"v{i}" for i in range(len(fields))]
        assignments = ", ".join(f"{quote(cast(str, f.column))} = v.{a}" for f, a in zip(fields, aliases, strict=True))
        row_sql = "(" + ", ".join(f"%s::{t}" for t in types) + ", %s::bigint)"
        for chunk in chunks(rows, 1000):
            cursor.execute(
                f"UPDATE {table} AS t SET {assignments} FROM (VALUES {', '.join([row_sql] * len(chunk))}) "
                f"AS v({', '.join(aliases)}, id) WHERE t.{quote('id')} = v.id",
                [value for row in chunk for value in row])
