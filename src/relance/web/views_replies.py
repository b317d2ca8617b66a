"""« Boîte de réception »: the customers' replies read from the organisation's mailbox (issue 15).

The list puts first what waits for a person (« à traiter », then « à rattacher »), with the
classifier's accuracy as people see it; one reply shows its category and the words it was read
from, the effect proposed or applied, and the original message — its text escaped, its HTML only
in a sandboxed frame — with the person's actions: confirm (the category changed first or not),
attach to a customer, set aside, reopen, undo. Thin views over ``replies.queries`` and
``replies.services.review``; read-only members see but cannot act, a restricted collector sees
only the replies of their customers (never those still « à rattacher »).
"""

from __future__ import annotations

from datetime import date
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Q, QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from relance.actors import actor_of
from relance.core import formatting as fmt
from relance.core.replies.inbox import Action, EffectPlan, named_invoices
from relance.core.replies.message import decode_text
from relance.errors import InvalidInput, NotFound, RelanceError
from relance.ledger import queries as ledger
from relance.ledger.models import Customer
from relance.replies import queries
from relance.replies.models import CATEGORIES, Mailbox, Reply
from relance.replies.services import review
from relance.replies.services.effects import open_numbers, plan_for

from .language import current_language
from .rendering import render_page
from .scoping import Scope, scope
from .views_collector import _acting_scope, _fail

REPLIES_PER_PAGE = 50
#: the customers offered in the « Rattacher » list (a search by code or name finds the others)
CHOICES_LIMIT = 200
#: the HTML version of a message shown at most (the .eml download has all of it)
MAX_HTML_CHARS = 500_000
#: the corrections shown under the accuracy
CORRECTIONS_SHOWN = 3

WAITING = (Reply.State.TO_REVIEW, Reply.State.TO_ATTACH)

# The HTML of a customer's message is shown only in ``<iframe sandbox srcdoc=…>`` (no
# ``allow-scripts``, no ``allow-same-origin``, no forms, no pop-ups, no top navigation): its scripts
# never run and it cannot reach the page, the session or the application with the user's origin.
# A ``srcdoc`` document inherits the page's Content-Security-Policy (``relance.web.csp``: scripts
# only from our static files, images only from ourselves or ``data:``, frames only from ourselves),
# so no tracking image nor remote font or style is fetched; this policy, put first in the frame's
# document, forbids what remains (even our own URLs): an image in the message shows only if it is
# inlined as ``data:``. A policy can only add restrictions: the message cannot loosen it.
FRAME_POLICY = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src data:; "
                "base-uri 'none'; form-action 'none'")


def _labels() -> dict[str, str]:
    return {code: str(label) for code, label in CATEGORIES}


def _visible(qs: QuerySet[Reply], sc: Scope) -> QuerySet[Reply]:
    """The replies ``sc`` may see: all, or those of a restricted collector's customers."""
    return ledger.visible(qs, sc.collector_id, "customer__")


def _reply_for(sc: Scope, pk: int) -> Reply:
    found = (_visible(Reply.objects.filter(organisation=sc.organisation, pk=pk), sc)
             .select_related("customer", "reminder", "organisation").first())
    if found is None:
        raise Http404(_("Réponse introuvable."))
    return found


def waiting_for(sc: Scope) -> int:
    """The replies waiting for a person that ``sc`` sees (the navigation's counter)."""
    if sc.collector_id is None:
        return queries.waiting_count(sc.organisation)
    return _visible(Reply.objects.filter(organisation=sc.organisation, state__in=WAITING), sc).count()


# ------------------------------------------------------------------------------------------
# The inbox
# ------------------------------------------------------------------------------------------


def _accuracy(sc: Scope) -> dict[str, Any]:
    result = review.accuracy(sc.organisation)
    labels = _labels()
    return {
        "reviewed": result.reviewed,
        "agreed": result.agreed,
        "percent": round(result.rate * 100) if result.rate is not None else None,
        "corrections": [{"predicted": labels.get(p, p), "kept": labels.get(k, k), "count": n}
                        for p, k, n in result.corrections[:CORRECTIONS_SHOWN]],
    }


