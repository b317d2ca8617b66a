"""Editing scenarios and message templates, and previewing a message on a real customer.

Saving steps never breaks the proof of what was sent: a step that a reminder already used
is updated in place (its position keeps its identity) and cannot be deleted. Changing a
scenario's offsets makes the planner recompute the next action of the open invoices it
governs. Templates are compiled and rendered on sample data before they are saved (the
Jinja2 sandbox refuses any attempt to reach code)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

from django.db import transaction
from django.db.models import Q

from relance.clock import today_for
from relance.core.escalation import Stage, scenario_problems, stage
from relance.core.policy import StepSpec
from relance.errors import Conflict, InvalidInput, NotFound
from relance.events import kinds
from relance.events.services import record_many
from relance.ledger.models import Contact, Customer, Invoice, Organisation
from relance.locks import lock_organisation

from ..models import MessageTemplate, Reminder, Scenario, Step
from . import proofreading
from .charges import charges_of_invoices
from .messages import (
    CHARGED_TEMPLATES,
    TEMPLATE_DIR,
    RenderedMessage,
    build_context,
    render_source,
    sample_context,
    template_source,
    validate_template,
)

LANGUAGES = ("fr", "en")
CHANNELS = {value for value, _ in Step.CHANNELS}
MAX_STEPS = 20
#: Channels whose step sends no message (the template is a label for the task).
SILENT_CHANNELS = {"phone", "litigation"}


@dataclass(frozen=True)
class StepInput:
    label: str
    offset_days: int
    channel: str
    template: str
    tone: int = 1
    call_task: bool = False
    attach_invoices: bool = False
    needs_approval: bool = False


def shipped_template_keys() -> list[str]:
    return sorted(p.stem for p in (TEMPLATE_DIR / "fr").glob("*.txt"))


def template_keys(organisation: Organisation) -> list[str]:
    own = MessageTemplate.objects.filter(organisation=organisation).values_list("key", flat=True)
    return sorted(set(shipped_template_keys()) | set(own))


def scenario_of(organisation: Organisation, pk: int) -> Scenario:
    scenario = Scenario.objects.filter(organisation=organisation, pk=pk).prefetch_related("steps").first()
    if scenario is None:
        raise NotFound("scénario introuvable")
    return scenario


def _check(organisation: Organisation, steps: list[StepInput]) -> list[str]:
    problems: list[str] = []
    if not steps:
        problems.append("un scénario compte au moins une étape")
    if len(steps) > MAX_STEPS:
        problems.append(f"au plus {MAX_STEPS} étapes")
    keys = set(template_keys(organisation))
    previous: int | None = None
    for n, s in enumerate(steps, start=1):
        where = f"étape {n}"
        if not s.label.strip():
            problems.append(f"{where} : libellé manquant")
        if s.channel not in CHANNELS:
            problems.append(f"{where} : canal « {s.channel} » inconnu")
        if s.template not in keys and s.channel not in SILENT_CHANNELS:
            problems.append(f"{where} : modèle « {s.template} » inconnu")
        if not 1 <= s.tone <= 5:
            problems.append(f"{where} : la fermeté va de 1 à 5")
        if not -60 <= s.offset_days <= 365:
            problems.append(f"{where} : décalage hors limites (de J−60 à J+365)")
        if previous is not None and s.offset_days <= previous:
            problems.append(f"{where} : le décalage (J{s.offset_days:+d}) doit suivre celui de l’étape précédente "
                            f"(J{previous:+d})")
        previous = s.offset_days
    if not problems:
        specs = [StepSpec(n, s.offset_days, s.channel, s.tone, s.call_task, s.template) for n, s in enumerate(steps)]
        problems += scenario_problems(specs)
    return problems


def _reschedule(organisation: Organisation, scenario: Scenario) -> None:
    """The open invoices governed by ``scenario`` get their next action computed again by the planner."""
    governed = Q(customer__scenario=scenario)
    if scenario.is_default:
        governed |= Q(customer__scenario__isnull=True)
    Invoice.objects.filter(governed, organisation=organisation, status=Invoice.Status.OPEN).update(
        next_action_date=None)


def save_steps(organisation: Organisation, scenario: Scenario, steps: list[StepInput], *, actor: str) -> Scenario:
    """Replace the steps of ``scenario`` by ``steps`` (in order); all or nothing."""
    problems = _check(organisation, steps)
    if problems:
        raise InvalidInput("scénario non enregistré : " + " ; ".join(problems))
    with transaction.atomic():
        existing = {s.position: s for s in Step.objects.select_for_update().filter(scenario=scenario)}
        before = [step_values(existing[p]) for p in sorted(existing)]
        removed = [p for p in existing if p >= len(steps)]
        used = set(Reminder.objects.filter(step__scenario=scenario, step__position__in=removed)
                   .values_list("step__position", flat=True))
        if used:
            labels = ", ".join(existing[p].label for p in sorted(used))
            raise Conflict(f"impossible de supprimer une étape qui a déjà servi ({labels}) : "
                           "modifiez-la plutôt, ou créez un nouveau scénario")
        Step.objects.filter(scenario=scenario, position__in=removed).delete()
        for position, s in enumerate(steps):
            values = {k: v for k, v in asdict(s).items()}
            values["label"] = s.label.strip()
            current = existing.get(position)
            if current is None:
                Step.objects.create(scenario=scenario, position=position, **values)
            else:
                for k, v in values.items():
                    setattr(current, k, v)
                current.save()
        after = [step_values(s) for s in Step.objects.filter(scenario=scenario).order_by("position")]
        if before != after:
            _reschedule(organisation, scenario)
            record_many(organisation, [kinds.scenario_updated(scenario=scenario.name, before=before, after=after,
                                                              actor=actor)])
    return scenario_of(organisation, scenario.pk)


def entry_steps(scenario: Scenario) -> list[Step]:
    """The steps a late invoice may start at: reminders after the due date (``core.escalation``)."""
    return [s for s in scenario.steps.all().order_by("position") if stage(s.spec()) == Stage.REMINDER]


def set_late_entry(organisation: Organisation, scenario: Scenario, position: int | None, *, actor: str) -> Scenario:
    """The step an invoice entering the sequence late starts at (``None``: the first reminder after
    the due date). Never a formal notice nor the hand-over; the planner recomputes the next actions."""
    problems = scenario_problems([s.spec() for s in scenario.steps.all()], entry_position=position)
    if problems:
        raise InvalidInput("étape d’entrée non enregistrée : " + " ; ".join(problems))
    with transaction.atomic():
        before = scenario.late_entry_position
        scenario.late_entry_position = position
        scenario.save(update_fields=["late_entry_position"])
        if before != position:
            _reschedule(organisation, scenario)
            record_many(organisation, [kinds.scenario_updated(kinds.SCENARIO_LATE_ENTRY_CHANGED, scenario=scenario.name,
                                                              before=before, after=position, actor=actor)])
    return scenario


def step_values(s: Step) -> dict[str, Any]:
    return {"label": s.label, "offset_days": s.offset_days, "channel": s.channel, "template": s.template,
            "tone": s.tone, "call_task": s.call_task, "attach_invoices": s.attach_invoices,
            "needs_approval": s.needs_approval}


def create_scenario(organisation: Organisation, name: str, *, copy_of: Scenario | None, actor: str) -> Scenario:
    name = name.strip()
    if not name:
        raise InvalidInput("nom du scénario manquant")
    if Scenario.objects.filter(organisation=organisation, name=name).exists():
        raise Conflict(f"un scénario « {name} » existe déjà")
    with transaction.atomic():
        scenario = Scenario.objects.create(organisation=organisation, name=name,
                                           thank_you=copy_of.thank_you if copy_of else True)
        if copy_of is not None:
            Step.objects.bulk_create([Step(scenario=scenario, position=s.position, **step_values(s))
                                      for s in copy_of.steps.all()])
        record_many(organisation, [kinds.scenario_created(scenario=name, copy_of=copy_of.name if copy_of else None,
                                                          actor=actor)])
    return scenario


def set_default(organisation: Organisation, scenario: Scenario, *, actor: str) -> None:
    with transaction.atomic():
        Scenario.objects.filter(organisation=organisation, is_default=True).exclude(pk=scenario.pk).update(
            is_default=False)
        if not scenario.is_default:
            scenario.is_default = True
            scenario.save(update_fields=["is_default"])
            Invoice.objects.filter(organisation=organisation, status=Invoice.Status.OPEN,
                                   customer__scenario__isnull=True).update(next_action_date=None)
            record_many(organisation, [kinds.scenario_default(scenario=scenario.name, actor=actor)])


# --------------------------------------------------------------------------- templates


def save_template(organisation: Organisation, key: str, language: str, subject: str, body: str, *,
                  actor: str, check_writing: bool = False, writing_confirmed: bool = False,
                  today: date | None = None, customer: Customer | None = None) -> MessageTemplate:
    """Validate (compile and render on sample data, in the sandbox) then save.

    ``check_writing`` (the editor): the text rendered as the preview shows it (on ``customer``,
    else on sample data) goes through the writing check (:func:`proofread`); a spelling mistake
    is saved only when ``writing_confirmed``, else :class:`~.proofreading.WritingToConfirm` and
    nothing is saved. The mistakes confirmed are recorded in the ``template.saved`` event."""
    if language not in LANGUAGES:
        raise InvalidInput(f"langue « {language} » inconnue")
    if key not in template_keys(organisation) or not key.replace("_", "").isalnum():
        raise InvalidInput(f"modèle « {key} » inconnu")
    if not subject.strip():
        raise InvalidInput("l’objet du message est vide")
    validate_template(subject, body, language)
    confirmed: list[dict[str, Any]] = []
    if check_writing:
        found = proofread(organisation, key, language, today or today_for(organisation), customer=customer,
                          subject=subject, body=body)
        if found is not None and found.has_spelling:
            if not writing_confirmed:
                raise proofreading.WritingToConfirm(found)
            confirmed = [f.as_dict() for f in found.spelling[:proofreading.MAX_RECORDED]]
    with transaction.atomic():
        template, created = MessageTemplate.objects.update_or_create(
            organisation=organisation, key=key, language=language, defaults={"subject": subject, "body": body})
        record_many(organisation, [kinds.template_saved(key=key, language=language, created=created, actor=actor,
                                                        writing_problems=confirmed or None)])
    return template


#: bounds of the organisation's accepted words (``Organisation.accepted_words``)
MAX_ACCEPTED_WORDS = 2000
MAX_ACCEPTED_WORD = 100


def accepted_words(organisation: Organisation) -> list[str]:
    return [w for w in (line.strip() for line in organisation.accepted_words.splitlines()) if w]


def set_writing_settings(organisation: Organisation, words: str, holds: bool, *, actor: str) -> list[str]:
    """Save the words the writing check accepts (one a line: trade names, products, proper
    nouns; duplicates and blank lines dropped) and whether an edited text with a spelling
    mistake waits « à valider » (``Organisation.writing_check_holds``). Returns the words."""
    kept = list(dict.fromkeys(w for w in (" ".join(line.split()) for line in words.splitlines()) if w))
    too_long = [w for w in kept if len(w) > MAX_ACCEPTED_WORD]
    if too_long:
        raise InvalidInput(f"mot trop long (au plus {MAX_ACCEPTED_WORD} caractères) : « {too_long[0][:40]}… »")
    if len(kept) > MAX_ACCEPTED_WORDS:
        raise InvalidInput(f"au plus {MAX_ACCEPTED_WORDS} mots acceptés")
    with transaction.atomic():
        lock_organisation(organisation)
        row = Organisation.objects.get(pk=organisation.pk)
        before = (accepted_words(row), row.writing_check_holds)
        row.accepted_words = "\n".join(kept)
        row.writing_check_holds = holds
        row.save(update_fields=["accepted_words", "writing_check_holds"])
        organisation.accepted_words, organisation.writing_check_holds = row.accepted_words, holds
        if before != (kept, holds):
            record_many(organisation, [kinds.organisation_writing_settings(accepted_words=kept, holds=holds,
                                                                           actor=actor)])
    return kept


def reset_template(organisation: Organisation, key: str, language: str, *, actor: str) -> bool:
    """Drop the organisation's wording: the shipped one applies again."""
    deleted, _ = MessageTemplate.objects.filter(organisation=organisation, key=key, language=language).delete()
    if deleted:
        record_many(organisation, [kinds.template_reset(key=key, language=language, actor=actor)])
    return bool(deleted)


