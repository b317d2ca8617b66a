"""The one lock order of the project, and the helpers every service takes its locks with.

A base layer: it imports no domain app (``tests/integration/test_event_layer.py``). It finds the
models it locks by label (``ledger.Invoice``, ``ledger.Organisation``) or takes the model class
from its caller (:func:`lock_rows`), so the event log and every app may use it.

Order, within one transaction::

    1. invoices            by id, all those the transaction will write, in one call
    2. the organisation    its row: the event log's hash chain, one import at a time
    3. what hangs below it customers, reminders (by id), holds, promises, plans, cases,
                           call tasks, bank lines — each kind by id

Rules:

* **Invoices first, all at once.** A transaction that writes invoices (a payment, a credit
  note, a bank line matched, an import, the send of a reminder, a hold) locks every invoice it
  will write with :func:`lock_invoices` (or :func:`lock_customer_invoices`), in id order,
  *before* the organisation row. After the organisation row it never locks an invoice it does
  not already hold. A job that needs other invoices commits and starts a new transaction
  (imports commit per bounded batch: :data:`BATCH`).
* **The organisation row second.** Every append to the event log takes it
  (``events.services.record_many``): it is the serialisation point of an organisation's hash
  chain, so it is held from the first event to the commit. Taking it before the rows below it
  makes the whole order a line: no two transactions can wait for each other in a circle.
* **A reminder being sent belongs to its worker.** The claim (``PLANNED → SENDING``, its own
  short transaction) makes it the worker's; nobody else locks a ``SENDING`` reminder, so the
  dispatcher may write it before the organisation row.

Why invoices before the organisation, and not the other way round: writers lock the rows they
change first and append their events last, and a transaction may be slow while it holds the
invoices (a statement batch matching lines, an import). With the organisation row first, every
writer of an organisation would queue behind the slowest one; invoices first, a payment waits
only for a writer of the same invoices, and writers of different customers go in parallel. The
organisation row is held only between the first event and the commit — the short end of a
transaction. (The dispatcher no longer holds invoices across SMTP: it re-checks them in short
transactions around the exchange, the last one just before DATA — docs/architecture.md,
« États d’une relance ».)

Before this module (issue 12), a payment file was one transaction (invoices of customer A,
the organisation row, then invoices of customer B…) while a worker held B's invoices across
SMTP and then wanted the organisation row: PostgreSQL broke the circle by aborting one of
them — 28 % of the payment files rejected, 8 % of the reminders delivered then rolled back.

Check mode (``settings.RELANCE_LOCK_ORDER_CHECK``, on in the tests of the lock order) records
what each transaction locked through these helpers and raises :class:`LockOrderViolation` at
the first lock out of order, on SQLite too (where ``SELECT … FOR UPDATE`` is a no-op): the order
is tested without needing a race. An invoice this transaction created (an id above the highest
one when it took the organisation row) may be locked later: nobody else can hold it. Off (the
default), nothing is recorded and nothing costs more than the locks themselves.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.apps import apps
from django.conf import settings
from django.db import connection
from django.db.models import Max, Model, Q

#: rows an import writes per transaction (payments, bank lines): it never holds its locks
#: across a whole file
BATCH = 200

INVOICES, ORGANISATION, BELOW = 1, 2, 3
_LEVEL_NAMES = {INVOICES: "factures", ORGANISATION: "organisation", BELOW: "lignes sous l’organisation"}

_M = TypeVar("_M", bound=Model)


def _invoice_model() -> Any:
    return apps.get_model("ledger", "Invoice")


def _organisation_model() -> Any:
    return apps.get_model("ledger", "Organisation")


class LockOrderViolation(RuntimeError):
    """A programming error: a lock taken out of the project's order (see the module)."""


@dataclass
class _Held:
    block: Any  # the outermost atomic block of the transaction (identity only)
    level: int = 0
    invoices: set[int] = field(default_factory=set)
    organisations: set[int] = field(default_factory=set)
    newest_invoice: int | None = None  # the highest invoice id when the organisation row was taken


def _held() -> _Held | None:
    """What this transaction locked through the helpers (``None`` outside a transaction, or when
    the check is off)."""
    if not connection.in_atomic_block or not getattr(settings, "RELANCE_LOCK_ORDER_CHECK", False):
        return None
    # the outermost block a service opened (a test case's own blocks are not a transaction)
    outer = next((b for b in connection.atomic_blocks if not getattr(b, "_from_testcase", False)), None)
    if outer is None:
        return None
    state: _Held | None = getattr(connection, "_relance_locks", None)
    if state is None or state.block is not outer:
        state = _Held(outer)
        connection._relance_locks = state  # type: ignore[attr-defined]
    return state


