"""Payer profiles: install the defaults, give every customer its profile and scenario (in bulk),
let a collector override it.

The figures of every customer come from two aggregate queries (invoices, reminders), never
one query per customer; the writes are grouped (one UPDATE per scenario, per chunk of ids).
The definitions of the figures and of the rules are in ``relance.core.profiles``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Case, Count, DateField, F, Func, IntegerField, Q, Sum, Value, When

from relance import clock
from relance.clock import today_for
from relance.core.policy import DefaultStep, StepSpec
from relance.core.profiles import (
    DEFAULT_PROFILES,
    FIRM_SCENARIO,
    FIRM_SCENARIO_NAME,
    GENTLE_SCENARIO,
    GENTLE_SCENARIO_NAME,
    PaymentHistory,
    Rule,
    ScenarioKind,
    Tally,
    carried_position,
    choose,
    window_start,
)
from relance.dunning.models import Reminder, ReminderLine, Scenario, Step
from relance.dunning.services.scenario_book import ScenarioBook
from relance.dunning.services.scenarios import install_default_scenario
from relance.errors import InvalidInput, NotFound
from relance.events import kinds
from relance.events.services import NewEvent, record_many
from relance.ledger.models import Customer, Invoice, Organisation
from relance.locks import lock_customer_invoices, lock_organisation, lock_rows

from .models import CustomerProfile, PayerProfile, ProfileOverride

CHUNK = 500
EMPTY = Tally()


# --- Installation ---------------------------------------------------------------------------

def _install_scenario(organisation: Organisation, name: str, steps: Sequence[DefaultStep]) -> tuple[Scenario, bool]:
    scenario, created = Scenario.objects.get_or_create(organisation=organisation, name=name)
    if created:
        Step.objects.bulk_create([
            Step(scenario=scenario, position=d.spec.position, offset_days=d.spec.offset_days, channel=d.spec.channel,
                 tone=d.spec.tone, template=d.template, label=d.label, call_task=d.spec.call_task,
                 attach_invoices=d.attach_invoices)
            for d in steps
        ])
    return scenario, created


def install_default_profiles(organisation: Organisation, actor: str = "system") -> list[PayerProfile]:
    """Install « Relance douce » and « Relance ferme » beside the standard scenario, and the three
    default profiles. Idempotent: an organisation that already has profiles keeps its own, and a
    scenario that already exists under one of these names is reused as it is."""
    with transaction.atomic():
        existing = list(PayerProfile.objects.filter(organisation=organisation).order_by("position", "pk"))
        if existing:
            return existing
        standard = (Scenario.objects.filter(organisation=organisation, is_default=True).first()
                    or install_default_scenario(organisation))
        gentle, gentle_created = _install_scenario(organisation, GENTLE_SCENARIO_NAME, GENTLE_SCENARIO)
        firm, firm_created = _install_scenario(organisation, FIRM_SCENARIO_NAME, FIRM_SCENARIO)
        scenarios = {ScenarioKind.GENTLE: gentle, ScenarioKind.STANDARD: standard, ScenarioKind.FIRM: firm}
        profiles = PayerProfile.objects.bulk_create([
            PayerProfile(
                organisation=organisation, name=d.rule.name, position=d.rule.position,
                scenario=scenarios[d.scenario], description=d.description, audience=d.rule.audience,
                min_invoices=d.rule.min_invoices, min_outstanding=d.rule.min_outstanding,
                max_outstanding=d.rule.max_outstanding, max_average_days_late=d.rule.max_average_days_late,
                max_share_late=d.rule.max_share_late, max_reminders_per_invoice=d.rule.max_reminders_per_invoice,
            )
            for d in DEFAULT_PROFILES
        ])
        record_many(organisation, [kinds.profiles_installed(
            profiles=[{"name": p.name, "position": p.position, "scenario": p.scenario.name} for p in profiles],
            scenarios_created=[s.name for s, created in ((gentle, gentle_created), (firm, firm_created)) if created],
            actor=actor,
        )])
    return list(PayerProfile.objects.filter(organisation=organisation).order_by("position", "pk"))


# --- Figures --------------------------------------------------------------------------------

class DaysBetween(Func):
    """``later − earlier`` in whole days, for two dates: an integer computed by the database
    (Django's date subtraction goes through a Python function on SQLite: too slow here)."""

    arity = 2
    template = "(%(expressions)s)"  # PostgreSQL: date − date is an integer
    arg_joiner = " - "
    output_field = IntegerField()

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(compiler, connection, template="CAST(julianday(%(expressions)s) AS INTEGER)",
                           arg_joiner=") - julianday(", **extra)


def _conditions(day: date, prefix: str = "") -> tuple[Q, Q, Any]:
    """(counted, late, days late) of an invoice as seen at ``day`` (see ``core.profiles``)."""
    def f(name: str) -> str:
        return prefix + name

    open_ = Invoice.Status.OPEN
    settled = ~Q(**{f("status"): open_}) & Q(**{f("settled_on__gt"): window_start(day), f("settled_on__lte"): day})
    unpaid = Q(**{f("due_date__lt"): day}) & (Q(**{f("status"): open_}) | Q(**{f("settled_on__gt"): day}))
    counted = ~Q(**{f("status"): Invoice.Status.CREDITED}) & (settled | unpaid)
    settled_late = settled & Q(**{f("settled_on__gt"): F(f("due_date"))})
    days = Case(
        When(settled_late, then=DaysBetween(F(f("settled_on")), F(f("due_date")))),
        When(unpaid, then=DaysBetween(Value(day, output_field=DateField()), F(f("due_date")))),
        default=Value(0),
        output_field=IntegerField(),
    )
    return counted, settled_late | unpaid, days


def tallies(organisation: Organisation, day: date, customer_ids: Iterable[int] | None = None) -> dict[int, Tally]:
    """Every customer's sums for the figures as of ``day``: two aggregate queries in all."""
    counted, late, days = _conditions(day)
    invoices = Invoice.objects.filter(organisation=organisation).filter(counted | Q(status=Invoice.Status.OPEN))
    lines = ReminderLine.objects.filter(
        reminder__organisation=organisation, reminder__kind=Reminder.Kind.REMINDER,
        reminder__status=Reminder.Status.SENT, reminder__planned_for__lte=day, reminder__step__offset_days__gte=0,
    ).filter(_conditions(day, "invoice__")[0])
    if customer_ids is not None:
        ids = list(customer_ids)
        invoices = invoices.filter(customer_id__in=ids)
        lines = lines.filter(invoice__customer_id__in=ids)
    rows = invoices.values("customer_id").annotate(
        n=Count("pk", filter=counted),
        late=Count("pk", filter=counted & late),
        days=Sum(days, filter=counted),
        outstanding=Sum("amount_due", filter=Q(status=Invoice.Status.OPEN)),
    ).order_by()
    reminders = dict(lines.values("invoice__customer_id").annotate(n=Count("pk")).order_by()
                     .values_list("invoice__customer_id", "n"))
    result: dict[int, Tally] = {}
    for row in rows:
        result[row["customer_id"]] = Tally(
            invoices=row["n"], late_invoices=row["late"], days_late=int(row["days"] or 0),
            reminders=reminders.pop(row["customer_id"], 0), outstanding=row["outstanding"] or Decimal("0.00"),
        )
    for customer_id, n in reminders.items():  # cannot happen (a counted invoice is in rows); kept safe
        result[customer_id] = Tally(reminders=n)
    return result


def history_of(organisation: Organisation, customer: Customer, day: date) -> PaymentHistory:
    return PaymentHistory.of(tallies(organisation, day, [customer.pk]).get(customer.pk, EMPTY), day)


# --- Assignment ------------------------------------------------------------------------------

@dataclass
class AssignReport:
    day: date
    customers: int = 0
    changed: int = 0
    scenarios_changed: int = 0
    invoices_rescheduled: int = 0
    by_profile: dict[str, int] = field(default_factory=dict)
    deferred: int = 0  # scenario moves left to the next assignment (decided only under the lock)

    def as_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "day": self.day.isoformat()}