def customer_context(organisation: Organisation, customer: Customer, today: date, key: str,
                     invoices: Sequence[Invoice] | None = None) -> dict[str, Any]:
    """The context the dispatcher would build today for ``invoices`` (default: all of
    ``customer``'s open invoices), figures included for the steps that state them when the rates
    are known. No side effect."""
    if invoices is None:
        invoices = list(Invoice.objects.filter(organisation=organisation, customer=customer,
                                               status=Invoice.Status.OPEN).order_by("due_date", "number"))
    contacts = list(Contact.objects.filter(customer=customer).order_by("-is_billing", "pk"))
    contact = next((c for c in contacts if c.is_billing), contacts[0] if contacts else None)
    charges = {}
    if key in CHARGED_TEMPLATES and customer.is_business and invoices:
        from relance.rates.services import rate_tables

        computed = charges_of_invoices(organisation, invoices, today, rate_tables())
        if all(c.missing is None for c in computed.values()):
            charges = computed
    return build_context(organisation, customer, contact, invoices, today, charges=charges)


def _preview_context(organisation: Organisation, key: str, language: str, today: date,
                     customer: Customer | None, invoices: Sequence[Invoice] | None) -> dict[str, Any]:
    context = sample_context(language)
    if invoices:
        context = customer_context(organisation, invoices[0].customer, today, key, invoices)
        context["langue"] = language
    elif customer is not None and Invoice.objects.filter(customer=customer, status=Invoice.Status.OPEN).exists():
        context = customer_context(organisation, customer, today, key)
        context["langue"] = language
    return context