@login_required
@require_GET
def inbox(request: HttpRequest) -> HttpResponse:
    sc = scope(request)
    org = sc.organisation
    state = request.GET.get("etat", "")
    if state not in Reply.State.values:
        state = ""
    raw_customer = request.GET.get("client", "")
    customer_id = int(raw_customer) if raw_customer.isdigit() else None
    replies = _visible(queries.inbox(org, state=state or None, customer_id=customer_id), sc)
    page = Paginator(replies, REPLIES_PER_PAGE).get_page(request.GET.get("page"))
    counted = _visible(Reply.objects.filter(organisation=org, **({"customer_id": customer_id} if customer_id else {})),
                       sc).aggregate(
        **{value: Count("pk", filter=Q(state=value)) for value in Reply.State.values})
    order = [Reply.State.TO_REVIEW, Reply.State.TO_ATTACH, Reply.State.APPLIED, Reply.State.DISMISSED]
    context = {
        "state": state,
        "states": [(value, Reply.State(value).label, counted[value] or 0) for value in order],
        "total": sum(v or 0 for v in counted.values()),
        "page": page,
        "labels": _labels(),
        "accuracy": _accuracy(sc),
        "customer": ledger.visible(Customer.objects.filter(organisation=org), sc.collector_id)
        .filter(pk=customer_id).first() if customer_id else None,
        "querystring": urlencode({k: v for k, v in (("etat", state), ("client", customer_id or "")) if v}),
    }
    return render_page(request, "web/replies/inbox.html", sc, context)


# ------------------------------------------------------------------------------------------
# One reply
# ------------------------------------------------------------------------------------------


def _day(value: Any) -> str:
    return fmt.long_date(value, current_language()) if value is not None else ""


def describe_plan(plan: EffectPlan) -> str:
    """What confirming will do, in French (the plan of ``effects.plan_for``)."""
    numbers = ", ".join(plan.invoice_numbers)
    action = plan.action
    if action is Action.PAUSE_PAID:
        return _("Relances en pause jusqu’au %(day)s, le temps que le paiement apparaisse sur le relevé bancaire ; "
                 "s’il n’est pas rapproché d’ici là, une tâche demandera la preuve du paiement.") % {
            "day": _day(plan.pause_until)}
    if action is Action.RESEND:
        what = numbers or _("les factures relancées")
        return _("Une copie de %(what)s part par e-mail, PDF joint (une tâche « renvoyer » est ouverte à la place "
                 "s’il n’y a pas d’adresse e-mail ou pas de PDF), et les relances attendent jusqu’au %(day)s "
                 "(nouveau délai laissé au client).") % {"what": what, "day": _day(plan.pause_until)}
    if action is Action.DISPUTE:
        if numbers:
            return ngettext("Litige ouvert sur %(numbers)s : cette facture n’est plus relancée jusqu’à sa résolution.",
                            "Litige ouvert sur %(numbers)s : ces factures ne sont plus relancées jusqu’à sa "
                            "résolution.", len(plan.invoice_numbers)) % {"numbers": numbers}
        return _("Litige sur toutes les factures ouvertes du client, à confirmer : la réponse n’en cite "
                 "aucune.")
    if action is Action.PROMISE:
        if plan.promised_on is None:
            return _("Promesse de paiement, mais sans date lue dans la réponse : enregistrez-la depuis la fiche "
                     "du client, ou changez la catégorie.")
        if numbers:
            return ngettext("Promesse de paiement au %(day)s pour %(numbers)s : cette facture n’est plus relancée "
                            "jusqu’à cette date.",
                            "Promesse de paiement au %(day)s pour %(numbers)s : ces factures ne sont plus relancées "
                            "jusqu’à cette date.", len(plan.invoice_numbers)) % {
                "day": _day(plan.promised_on), "numbers": numbers}
        return _("Promesse de paiement au %(day)s pour tout ce que doit le client : plus de relance jusqu’à "
                 "cette date.") % {"day": _day(plan.promised_on)}
    if action is Action.PLAN:
        return _("Une tâche « proposer un échéancier » est ouverte, et les relances attendent jusqu’au %(day)s, "
                 "le temps de le proposer.") % {"day": _day(plan.pause_until)}
    if action is Action.ABSENT:
        return _("Le prochain message attend le retour du destinataire : relances en pause jusqu’au %(day)s.") % {
            "day": _day(plan.pause_until)}
    if action is Action.CONTACT:
        return _("Une tâche « mettre à jour le contact » est ouverte : le destinataire dit ne pas être la bonne "
                 "personne.")
    if plan.needs_person:
        return _("Aucune suite prévue pour cette catégorie : classez la réponse sans suite, ou changez sa "
                 "catégorie.")
    return _("Aucune suite : la pause posée le temps de lire la réponse est levée.")


