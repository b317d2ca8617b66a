"""Actions on one reminder: « Renvoyer » a failed one, « Parti » / « Renvoyer » for one « à
vérifier » (``dunning.services.uncertain``), and the follow-up of a registered
letter (tracking number, date of the avis de réception, its scan) from « Le travail du
jour » or the reminder's page. Thin views over ``dunning.services.retries`` and
``dunning.services.registered_mail``: scoped to the organisation and the collector's customers,
refused to read-only members, POST with CSRF; errors come back as a French message and
nothing is saved."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from relance.actors import actor_of
from relance.dunning.services import registered_mail, retries, uncertain
from relance.errors import InvalidInput, NotFound, RelanceError

from .uploads import read_upload
from .views_collector import _acting_scope, _fail

MAX_SCAN = registered_mail.MAX_SCAN_BYTES


def _back(request: HttpRequest, pk: int) -> HttpResponseRedirect:
    """To ``next`` when it is a page of this site, else to the reminder's page."""
    target = request.POST.get("next", "")
    if not target or not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                         require_https=request.is_secure()):
        target = reverse("web:reminder", kwargs={"pk": pk})
    return HttpResponseRedirect(target)


def _act(request: HttpRequest, pk: int, action: Callable[..., object], done: str) -> HttpResponseRedirect:
    """Run one service action on reminder ``pk`` for the acting scope, say ``done`` or why not."""
    sc = _acting_scope(request)
    try:
        action(sc.organisation, pk, actor=actor_of(request), collector_id=sc.collector_id)
        messages.success(request, done)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    except RelanceError as exc:
        _fail(request, exc)
    return _back(request, pk)


@login_required
@require_POST
def retry(request: HttpRequest, pk: int) -> HttpResponseRedirect:
    return _act(request, pk, retries.retry, _("Relance remise en file d’envoi : elle part dès que possible, après "
                                              "une nouvelle vérification des factures."))


@login_required
@require_POST
def confirm_sent(request: HttpRequest, pk: int) -> HttpResponseRedirect:
    """« Parti »: an uncertain reminder did reach the customer."""
    return _act(request, pk, uncertain.confirm_sent, _("Relance enregistrée comme envoyée, à l’heure de sa "
                                                       "transmission ; la suite des relances reprend."))


@login_required
@require_POST
def resend(request: HttpRequest, pk: int) -> HttpResponseRedirect:
    """« Renvoyer »: an uncertain reminder did not arrive; the same one goes again."""
    return _act(request, pk, uncertain.request_resend, _("Relance remise en file d’envoi, avec le même Message-ID : "
                                                         "elle part dès que possible, après une nouvelle "
                                                         "vérification des factures."))


def _received_on(request: HttpRequest) -> date | None:
    raw = request.POST.get("received_on", "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise InvalidInput(_("date de l’avis de réception illisible « %(raw)s » (attendu AAAA-MM-JJ)")
                           % {"raw": raw}) from None


def _scan(request: HttpRequest) -> tuple[str, bytes] | None:
    return read_upload(request, "scan", MAX_SCAN, "avis", _("avis de réception trop lourd (15 Mo au plus)"))


@login_required
@require_POST
def letter_delivery(request: HttpRequest, pk: int) -> HttpResponseRedirect:
    """The tracking number, or the receipt date and its scan, of one registered letter."""
    sc = _acting_scope(request)
    tracking = request.POST.get("tracking_number", "").strip() or None
    try:
        received_on, scan = _received_on(request), _scan(request)
        reminder = registered_mail.record_delivery(sc.organisation, pk, tracking_number=tracking,
                                                   received_on=received_on, scan=scan, actor=actor_of(request),
                                                   collector_id=sc.collector_id)
        if received_on is not None or scan is not None:
            messages.success(request, _("Avis de réception enregistré."))
        else:
            messages.success(request, _("Numéro de recommandé %(number)s enregistré.")
                             % {"number": reminder.tracking_number})
    except NotFound as exc:
        raise Http404(exc.message) from exc
    except RelanceError as exc:
        _fail(request, exc)
    return _back(request, pk)