def _scenario_names(organisation: Organisation) -> dict[int, str]:
    return dict(Scenario.objects.filter(organisation=organisation).values_list("pk", "name"))


def _apply_scenarios(organisation: Organisation, moves: dict[int, tuple[int | None, int | None]],
                     book: ScenarioBook) -> int:
    """Set the customers' scenario (``{customer: (old, new)}``) and carry their invoices'
    progress over to the new scenario; returns the number of invoices rescheduled.

    The planner reads ``customer.scenario``; an invoice's last step position and next action
    date belong to the scenario it was planned in: positions are translated
    (``core.profiles.carried_position``) and the next action date is cleared, so the planner
    schedules the invoice again in its new scenario."""
    by_target: dict[int | None, list[int]] = defaultdict(list)
    by_change: dict[tuple[int | None, int | None], list[int]] = defaultdict(list)
    for customer_id, (old, new) in moves.items():
        by_target[new].append(customer_id)
        old_sid, new_sid = book.scenario_of(old), book.scenario_of(new)
        if old_sid != new_sid:
            by_change[(old_sid, new_sid)].append(customer_id)
    for target, ids in by_target.items():
        for start in range(0, len(ids), CHUNK):
            Customer.objects.filter(organisation=organisation, pk__in=ids[start:start + CHUNK]).update(scenario_id=target)
    rescheduled = 0
    for (old_sid, new_sid), ids in by_change.items():
        old_specs: list[StepSpec] = book.specs.get(old_sid, []) if old_sid else []
        new_specs: list[StepSpec] = book.specs.get(new_sid, []) if new_sid else []
        whens = [When(last_step_position=s.position, then=Value(carried_position(old_specs, s.position, new_specs)))
                 for s in old_specs]
        position: Any = Case(*whens, default=Value(-1)) if whens else Value(-1)
        for start in range(0, len(ids), CHUNK):
            rescheduled += Invoice.objects.filter(
                organisation=organisation, customer_id__in=ids[start:start + CHUNK], status=Invoice.Status.OPEN,
                dunning_state=Invoice.Dunning.ACTIVE,
            ).update(last_step_position=position, next_action_date=None)
    return rescheduled