def describe_effect(effect: dict[str, Any]) -> list[str]:
    """What was applied (``Reply.effect``), in French, one line each."""
    lines: list[str] = []
    action = effect.get("action", "")
    labels = {
        Action.PAUSE_PAID: _("Relances en pause, en attente du relevé bancaire."),
        Action.RESEND: _("Facture renvoyée, nouveau délai laissé au client."),
        Action.DISPUTE: _("Litige ouvert."),
        Action.PROMISE: _("Promesse de paiement enregistrée."),
        Action.PLAN: _("Échéancier à proposer, relances en pause."),
        Action.ABSENT: _("Relances en pause jusqu’au retour du destinataire."),
        Action.CONTACT: _("Contact à mettre à jour."),
        Action.NOTHING: _("Aucune suite."),
    }
    if action in labels:
        lines.append(labels[Action(action)])
    if effect.get("waits_until"):
        try:
            lines.append(_("Attente jusqu’au %(day)s.") % {"day": _day(date.fromisoformat(effect["waits_until"]))})
        except ValueError:
            pass
    if effect.get("disputes"):
        n = len(effect["disputes"])
        lines.append(ngettext("%(n)s facture en litige.", "%(n)s factures en litige.", n) % {"n": n})
    if effect.get("copy"):
        lines.append(_("Copie de la facture par e-mail (message n° %(n)s).") % {"n": effect["copy"]})
    if effect.get("tasks"):
        n = len(effect["tasks"])
        lines.append(ngettext("%(n)s tâche ouverte dans « Appels ».", "%(n)s tâches ouvertes dans « Appels ».", n)
                     % {"n": n})
    if effect.get("note"):
        lines.append(str(effect["note"]))
    lines.append(_("Appliquée automatiquement à la réception.") if effect.get("automatic")
                 else _("Confirmée par une personne."))
    return lines


def _raw_bytes(reply: Reply) -> bytes | None:
    if not reply.raw:
        return None
    try:
        with reply.raw.open("rb") as stream:
            data: bytes = stream.read()
            return data
    except OSError:
        return None


def html_version(raw: bytes | None) -> str:
    """The HTML part of the message (empty when it has none or cannot be read), framed by
    :data:`FRAME_POLICY`, for the sandboxed ``srcdoc``; never inserted in the page itself."""
    if not raw:
        return ""
    try:
        message = message_from_bytes(raw, policy=policy.default)
        assert isinstance(message, EmailMessage)
        part = message.get_body(preferencelist=("html",))
        if part is None or part.get_content_subtype() != "html":
            return ""
        payload = part.get_payload(decode=True)
        if not isinstance(payload, bytes):
            return ""
        charset = part.get_content_charset() or "utf-8"
        try:
            html = payload.decode(charset)
        except (LookupError, UnicodeDecodeError):
            html = decode_text(payload)
    except Exception:  # a broken message: its text and its problems are shown, the .eml downloadable
        return ""
    if not html.strip():
        return ""
    return (f'<!doctype html><meta http-equiv="Content-Security-Policy" content="{FRAME_POLICY}">'
            f'<meta charset="utf-8">{html[:MAX_HTML_CHARS]}')


def _customer_choices(sc: Scope) -> list[Customer]:
    return list(ledger.visible(Customer.objects.filter(organisation=sc.organisation), sc.collector_id)
                .order_by("code", "pk")[:CHOICES_LIMIT])


@login_required
@require_GET
def reply_detail(request: HttpRequest, pk: int) -> HttpResponse:
    sc = scope(request)
    org = sc.organisation
    reply = _reply_for(sc, pk)
    labels = _labels()
    plan = None
    names_invoices = False
    if reply.kind == Reply.Kind.REPLY and reply.customer_id is not None and reply.state != Reply.State.APPLIED:
        plan = plan_for(reply, Mailbox.objects.filter(organisation=org).first())
        names_invoices = bool(named_invoices(f"{reply.subject}\n{reply.body}", open_numbers(reply)))
    editing = sc.can_edit
    context = {
        "reply": reply,
        "category_label": labels.get(reply.category, reply.category),
        "predicted_label": labels.get(reply.predicted, reply.predicted),
        "categories": CATEGORIES,
        "plan": plan,
        "plan_text": describe_plan(plan) if plan is not None else "",
        "can_confirm": plan is not None and reply.state == Reply.State.TO_REVIEW,
        "offer_all_invoices": plan is not None and not names_invoices,
        "effect_lines": describe_effect(reply.effect) if reply.state == Reply.State.APPLIED and reply.effect else [],
        "html": html_version(_raw_bytes(reply)),
        "choices": _customer_choices(sc) if editing and reply.state in WAITING else [],
        "can_edit": editing,
    }
    return render_page(request, "web/replies/reply.html", sc, context)


