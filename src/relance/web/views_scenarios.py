"""Scenario editor (steps, offsets, channels, templates) with a preview on a real customer,
and the template editor with a live preview. Administrators edit; others read."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from relance.actors import actor_of
from relance.clock import today_for
from relance.dunning import queries as dunning
from relance.dunning.models import Scenario, Step
from relance.dunning.services import editing, proofreading
from relance.errors import RelanceError
from relance.ledger import queries as ledger
from relance.ledger.models import Customer

from .rendering import render_page
from .scoping import Scope, scope


class StepForm(forms.Form):
    label = forms.CharField(label=gettext_lazy("Libellé"), max_length=100)
    offset_days = forms.IntegerField(label=gettext_lazy("Jours après l’échéance"), min_value=-60, max_value=365)
    channel = forms.ChoiceField(label=gettext_lazy("Canal"), choices=Step.CHANNELS)
    template = forms.ChoiceField(label=gettext_lazy("Modèle"), choices=())
    tone = forms.IntegerField(label=gettext_lazy("Fermeté"), min_value=1, max_value=5, initial=1)
    call_task = forms.BooleanField(label=gettext_lazy("Appel aussi"), required=False)
    attach_invoices = forms.BooleanField(label=gettext_lazy("Joindre les factures"), required=False)
    needs_approval = forms.BooleanField(label=gettext_lazy("À valider avant l’envoi"), required=False)

    def __init__(self, *args: Any, keys: list[str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["template"].choices = [(k, k) for k in keys or []]  # type: ignore[attr-defined]

    def has_changed(self) -> bool:
        """The spare row at the bottom counts only once it has a label (its selects always
        post a value)."""
        return bool((self.data.get(self.add_prefix("label")) or "").strip()) or (
            not self.empty_permitted and super().has_changed())


StepFormSet = forms.formset_factory(StepForm, extra=1, can_delete=True, max_num=editing.MAX_STEPS)


def _editor(request: HttpRequest) -> Scope:
    sc = scope(request)
    if request.method == "POST" and not sc.is_admin:
        raise PermissionDenied(_("Réservé aux administrateurs de l’organisation."))
    return sc


def _error(request: HttpRequest, exc: RelanceError) -> None:
    messages.error(request, exc.message[:1].upper() + exc.message[1:])


@login_required
@require_http_methods(["GET", "POST"])
def scenario_list(request: HttpRequest) -> HttpResponse:
    sc = _editor(request)
    org = sc.organisation
    if request.method == "POST":
        try:
            copy_pk = request.POST.get("copy_of")
            copy_of = editing.scenario_of(org, int(copy_pk)) if copy_pk else None
            created = editing.create_scenario(org, request.POST.get("name", ""), copy_of=copy_of,
                                              actor=actor_of(request))
            return HttpResponseRedirect(reverse("web:scenario", kwargs={"pk": created.pk}))
        except RelanceError as exc:
            _error(request, exc)
        except ValueError:
            messages.error(request, _("Scénario à copier invalide."))
    scenarios = list(Scenario.objects.filter(organisation=org).prefetch_related("steps").order_by("-is_default", "name"))
    return render_page(request, "relance/scenarios.html", sc, {"scenarios": scenarios})


@login_required
@require_http_methods(["GET", "POST"])
def scenario_detail(request: HttpRequest, pk: int) -> HttpResponse:
    sc = _editor(request)
    org = sc.organisation
    try:
        scenario = editing.scenario_of(org, pk)
    except RelanceError as exc:
        raise Http404(exc.message) from exc
    keys = sorted(set(editing.template_keys(org)) | {s.template for s in scenario.steps.all()})
    status = 200
    if request.method == "POST" and request.POST.get("action") == "default":
        editing.set_default(org, scenario, actor=actor_of(request))
        messages.success(request, _("« %(name)s » est désormais le scénario par défaut.") % {"name": scenario.name})
        return HttpResponseRedirect(reverse("web:scenario", kwargs={"pk": pk}))
    if request.method == "POST" and request.POST.get("action") == "late_entry":
        if not sc.is_admin:
            raise PermissionDenied
        raw = request.POST.get("position", "")
        try:
            editing.set_late_entry(org, scenario, int(raw) if raw.isdigit() else None, actor=actor_of(request))
            messages.success(request, _("Étape d’entrée des factures en retard enregistrée : les prochaines actions "
                                        "sont recalculées."))
        except RelanceError as exc:
            _error(request, exc)
        return HttpResponseRedirect(reverse("web:scenario", kwargs={"pk": pk}))
    if request.method == "POST":
        formset = StepFormSet(request.POST, form_kwargs={"keys": keys})
        if formset.is_valid():
            inputs = [editing.StepInput(**{k: v for k, v in f.cleaned_data.items() if k != "DELETE"})
                     for f in formset.forms if f.cleaned_data and not f.cleaned_data.get("DELETE")]
            try:
                editing.save_steps(org, scenario, inputs, actor=actor_of(request))
                messages.success(request, _("Scénario enregistré : les prochaines actions sont recalculées."))
                return HttpResponseRedirect(reverse("web:scenario", kwargs={"pk": pk}))
            except RelanceError as exc:
                _error(request, exc)
                status = exc.http_status
        else:
            status = 400
    else:
        initial = [editing.step_values(s) for s in scenario.steps.all().order_by("position")]
        formset = StepFormSet(initial=initial, form_kwargs={"keys": keys})
    preview = None
    customer = _preview_customer(request, sc)
    position = request.GET.get("etape")
    steps = list(scenario.steps.all().order_by("position"))
    chosen = next((s for s in steps if str(s.position) == position), steps[0] if steps else None)
    if chosen is not None:
        language = customer.language if customer else "fr"
        try:
            preview = editing.preview(org, chosen.template, language, today_for(org),
                                      customer=customer)
        except RelanceError as exc:
            preview = None
            messages.error(request, exc.message)
    context = {"scenario": scenario, "formset": formset, "steps": steps, "chosen": chosen, "preview": preview,
               "entry_steps": editing.entry_steps(scenario),
               "preview_customer": customer, **_customer_choices(request, sc, customer)}
    return render_page(request, "relance/scenario.html", sc, context, status=status)


def _customer_choices(request: HttpRequest, sc: Scope, current: Customer | None) -> dict[str, Any]:
    """The preview's customer selector: the customers found by ``?recherche=`` (code or
    name), else the most recently reminded ones; the previewed customer always among them."""
    search = request.GET.get("recherche", "").strip()
    return {"customers": dunning.customer_choices(sc.organisation, search, sc.collector_id, current),
            "customer_search": search}


def _preview_customer(request: HttpRequest, sc: Scope) -> Customer | None:
    raw = request.GET.get("client") or request.POST.get("client")
    if not raw:
        return None
    try:
        return ledger.customer_for(sc.organisation, int(raw), sc.collector_id)
    except (ValueError, Http404):
        return None


@login_required
@require_http_methods(["GET", "POST"])
def template_list(request: HttpRequest) -> HttpResponse:
    """The templates, and the writing check's settings (administrators change them): the words it
    accepts and whether an edited text with a spelling mistake waits « à valider »."""
    sc = _editor(request)
    org = sc.organisation
    from relance.dunning.models import MessageTemplate

    words = "\n".join(editing.accepted_words(org))
    holds = org.writing_check_holds
    status = 200
    if request.method == "POST":
        words, holds = request.POST.get("accepted_words", ""), bool(request.POST.get("writing_check_holds"))
        try:
            editing.set_writing_settings(org, words, holds, actor=actor_of(request))
            messages.success(request, _("Réglages de la vérification d’écriture enregistrés."))
            return HttpResponseRedirect(reverse("web:templates"))
        except RelanceError as exc:
            _error(request, exc)
            status = exc.http_status
    own = set(MessageTemplate.objects.filter(organisation=org).values_list("key", "language"))
    rows = [{"key": k, "languages": [(lang, (k, lang) in own) for lang in editing.LANGUAGES]}
            for k in editing.template_keys(org)]
    return render_page(request, "relance/templates.html", sc,
                       {"rows": rows, "accepted_words": words, "writing_check_holds": holds}, status=status)


#: the box a person ticks to save a text despite the spelling mistakes shown
CONFIRM_WRITING = "confirmer_fautes"


@login_required
@require_http_methods(["GET", "POST"])
def template_edit(request: HttpRequest, key: str, language: str) -> HttpResponse:
    """The editor: the preview (rendered on the chosen customer, else on sample data) with the
    writing check's problems underlined and listed; saving a text with a spelling mistake asks
    to confirm (the page comes back with the problems and « Enregistrer malgré les fautes
    signalées »), and saves only once confirmed."""
    sc = _editor(request)
    org = sc.organisation
    if key not in editing.template_keys(org) or language not in editing.LANGUAGES:
        raise Http404("Modèle inconnu.")
    subject, body = editing.template_source(org, key, language)
    status = 200
    problem = None
    to_confirm = False
    customer = _preview_customer(request, sc)
    day = today_for(org)
    if request.method == "POST":
        subject, body = request.POST.get("subject", ""), request.POST.get("body", "")
        try:
            if request.POST.get("action") == "reset":
                editing.reset_template(org, key, language, actor=actor_of(request))
                messages.success(request, _("Le modèle d’origine s’applique de nouveau."))
            else:
                confirmed = bool(request.POST.get(CONFIRM_WRITING)) or request.POST.get("action") == "save_anyway"
                editing.save_template(org, key, language, subject, body, actor=actor_of(request),
                                      check_writing=True, writing_confirmed=confirmed, today=day, customer=customer)
                messages.success(request, _("Modèle enregistré."))
            return HttpResponseRedirect(reverse("web:template", kwargs={"key": key, "language": language}))
        except proofreading.WritingToConfirm:
            to_confirm = True
        except RelanceError as exc:
            problem = exc.message
            status = exc.http_status
    preview = None
    review = None
    if problem is None:
        try:
            preview, review = editing.preview_checked(org, key, language, day, customer=customer,
                                                      subject=subject, body=body)
        except RelanceError as exc:
            problem = exc.message
    context = {"key": key, "language": language, "subject": subject, "body": body, "problem": problem,
               "preview": preview, "review": review, "to_confirm": to_confirm, "confirm_field": CONFIRM_WRITING,
               "preview_customer": customer, **_customer_choices(request, sc, customer)}
    return render_page(request, "relance/template_edit.html", sc, context, status=status)


@login_required
@require_POST
def template_preview(request: HttpRequest, key: str, language: str) -> JsonResponse:
    """Live preview of the text being typed: JSON {subject, html, text, problems, segments,
    subject_segments} or {error}. ``segments``: the text cut at its problems (``kind`` and
    ``title`` on a faulty piece), for the script to underline without building HTML."""
    sc = scope(request)
    org = sc.organisation
    if key not in editing.template_keys(org) or language not in editing.LANGUAGES:
        raise Http404("Modèle inconnu.")
    try:
        rendered, review = editing.preview_checked(org, key, language, today_for(org),
                                                   customer=_preview_customer(request, sc),
                                                   subject=request.POST.get("subject", ""),
                                                   body=request.POST.get("body", ""))
    except RelanceError as exc:
        return JsonResponse({"error": exc.message}, status=200)
    data: dict[str, Any] = {"subject": rendered.subject, "html": rendered.html, "text": rendered.text}
    if review is not None:
        data.update(problems=review.items(), segments=review.segments(), subject_segments=review.subject_segments(),
                    spelling=len(review.spelling))
    return JsonResponse(data)