@dataclass
class _Decision:
    report: AssignReport
    created: list[CustomerProfile]
    updated: list[CustomerProfile]
    moves: dict[int, tuple[int | None, int | None]]
    events: list[NewEvent]
    book: ScenarioBook


def _decide(organisation: Organisation, day: date, profiles: dict[int, PayerProfile], rules: list[Rule],
            ids: list[int] | None, actor: str) -> _Decision:
    """What the figures call for, read only: the profile rows to write, the scenario moves and the events."""
    report = AssignReport(day)
    customers = Customer.objects.filter(organisation=organisation)
    assigned = CustomerProfile.objects.filter(organisation=organisation)
    overrides = ProfileOverride.objects.filter(organisation=organisation)
    if ids is not None:
        customers, assigned = customers.filter(pk__in=ids), assigned.filter(customer_id__in=ids)
        overrides = overrides.filter(customer_id__in=ids)
    rows = list(customers.values_list("pk", "is_business", "scenario_id").order_by("pk"))
    sums = tallies(organisation, day, ids)
    current = {customer_id: (pk, profile_id)
               for pk, customer_id, profile_id in assigned.values_list("pk", "customer_id", "profile_id")}
    imposed = dict(overrides.values_list("customer_id", "profile_id"))
    book = ScenarioBook.load(organisation)
    names = _scenario_names(organisation)

    created: list[CustomerProfile] = []
    updated: list[CustomerProfile] = []
    moves: dict[int, tuple[int | None, int | None]] = {}
    events: list[NewEvent] = []
    for customer_id, is_business, scenario_id in rows:
        history = PaymentHistory.of(sums.get(customer_id, EMPTY), day)
        rule = choose(rules, is_business, history)
        computed = profiles[rule.key] if rule and rule.key is not None else None
        override = profiles.get(imposed[customer_id]) if customer_id in imposed else None
        effective = override or computed
        target = effective.scenario_id if effective else None
        report.customers += 1
        label = effective.name if effective else "aucun profil"
        report.by_profile[label] = report.by_profile.get(label, 0) + 1

        previous = current.get(customer_id)
        previous_id = previous[1] if previous else None
        changed = previous is None or previous_id != (computed.pk if computed else None)
        if changed:
            row = CustomerProfile(pk=previous[0] if previous else None, organisation=organisation,
                                  customer_id=customer_id, profile=computed, assigned_on=day,
                                  figures=history.as_dict())
            (updated if previous else created).append(row)
        if target != scenario_id:
            moves[customer_id] = (scenario_id, target)
        scenario_change = {"from": names.get(scenario_id) if scenario_id else None,
                           "to": names.get(target) if target else None} if target != scenario_id else None
        if changed and (computed is not None or previous_id is not None):
            report.changed += 1
            events.append(kinds.profile_changed(
                customer_id=customer_id,
                from_=profiles[previous_id].name if previous_id in profiles else None,
                to=computed.name if computed else None,
                figures=history.as_dict(),
                override=override.name if override else None,
                scenario=scenario_change,
                actor=actor,
            ))
        elif scenario_change is not None:
            events.append(kinds.profile_scenario_changed(
                customer_id=customer_id,
                profile=effective.name if effective else None,
                override=override is not None,
                scenario=scenario_change,
                actor=actor,
            ))

    return _Decision(report, created, updated, moves, events, book)