@login_required
@require_GET
def reply_eml(request: HttpRequest, pk: int) -> FileResponse:
    """The original message as received (for a mail client), to those who may see the reply."""
    sc = scope(request)
    reply = _reply_for(sc, pk)
    if not reply.raw:
        raise Http404(_("Le message d’origine n’a pas été conservé."))
    try:
        stream = reply.raw.open("rb")
    except OSError as exc:
        raise Http404(_("Le message d’origine est introuvable.")) from exc
    response = FileResponse(stream, as_attachment=True, filename=f"reponse-{reply.pk}.eml",
                            content_type="message/rfc822")
    response["X-Content-Type-Options"] = "nosniff"
    return response


# ------------------------------------------------------------------------------------------
# The person's actions
# ------------------------------------------------------------------------------------------


def _customer_asked(request: HttpRequest, sc: Scope) -> Customer:
    """The customer named in the « Rattacher » form: chosen in the list (its id), or typed (its
    code exactly, or a part of its name found once)."""
    customers = ledger.visible(Customer.objects.filter(organisation=sc.organisation), sc.collector_id)
    chosen = request.POST.get("customer", "").strip()
    if chosen.isdigit():
        found = customers.filter(pk=int(chosen)).first()
        if found is None:
            raise NotFound(_("client introuvable"))
        return found
    typed = request.POST.get("search", "").strip()
    if not typed:
        raise InvalidInput(_("choisissez le client ou tapez son code ou son nom"))
    by_code = customers.filter(code__iexact=typed).first()
    if by_code is not None:
        return by_code
    matches = list(customers.filter(Q(legal_name__icontains=typed) | Q(code__icontains=typed))
                   .order_by("legal_name", "code")[:6])
    if not matches:
        raise InvalidInput(_("aucun client ne correspond à « %(text)s »") % {"text": typed})
    if len(matches) > 1:
        names = ", ".join(f"{c.code} ({c.legal_name})" for c in matches[:5])
        raise InvalidInput(_("plusieurs clients correspondent à « %(text)s » : %(names)s — précisez le code")
                           % {"text": typed, "names": names})
    return matches[0]


def _category_asked(request: HttpRequest) -> str:
    category = request.POST.get("category", "").strip()
    if category not in _labels():
        raise InvalidInput(_("choisissez une catégorie"))
    return category


@login_required
@require_POST
def reply_action(request: HttpRequest, pk: int, action: str) -> HttpResponseRedirect:
    sc = _acting_scope(request)
    org = sc.organisation
    reply = _reply_for(sc, pk)
    actor = actor_of(request)
    back = HttpResponseRedirect(reverse("web:reply", kwargs={"pk": reply.pk}))
    try:
        if action == "confirmer":
            category = _category_asked(request) if "category" in request.POST else None
            done = review.confirm(org, reply, actor=actor, category=category,
                                  all_invoices=request.POST.get("all_invoices") == "on")
            messages.success(request, _("Réponse traitée (« %(category)s ») : la suite est appliquée.")
                             % {"category": _labels().get(done.category, done.category)})
        elif action == "reclasser":
            done = review.reclassify(org, reply, _category_asked(request), actor=actor)
            messages.success(request, _("Catégorie changée en « %(category)s » : rien n’est encore appliqué.")
                             % {"category": _labels().get(done.category, done.category)})
        elif action == "rattacher":
            customer = _customer_asked(request, sc)
            review.attach_to(org, reply, customer, actor=actor)
            messages.success(request, _("Réponse rattachée à %(name)s : elle est à traiter, et les relances de "
                                        "ce client attendent votre décision.") % {"name": customer.legal_name})
        elif action == "classer":
            review.dismiss(org, reply, actor=actor, note=request.POST.get("note", "").strip()[:500])
            messages.success(request, _("Réponse classée sans suite : les relances reprennent."))
        elif action == "rouvrir":
            review.reopen(org, reply, actor=actor)
            messages.success(request, _("Réponse rouverte : elle est à traiter, et les relances du client "
                                        "attendent votre décision."))
        elif action == "annuler":
            left = review.undo(org, reply, actor=actor)
            messages.success(request, _("Suite annulée : la réponse est de nouveau à traiter."))
            if left:
                messages.warning(request, _("Non annulé : %(what)s.") % {"what": " ; ".join(left)})
        else:
            raise Http404(_("Action inconnue."))
    except RelanceError as exc:
        _fail(request, exc)
    return back