def preview(organisation: Organisation, key: str, language: str, today: date, *, customer: Customer | None = None,
            subject: str | None = None, body: str | None = None,
            invoices: Sequence[Invoice] | None = None) -> RenderedMessage:
    """Render a template (the saved one, or ``subject``/``body`` being edited) on a real
    customer's open invoices (or only ``invoices``: those a message will list), or on sample
    data without a customer (or without invoices)."""
    return preview_checked(organisation, key, language, today, customer=customer, subject=subject, body=body,
                           invoices=invoices, check=False)[0]


def preview_checked(organisation: Organisation, key: str, language: str, today: date, *,
                    customer: Customer | None = None, subject: str | None = None, body: str | None = None,
                    invoices: Sequence[Invoice] | None = None,
                    check: bool = True) -> tuple[RenderedMessage, proofreading.Review | None]:
    """:func:`preview`, and the writing check of the message rendered (its subject and text
    version: the variables filled, their names accepted), ``None`` when the checker failed
    or ``check`` is false."""
    if subject is None or body is None:
        subject, body = template_source(organisation, key, language)
    context = _preview_context(organisation, key, language, today, customer, invoices)
    rendered = render_source(subject, body, context, key)
    if not check:
        return rendered, None
    found = proofreading.safe_review(organisation, rendered.subject, rendered.text, language,
                                     extra_words=proofreading.context_names(context))
    return rendered, found


def proofread(organisation: Organisation, key: str, language: str, today: date, *,
              customer: Customer | None = None, subject: str | None = None,
              body: str | None = None) -> proofreading.Review | None:
    """The writing check of a template as the preview renders it (``TemplateProblem`` if it does not render)."""
    return preview_checked(organisation, key, language, today, customer=customer, subject=subject, body=body)[1]
