"""The approval queue (« À valider »): the reminders of the steps that need a person's approval,
each shown exactly as it will go out; approve (one or several), edit the wording for this one
customer, skip, postpone. Read-only members read, never act (403). The service is
``relance.dunning.services.approvals``."""

from __future__ import annotations

import re
from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_http_methods

from relance.actors import actor_of
from relance.clock import today_for
from relance.dunning.models import Reminder
from relance.dunning.services import approvals, proofreading
from relance.errors import Conflict, InvalidInput, NotFound, RelanceError

from .rendering import render_page
from .scoping import Scope, scope

#: each card shows its message's text (the cards of a page are read together)
PER_PAGE = 10
#: the box a person ticks to store a text despite the spelling mistakes shown (issue 17)
CONFIRM_WRITING = "confirmer_fautes"
READ_ONLY = gettext_lazy("Accès en lecture seule : vous ne pouvez pas valider ni modifier les relances.")


def _acting(request: HttpRequest) -> Scope:
    sc = scope(request)
    if request.method == "POST" and not sc.can_edit:
        raise PermissionDenied(READ_ONLY)
    return sc


def _error(request: HttpRequest, exc: RelanceError) -> None:
    messages.error(request, exc.message[:1].upper() + exc.message[1:])


@login_required
@require_http_methods(["GET", "POST"])
def queue(request: HttpRequest) -> HttpResponse:
    """The queue; POST approves the ticked reminders."""
    sc = _acting(request)
    org = sc.organisation
    if request.method == "POST":
        ids = {int(x) for x in request.POST.getlist("ids") if x.isdigit()}
        if not ids:
            messages.error(request, _("Cochez au moins une relance à valider."))
        else:
            approved = approvals.approve(org, ids, actor=actor_of(request), collector_id=sc.collector_id,
                                         today=today_for(org))
            n = len(approved)
            if n:
                messages.success(request, ngettext("%(n)s relance validée : elle part à la date prévue.",
                                                   "%(n)s relances validées : elles partent à la date prévue.",
                                                   n) % {"n": n})
            if n < len(ids):
                left = len(ids) - n
                messages.warning(request, ngettext(
                    "%(n)s relance n’était plus à valider (déjà traitée par quelqu’un d’autre).",
                    "%(n)s relances n’étaient plus à valider (déjà traitées par quelqu’un d’autre).", left) % {"n": left})
        return HttpResponseRedirect(reverse("web:approvals"))
    day = today_for(org)
    page = Paginator(approvals.queue(org, sc.collector_id), PER_PAGE).get_page(request.GET.get("page"))
    rows = list(page.object_list)
    cards = [{"reminder": r, "preview": p} for r, p in zip(rows, approvals.queue_previews(org, rows, day), strict=True)]
    context = {"day": day, "page": page, "cards": cards, "test_mode_email": org.test_mode_email}
    return render_page(request, "relance/approvals.html", sc, context)