def assign_profiles(organisation: Organisation, day: date, *, customer_ids: Iterable[int] | None = None,
                    actor: str = "system") -> AssignReport:
    """Give every customer (or the ones listed) the profile its figures call for and the scenario
    of that profile — or of the profile a collector imposed. Records ``profile.changed`` when a
    customer's profile changes (with the figures), ``profile.scenario_changed`` when only the
    scenario does (a profile's scenario was edited). Nothing happens for an organisation
    without profiles; a customer that no profile matches follows the default scenario.

    A new scenario reschedules the customer's open invoices, so they are locked first, in the
    project's order (``relance/locks.py``): the moves are decided once without locks, the
    invoices of those customers locked, then the organisation row, and the decision taken again
    under it. A customer whose move appears only in the second decision (its figures or an
    override changed in between) keeps its scenario until the next assignment (``deferred``)."""
    profiles = {p.pk: p for p in PayerProfile.objects.filter(organisation=organisation).select_related("scenario")}
    if not profiles:
        return AssignReport(day)
    rules: list[Rule] = sorted((p.rule() for p in profiles.values()), key=lambda r: r.position)
    ids = list(customer_ids) if customer_ids is not None else None
    with transaction.atomic():
        foreseen = set(_decide(organisation, day, profiles, rules, ids, actor).moves)
        lock_customer_invoices(organisation, foreseen)
        _lock(organisation)
        decision = _decide(organisation, day, profiles, rules, ids, actor)
        report, moves, events = decision.report, decision.moves, decision.events
        created, updated = decision.created, decision.updated
        deferred = set(moves) - foreseen
        if deferred:  # left whole to the next assignment: profile, scenario and events
            moves = {c: m for c, m in moves.items() if c not in deferred}
            created = [r for r in created if r.customer_id not in deferred]
            updated = [r for r in updated if r.customer_id not in deferred]
            report.changed -= sum(1 for e in events if e.customer_id in deferred and e.kind == kinds.PROFILE_CHANGED)
            events = [e for e in events if e.customer_id not in deferred]
            report.deferred = len(deferred)
        CustomerProfile.objects.bulk_create(created, batch_size=CHUNK)
        CustomerProfile.objects.bulk_update(updated, ["profile", "assigned_on", "figures"], batch_size=CHUNK)
        report.scenarios_changed = len(moves)
        report.invoices_rescheduled = _apply_scenarios(organisation, moves, decision.book)
        record_many(organisation, events)
    return report