def _violation(message: str) -> None:
    raise LockOrderViolation(message)


def _enter(state: _Held | None, level: int, what: str) -> None:
    if state is None:
        return
    if level < state.level:
        _violation(f"{what} verrouillé(es) après {_LEVEL_NAMES[state.level]} (ordre : factures → organisation → "
                   "clients, relances, suspensions…)")
    state.level = max(state.level, level)


def lock_invoices(ids: Iterable[int]) -> list[Any]:
    """Lock these invoices, by id, and return them in id order. Before the organisation row,
    or only invoices this transaction already holds."""
    wanted = sorted(set(ids))
    state = _held()
    new = sorted(i for i in set(wanted) - (state.invoices if state is not None else set())
                 if state is None or state.newest_invoice is None or i <= state.newest_invoice)
    if state is not None and state.level > INVOICES and new:
        new = new[:10]
        _violation(f"factures {new} verrouillées après {_LEVEL_NAMES[state.level]} (ordre : factures → "
                   "organisation → clients, relances, suspensions…)")
    if not wanted:
        return []
    invoices = list(_invoice_model().objects.select_for_update(of=("self",)).filter(pk__in=wanted).order_by("pk"))
    if state is not None:
        state.invoices.update(i.pk for i in invoices)
        state.level = max(state.level, INVOICES)
    return invoices


def customer_invoice_ids(organisation: Model, customer_ids: Iterable[int]) -> list[int]:
    """The invoices a payment of these customers may write: the open ones, and those a
    promise, a plan or a hold still refers to (a settlement reviews them)."""
    ids = sorted(set(customer_ids))
    if not ids:
        return []
    invoice = _invoice_model()
    refer = (Q(status=invoice.Status.OPEN) | Q(holds__isnull=False) | Q(plan_lines__isnull=False))
    return sorted(set(invoice.objects.filter(refer, organisation=organisation, customer_id__in=ids)
                      .values_list("pk", flat=True)))


def lock_customer_invoices(organisation: Model, customer_ids: Iterable[int]) -> list[Any]:
    """Lock every invoice a payment of these customers may write (:func:`customer_invoice_ids`)."""
    return lock_invoices(customer_invoice_ids(organisation, customer_ids))


def lock_ledger(organisation: Model) -> int:
    """Lock every invoice of the organisation, by id (a whole-ledger import: FEC); returns how
    many. Cheap compared with the import itself, and the only way such an import can write any
    invoice without breaking the order."""
    ids = list(_invoice_model().objects.filter(organisation=organisation).order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), 5000):
        lock_invoices(ids[start:start + 5000])
    return len(ids)


def lock_organisation(organisation: Model | int) -> None:
    """Lock the organisation row: after the invoices, before everything below it."""
    pk = organisation if isinstance(organisation, int) else organisation.pk
    state = _held()
    if state is not None and pk in state.organisations:
        return  # already held by this transaction
    _enter(state, ORGANISATION, "l’organisation")
    _organisation_model().objects.select_for_update().filter(pk=pk).values_list("pk").get()
    if state is not None:
        state.organisations.add(pk)
        if state.newest_invoice is None:
            state.newest_invoice = _invoice_model().objects.aggregate(newest=Max("pk"))["newest"] or 0


def lock_rows(model: type[_M], ids: Iterable[int], **filters: Any) -> list[_M]:
    """Lock rows below the organisation (customers, reminders, holds, promises, plans, bank
    lines…), by id. The organisation row must be held already (taken here if not)."""
    wanted = sorted(set(ids))
    state = _held()
    if state is not None and state.level < ORGANISATION and wanted:
        _violation(f"{model.__name__} verrouillé(es) sans l’organisation : appelez lock_organisation d’abord")
    if not wanted:
        return []
    _enter(state, BELOW, model.__name__)
    return list(model._default_manager.select_for_update(of=("self",)).filter(pk__in=wanted, **filters)
                .order_by("pk"))


def lock_row(model: type[_M], organisation: Model, pk: int) -> _M | None:
    """Lock one row of ``organisation`` below the organisation row (a hold, a promise, a plan, a
    call task…), by id; ``None`` when the organisation has no such row."""
    found = lock_rows(model, [pk], organisation=organisation)
    return found[0] if found else None