def _reminder(sc: Scope, pk: int) -> Reminder:
    try:
        return approvals.awaiting_reminder(sc.organisation, pk, sc.collector_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc


def _parse_day(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError as exc:
        raise InvalidInput("date illisible (format attendu : AAAA-MM-JJ)") from exc


@login_required
@require_http_methods(["GET", "POST"])
def review(request: HttpRequest, pk: int) -> HttpResponse:
    """One awaiting reminder: its message as it will go out, and every action on it."""
    sc = _acting(request)
    org = sc.organisation
    reminder = _reminder(sc, pk)
    day = today_for(org)
    status = 200
    draft: tuple[str, str] | None = None
    review: proofreading.Review | None = None
    to_confirm = False
    if request.method == "POST":
        action = request.POST.get("action", "")
        actor = actor_of(request)
        try:
            if action == "approve":
                if not approvals.approve(org, [pk], actor=actor, collector_id=sc.collector_id, today=day):
                    raise Conflict("cette relance n’est plus à valider")
                when = (_("mise en file d’envoi") if reminder.planned_for <= day
                        else _("elle partira le %(day)s") % {"day": f"{reminder.planned_for:%d/%m/%Y}"})
                messages.success(request, _("Relance de %(name)s validée : %(when)s.")
                                 % {"name": reminder.customer.legal_name, "when": when})
                return _to_next(request, reminder, sc)
            if action == "skip":
                approvals.skip(org, pk, request.POST.get("reason", ""), actor=actor, collector_id=sc.collector_id)
                messages.success(request, _("Relance de %(name)s écartée.") % {"name": reminder.customer.legal_name})
                return _to_next(request, reminder, sc)
            if action == "postpone":
                on = _parse_day(request.POST.get("date", ""))
                approvals.postpone(org, pk, on, actor=actor, collector_id=sc.collector_id, today=day)
                messages.success(request, _("Relance de %(name)s reportée ; elle reste à valider.")
                                 % {"name": reminder.customer.legal_name})
                return _to_next(request, reminder, sc)
            if action in ("edit", "edit_anyway"):
                draft = (request.POST.get("subject", ""), request.POST.get("body", ""))
                confirmed = action == "edit_anyway" or bool(request.POST.get(CONFIRM_WRITING))
                approvals.edit(org, pk, *draft, actor=actor, collector_id=sc.collector_id, today=day,
                               check_writing=True, writing_confirmed=confirmed)
                messages.success(request, _("Texte enregistré pour ce client : c’est lui qui partira, tel quel."))
                return HttpResponseRedirect(reverse("web:approval", kwargs={"pk": pk}))
            if action == "revert":
                approvals.revert(org, pk, actor=actor, collector_id=sc.collector_id)
                messages.success(request, _("Texte du modèle rétabli."))
                return HttpResponseRedirect(reverse("web:approval", kwargs={"pk": pk}))
            raise InvalidInput("action inconnue")
        except proofreading.WritingToConfirm as exc:
            review, to_confirm = exc.review, True
            reminder = _reminder(sc, pk)
        except RelanceError as exc:
            _error(request, exc)
            status = exc.http_status
            reminder = _reminder(sc, pk)
    if reminder.status != Reminder.Status.AWAITING_APPROVAL:
        if request.method == "GET":
            messages.info(request, _("Cette relance n’est plus à valider (%(status)s).")
                          % {"status": reminder.get_status_display().lower()})
            return HttpResponseRedirect(reverse("web:reminder", kwargs={"pk": pk}))
    preview = approvals.preview(org, reminder, day)
    subject, body = draft or (preview.draft_subject, preview.draft_text)
    if review is None and reminder.edited_at is not None and approvals.has_message(reminder):
        # the text a person wrote, as it will go (a text the dispatcher held comes back here)
        review = approvals.writing_review(org, reminder.customer, reminder.subject, reminder.body_text)
    context = {
        "day": day,
        "reminder": reminder,
        "preview": preview,
        "subject": subject,
        "body": body,
        "editable": approvals.has_message(reminder) and sc.can_edit,
        "awaiting": reminder.status == Reminder.Status.AWAITING_APPROVAL,
        "remaining": approvals.queue(org, sc.collector_id).count(),
        "test_mode_email": org.test_mode_email,
        "review": review,
        "to_confirm": to_confirm,
        "confirm_field": CONFIRM_WRITING,
    }
    return render_page(request, "relance/approval.html", sc, context, status=status)


def _to_next(request: HttpRequest, reminder: Reminder, sc: Scope) -> HttpResponseRedirect:
    """After a decision: back to the queue when it was taken there, else the next one to review."""
    if request.POST.get("retour") == "file":
        return HttpResponseRedirect(reverse("web:approvals"))
    following = approvals.next_awaiting(sc.organisation, reminder, sc.collector_id)
    if following is None:
        return HttpResponseRedirect(reverse("web:approvals"))
    return HttpResponseRedirect(reverse("web:approval", kwargs={"pk": following.pk}))


@login_required
@require_GET
def letter_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """The letter of an awaiting reminder, rendered now (not stored): what would be printed."""
    sc = scope(request)
    reminder = _reminder(sc, pk)
    if reminder.status != Reminder.Status.AWAITING_APPROVAL:
        raise Http404("Cette relance n’est plus à valider.")
    try:
        pdf = approvals.letter_preview(sc.organisation, reminder, today_for(sc.organisation))
    except RelanceError as exc:
        raise Http404(exc.message) from exc
    code = re.sub(r"[^A-Za-z0-9_-]", "", reminder.customer.code) or "client"
    filename = f"apercu-{code}-{reminder.pk}.pdf"
    return HttpResponse(pdf, content_type="application/pdf", headers={
        "Content-Disposition": f'inline; filename="{filename}"', "Cache-Control": "no-store"})