# --- Override -------------------------------------------------------------------------------

def _lock(organisation: Organisation) -> None:
    """Assignments and overrides of one organisation one at a time (the lock the event log takes
    anyway): an override made during a daily run is never overwritten by the run's stale view."""
    lock_organisation(organisation)


def _own(organisation: Organisation, customer: Customer, profile: PayerProfile | None = None) -> None:
    if customer.organisation_id != organisation.pk:
        raise NotFound(f"client {customer.code} introuvable")
    if profile is not None and profile.organisation_id != organisation.pk:
        raise NotFound(f"profil « {profile.name} » introuvable")


def override_profile(organisation: Organisation, customer: Customer, profile: PayerProfile, reason: str,
                     actor: str) -> ProfileOverride:
    """Impose a profile (and so its scenario) on a customer, whatever its figures, until cleared."""
    _own(organisation, customer, profile)
    reason = " ".join((reason or "").split())
    if not reason:
        raise InvalidInput("Indiquez le motif du choix de profil : il est conservé dans l’historique.")
    if len(reason) > 300:
        raise InvalidInput("Le motif ne doit pas dépasser 300 caractères.")
    with transaction.atomic():
        lock_customer_invoices(organisation, [customer.pk])  # a new scenario reschedules them
        _lock(organisation)
        locked = lock_rows(Customer, [customer.pk])[0]
        before = ProfileOverride.objects.filter(customer=locked).select_related("profile").first()
        override, _ = ProfileOverride.objects.update_or_create(
            customer=locked,
            defaults={"organisation": organisation, "profile": profile, "by": actor, "reason": reason,
                      "at": clock.now()},
        )
        book = ScenarioBook.load(organisation)
        names = _scenario_names(organisation)
        rescheduled = 0
        if locked.scenario_id != profile.scenario_id:
            rescheduled = _apply_scenarios(organisation, {locked.pk: (locked.scenario_id, profile.scenario_id)}, book)
        record_many(organisation, [kinds.profile_overridden(
            customer_id=locked.pk,
            profile=profile.name,
            previous_override=before.profile.name if before else None,
            reason=reason,
            scenario={"from": names.get(locked.scenario_id) if locked.scenario_id else None,
                      "to": names.get(profile.scenario_id)},
            invoices_rescheduled=rescheduled,
            actor=actor,
        )])
    customer.scenario_id = profile.scenario_id
    return override


def clear_override(organisation: Organisation, customer: Customer, actor: str, reason: str = "") -> AssignReport:
    """Give the customer back to the rules: its profile and scenario are those its figures call for."""
    _own(organisation, customer)
    with transaction.atomic():
        lock_customer_invoices(organisation, [customer.pk])  # a new scenario reschedules them
        _lock(organisation)
        locked = lock_rows(Customer, [customer.pk])[0]
        override = ProfileOverride.objects.filter(customer=locked).select_related("profile").first()
        if override is None:
            raise NotFound(f"aucun profil n’est imposé au client {customer.code}")
        override.delete()
        record_many(organisation, [kinds.profile_override_cleared(
            customer_id=locked.pk, profile=override.profile.name, reason=" ".join(reason.split()), actor=actor,
        )])
        report = assign_profiles(organisation, today_for(organisation), customer_ids=[locked.pk], actor=actor)
    customer.refresh_from_db(fields=["scenario"])
    return report


def install_for_new_organisation(sender: Any, organisation: Organisation, actor: str = "system", **kwargs: Any) -> None:
    """Receiver of ``ledger.signals.organisation_created`` (after dunning's: the standard scenario
    is there, else ``install_default_profiles`` installs it)."""
    install_default_profiles(organisation, actor)
