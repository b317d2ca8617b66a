"""The collector's actions: promises, disputes, pauses, stops and payment plans from the
customer page, and the day's call list with its outcomes. Thin views over
``holds.services.holds`` and ``plans``, ``dunning.services.calls`` and ``plan_messages``: they
parse the form, call one service, and come back to the page with a message (errors in French,
nothing saved half-way)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from relance.actors import actor_of
from relance.clock import today_for
from relance.dunning.models import CallTask
from relance.dunning.services import calls, escalation, plan_messages
from relance.errors import InvalidInput, RelanceError
from relance.holds.models import Hold, PaymentPlan, Promise
from relance.holds.services import holds, plans
from relance.ledger import queries as ledger
from relance.ledger.models import Customer, Invoice

from .rendering import render_page
from .scoping import Scope, scope
from .uploads import read_upload

MAX_ATTACHMENT = 10 * 1024 * 1024


def _acting_scope(request: HttpRequest) -> Scope:
    sc = scope(request)
    if not sc.can_edit:
        raise PermissionDenied(_("Votre accès est en lecture seule."))
    return sc


def _who(request: HttpRequest) -> str:
    user = request.user
    return getattr(user, "get_full_name", lambda: "")() or user.get_username()


def _date(request: HttpRequest, name: str, label: str, required: bool = True) -> date | None:
    raw = request.POST.get(name, "").strip()
    if not raw:
        if required:
            raise InvalidInput(_("%(label)s : date manquante") % {"label": label})
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise InvalidInput(_("%(label)s : date illisible « %(raw)s » (attendu AAAA-MM-JJ)")
                           % {"label": label, "raw": raw}) from None


def _amount(request: HttpRequest, name: str, label: str, required: bool = True) -> Decimal | None:
    raw = request.POST.get(name, "").strip().replace("\u202f", "").replace(" ", "").replace(",", ".")
    if not raw:
        if required:
            raise InvalidInput(_("%(label)s : montant manquant") % {"label": label})
        return None
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise InvalidInput(_("%(label)s : montant illisible") % {"label": label}) from None
    if value <= 0 or value.as_tuple().exponent < -2:  # type: ignore[operator]
        raise InvalidInput(_("%(label)s : montant positif, au centime près") % {"label": label})
    return value


def _attachment(request: HttpRequest) -> tuple[str, bytes] | None:
    return read_upload(request, "attachment", MAX_ATTACHMENT, "piece-jointe",
                       _("pièce jointe trop lourde (10 Mo au plus)"))


def _invoices(request: HttpRequest, customer: Customer) -> list[Invoice]:
    ids = [int(x) for x in request.POST.getlist("invoices") if x.isdigit()]
    return list(Invoice.objects.filter(organisation=customer.organisation, customer=customer, pk__in=ids,
                                       status=Invoice.Status.OPEN))


def _back(customer: Customer) -> HttpResponseRedirect:
    return HttpResponseRedirect(reverse("web:customer", kwargs={"pk": customer.pk}) + "#actions")


def _fail(request: HttpRequest, exc: RelanceError) -> None:
    text = exc.message
    messages.error(request, text[:1].upper() + text[1:])


@login_required
@require_POST
def customer_action(request: HttpRequest, pk: int, action: str) -> HttpResponseRedirect:
    sc = _acting_scope(request)
    org = sc.organisation
    customer = ledger.customer_for(org, pk, sc.collector_id)
    actor = actor_of(request)
    note = request.POST.get("note", "")
    try:
        if action == "promesse":
            promised_on = _date(request, "promised_on", _("Date promise"))
            amount = _amount(request, "amount", _("Montant promis"))
            assert promised_on is not None and amount is not None
            holds.record_promise(org, customer, promised_on, amount, via=request.POST.get("via", Promise.Via.PHONE),
                                 obtained_by=_who(request), invoices=_invoices(request, customer), note=note,
                                 actor=actor)
            messages.success(request, _("Promesse enregistrée : les factures concernées ne sont plus relancées "
                                        "jusqu’à la date promise."))
        elif action == "litige":
            chosen = _invoices(request, customer)
            if not chosen:
                raise InvalidInput(_("choisissez la ou les factures contestées"))
            reason = request.POST.get("reason", "")
            attachment = _attachment(request)
            for invoice in chosen:
                holds.open_dispute(org, invoice, reason, note=note, attachment=attachment, actor=actor)
            messages.success(request, _("Litige ouvert : seules les factures contestées sont écartées des relances."))
        elif action == "pause":
            until = _date(request, "until", _("Pause jusqu’au"))
            assert until is not None
            chosen = _invoices(request, customer)
            if chosen:
                for invoice in chosen:
                    holds.pause(org, customer, until, reason=note, invoice=invoice, actor=actor)
            else:
                holds.pause(org, customer, until, reason=note, actor=actor)
            messages.success(request, _("Relances en pause."))
        elif action == "arret":
            holds.stop(org, customer, request.POST.get("cause", Hold.StopCause.OTHER), reason=note, actor=actor)
            messages.success(request, _("Relances arrêtées pour ce client."))
        elif action == "echeancier":
            count = request.POST.get("count", "").strip()
            if not count.isdigit() or not 2 <= int(count) <= 36:
                raise InvalidInput(_("nombre d’échéances : de 2 à 36"))
            chosen = _invoices(request, customer)
            if not chosen:
                raise InvalidInput(_("choisissez les factures de l’échéancier"))
            plans.propose_plan(org, customer, chosen, count=int(count), first_due=_date(request, "first_due",
                                                                                         _("Première échéance")),
                               every_months=1, waive_penalties=request.POST.get("waive") == "on", note=note,
                               actor=actor)
            messages.success(request, _("Échéancier proposé : éditez la lettre d’accord à faire signer."))
        else:
            raise Http404("Action inconnue.")
    except RelanceError as exc:
        _fail(request, exc)
    return _back(customer)


@login_required
@require_POST
def hold_action(request: HttpRequest, pk: int, action: str) -> HttpResponseRedirect:
    sc = _acting_scope(request)
    org = sc.organisation
    hold = Hold.objects.filter(organisation=org, pk=pk).select_related("customer").first()
    if hold is None or (sc.collector_id is not None and hold.customer.collector_id != sc.collector_id):
        raise Http404("Suspension introuvable.")
    note = request.POST.get("note", "")
    try:
        if action == "resoudre" and hold.kind == Hold.Kind.DISPUTE:
            holds.resolve_dispute(org, hold, actor=actor_of(request), note=note)
            messages.success(request, _("Litige résolu : la facture est de nouveau relancée."))
        elif action == "perte" and hold.kind == Hold.Kind.DISPUTE:
            holds.write_off_dispute(org, hold, actor=actor_of(request), note=note)
            messages.success(request, _("Créance passée en perte : elle n’est plus relancée."))
        elif action == "lever" and hold.kind in (Hold.Kind.PAUSE, Hold.Kind.STOP):
            holds.lift(org, hold, actor=actor_of(request), note=note)
            messages.success(request, _("Suspension levée : les relances reprennent."))
        else:
            raise InvalidInput(_("action impossible sur cette suspension"))
    except RelanceError as exc:
        _fail(request, exc)
    return _back(hold.customer)


def _plan(sc: Scope, pk: int) -> PaymentPlan:
    plan = PaymentPlan.objects.filter(organisation=sc.organisation, pk=pk).select_related("customer").first()
    if plan is None or (sc.collector_id is not None and plan.customer.collector_id != sc.collector_id):
        raise Http404("Échéancier introuvable.")
    return plan


@login_required
@require_POST
def plan_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    sc = _acting_scope(request)
    plan = _plan(sc, pk)
    try:
        if action == "accepter":
            plans.accept_plan(sc.organisation, plan, actor=actor_of(request))
            messages.success(request, _("Échéancier accepté : les relances portent désormais sur les échéances."))
        elif action == "annuler":
            plans.cancel_plan(sc.organisation, plan, actor=actor_of(request), reason=request.POST.get("note", ""))
            messages.success(request, _("Échéancier annulé."))
        elif action == "lettre":
            pdf = plan_messages.agreement_letter(sc.organisation, plan, actor=actor_of(request))
            response = HttpResponse(pdf, content_type="application/pdf")
            response["Content-Disposition"] = f'inline; filename="accord-echeancier-{plan.pk}.pdf"'
            return response
        elif action == "envoyer":
            _send_agreement(request, sc, plan)
        else:
            raise Http404("Action inconnue.")
    except RelanceError as exc:
        _fail(request, exc)
    return _back(plan.customer)


def _send_agreement(request: HttpRequest, sc: Scope, plan: PaymentPlan) -> None:
    """« Envoyer l’accord »: by email through the dispatcher, once; without an address, the
    letter is issued to be printed and posted instead."""
    try:
        _reminder, created = plan_messages.send_agreement(sc.organisation, plan, actor=actor_of(request))
    except plan_messages.NoEmailAddress:
        plan_messages.agreement_letter(sc.organisation, plan, actor=actor_of(request))
        messages.warning(request, _("Ce client n’a pas d’adresse e-mail : l’accord n’est pas envoyé. Imprimez la "
                                    "lettre d’accord (« Imprimer la lettre d’accord ») et envoyez-la par courrier."))
        return
    if created:
        messages.success(request, _("Accord de l’échéancier n° %(plan)s en cours d’envoi au client par e-mail, "
                                    "la lettre en pièce jointe (PDF).") % {"plan": plan.pk})
    else:
        messages.info(request, _("L’envoi de l’accord de l’échéancier n° %(plan)s a déjà été demandé aujourd’hui : "
                                 "il ne part qu’une fois.") % {"plan": plan.pk})


def customer_workflow(organisation: Any, customer: Customer) -> dict[str, Any]:
    """What the customer page needs for the action forms (a fixed number of queries)."""
    return {
        "dispute_reasons": holds.dispute_reasons(organisation),
        "promise_vias": Promise.Via.choices,
        "stop_causes": Hold.StopCause.choices,
        "plans": list(PaymentPlan.objects.filter(organisation=organisation, customer=customer)
                      .prefetch_related("instalments").order_by("-pk")[:10]),
        "promises": list(Promise.objects.filter(organisation=organisation, customer=customer).order_by("-pk")[:10]),
    }


# --------------------------------------------------------------------------- calls


@login_required
@require_GET
def call_list(request: HttpRequest) -> HttpResponse:
    sc = scope(request)
    day = today_for(sc.organisation)
    items = calls.call_list(sc.organisation, day)
    if sc.collector_id is not None:
        visible = set(ledger.visible(Customer.objects.filter(organisation=sc.organisation), sc.collector_id)
                      .values_list("pk", flat=True))
        items = [i for i in items if i.customer_id in visible]
    context = {"day": day, "items": items, "outcomes": CallTask.Result.choices,
               "dispute_reasons": holds.dispute_reasons(sc.organisation)}
    return render_page(request, "relance/calls.html", sc, context)


@login_required
@require_POST
def call_outcome(request: HttpRequest, pk: int) -> HttpResponseRedirect:
    sc = _acting_scope(request)
    task = CallTask.objects.filter(organisation=sc.organisation, pk=pk).select_related("customer").first()
    if task is None or (sc.collector_id is not None and task.customer.collector_id != sc.collector_id):
        raise Http404("Appel introuvable.")
    outcome = request.POST.get("outcome", "")
    try:
        kwargs: dict[str, Any] = {"note": request.POST.get("note", "")}
        if outcome == CallTask.Result.PROMISE:
            kwargs.update(promised_on=_date(request, "promised_on", _("Date promise")),
                          amount=_amount(request, "amount", _("Montant promis")))
        elif outcome == CallTask.Result.DISPUTE:
            kwargs.update(reason=request.POST.get("reason") or None, invoices=_invoices(request, task.customer),
                          attachment=_attachment(request))
        elif outcome == CallTask.Result.NOT_REACHED:
            kwargs.update(retry_on=_date(request, "retry_on", _("Rappeler le"), required=False))
        elif outcome == CallTask.Result.PLAN_REQUESTED:
            count = request.POST.get("count", "").strip()
            if count:
                if not count.isdigit() or not 2 <= int(count) <= 36:
                    raise InvalidInput(_("nombre d’échéances : de 2 à 36"))
                kwargs.update(count=int(count), first_due=_date(request, "first_due", _("Première échéance")))
        calls.record_call_outcome(sc.organisation, task, outcome, actor=actor_of(request), **kwargs)
        messages.success(request, _("Appel à %(name)s enregistré.") % {"name": task.customer.legal_name})
    except RelanceError as exc:
        _fail(request, exc)
    return HttpResponseRedirect(reverse("web:calls") + f"#appel-{task.pk}")


@login_required
@require_GET
def plan_agreement(request: HttpRequest, pk: int) -> FileResponse:
    """The agreement letter as issued (kept with its SHA-256)."""
    sc = scope(request)
    plan = _plan(sc, pk)
    if not plan.agreement:
        raise Http404("Lettre d’accord pas encore éditée.")
    return FileResponse(plan.agreement.open("rb"), content_type="application/pdf",
                        filename=f"accord-echeancier-{plan.pk}.pdf")


@login_required
@require_POST
def invoice_formal_notice(request: HttpRequest, pk: int) -> HttpResponseRedirect:
    """A second formal notice for one invoice, at this person's request, with the reason
    (``dunning.services.escalation.reissue_formal_notice``); it leaves with the day's run."""
    sc = _acting_scope(request)
    invoice = ledger.invoice_for(sc.organisation, pk, sc.collector_id)
    try:
        reminder = escalation.reissue_formal_notice(sc.organisation, invoice, reason=request.POST.get("reason", ""),
                                                    actor=actor_of(request))
        messages.success(request, _("Nouvelle mise en demeure prévue (relance n° %(pk)s) : elle part en recommandé "
                                    "avec les envois du jour.") % {"pk": reminder.pk})
    except RelanceError as exc:
        _fail(request, exc)
    return HttpResponseRedirect(reverse("web:invoice", kwargs={"pk": invoice.pk}))
