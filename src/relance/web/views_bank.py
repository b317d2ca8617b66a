"""« Banque » : import of bank statements (``/banque/``) and the transfers waiting for a person
(``/banque/a-verifier/``), with the same services as ``relance import bank`` and ``relance bank``.

Everything is scoped to the current organisation; a line of another organisation is a 404.
Changes are POST forms with the CSRF token, refused to read-only members. Bank
reconciliation concerns every customer: a collector restricted to their own customers does
not see these pages.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import UploadedFile
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from relance.actors import actor_of
from relance.banking.models import BankAccount, StatementFile
from relance.banking.services.review import apply_match, dismiss_line, pending_count, review_list
from relance.banking.services.statements import add_account, import_statement
from relance.core.formats.bank import MAX_BYTES
from relance.core.formatting import money
from relance.errors import ImportRejected, NotFound, RelanceError

from .language import current_language
from .rendering import render_page
from .scoping import Scope, scope

REVIEW_LIMIT = 200
RECENT_FILES = 20
RESTRICTED = gettext_lazy("Le rapprochement bancaire concerne tous les clients de l’organisation : il n’est pas "
                          "accessible aux chargés de recouvrement limités à leurs propres clients.")
READ_ONLY = gettext_lazy("Votre accès est en lecture seule.")


class StatementForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("Relevé bancaire"),
                           help_text=gettext_lazy("camt.053 ou camt.054 (XML), OFX, MT940 ou CFONB 120"))

    def clean_file(self) -> UploadedFile:
        upload: UploadedFile = self.cleaned_data["file"]
        if upload.size and upload.size > MAX_BYTES:
            raise forms.ValidationError(_("« %(name)s » dépasse %(size)s Mo : fichier refusé.")
                                        % {"name": upload.name, "size": MAX_BYTES // 1_048_576})
        return upload


class AccountForm(forms.Form):
    iban = forms.CharField(label="IBAN", max_length=42, required=False)
    account_id = forms.CharField(label=gettext_lazy("ou identifiant du compte dans les relevés"), max_length=60,
                                 required=False,
                                 help_text=gettext_lazy("numéro de compte écrit par la banque (OFX, MT940) quand le "
                                                        "relevé ne porte pas d’IBAN"))
    label = forms.CharField(label=gettext_lazy("Libellé"), max_length=100, required=False)


def _bank_scope(request: HttpRequest, *, change: bool = False) -> Scope:
    sc = scope(request)
    if sc.collector_id is not None:
        raise PermissionDenied(RESTRICTED)
    if change and not sc.can_edit:
        raise PermissionDenied(READ_ONLY)
    return sc


def _save(folder: Path, upload: UploadedFile) -> Path:
    name = Path(upload.name or "releve").name or "releve"
    target = folder / name
    with target.open("wb") as out:
        for chunk in upload.chunks():
            out.write(chunk)
    return target


@login_required
@require_http_methods(["GET", "POST"])
def statements(request: HttpRequest) -> HttpResponse:
    """Upload a statement; the accounts of the organisation; the last statements imported."""
    sc = _bank_scope(request, change=request.method == "POST")
    org = sc.organisation
    context: dict[str, Any] = {"can_edit": sc.can_edit, "is_admin": sc.is_admin}
    status = 200
    form = StatementForm()
    account_form = AccountForm()
    if request.method == "POST" and request.POST.get("action") == "account":
        if not sc.is_admin:
            raise PermissionDenied(_("Seul un administrateur de l’organisation enregistre ses comptes bancaires."))
        account_form = AccountForm(request.POST)
        if account_form.is_valid():
            try:
                account = add_account(org, iban=account_form.cleaned_data["iban"],
                                      account_id=account_form.cleaned_data["account_id"],
                                      label=account_form.cleaned_data["label"])
            except RelanceError as exc:
                account_form.add_error(None, exc.message)
                status = exc.http_status
            else:
                messages.success(request, _("Compte « %(account)s » enregistré : ses relevés peuvent être importés.")
                                 % {"account": account})
                return HttpResponseRedirect(reverse("web:bank"))
        else:
            status = 400
    elif request.method == "POST":
        form = StatementForm(request.POST, request.FILES)
        if form.is_valid():
            with tempfile.TemporaryDirectory(prefix="relance-banque-") as tmp:
                path = _save(Path(tmp), form.cleaned_data["file"])
                try:
                    report = import_statement(org, path, actor=actor_of(request))
                except ImportRejected as exc:
                    context["problems"] = exc.problems
                    status = 422
                except RelanceError as exc:
                    context["error"] = exc.message
                    status = exc.http_status
                else:
                    context["report"] = report
                    form = StatementForm()
        else:
            status = 400
    context.update({
        "form": form,
        "account_form": account_form,
        "accounts": list(BankAccount.objects.filter(organisation=org).order_by("label", "iban", "account_id")),
        "files": list(StatementFile.objects.filter(organisation=org).order_by("-imported_at", "-id")[:RECENT_FILES]),
        "pending": pending_count(org),
    })
    return render_page(request, "web/bank/statements.html", sc, context, status=status)


@login_required
@require_GET
def review(request: HttpRequest) -> HttpResponse:
    """The transfers to review, each with its ranked candidates and the three actions."""
    sc = _bank_scope(request)
    org = sc.organisation
    items = review_list(org, limit=REVIEW_LIMIT)
    context = {
        "items": items,
        "total": pending_count(org),
        "limit": REVIEW_LIMIT,
        "can_edit": sc.can_edit,
    }
    return render_page(request, "web/bank/review.html", sc, context)


def _numbers(request: HttpRequest) -> list[str]:
    exact = [n.strip() for n in request.POST.getlist("invoice") if n.strip()]
    typed = [n for n in re.split(r"[,;\s]+", request.POST.get("invoices", "")) if n]
    return list(dict.fromkeys(exact + typed))


def _back(anchor: str = "") -> HttpResponseRedirect:
    return HttpResponseRedirect(reverse("web:bank_review") + anchor)


@login_required
@require_POST
def apply(request: HttpRequest, pk: int) -> HttpResponseRedirect:
    sc = _bank_scope(request, change=True)
    org = sc.organisation
    try:
        payment = apply_match(org, pk, _numbers(request), customer_code=request.POST.get("customer", "").strip() or None,
                              actor=actor_of(request))
    except NotFound as exc:
        raise Http404(exc.message) from exc
    except RelanceError as exc:
        messages.error(request, _("Virement n° %(pk)s : %(message)s") % {"pk": pk, "message": exc.message})
        return _back(f"#ligne-{pk}")
    language = current_language()
    parts = ", ".join(f"{a.invoice.number} ({money(a.amount, language=language)})"
                      for a in payment.allocations.select_related("invoice"))
    done = _("Virement n° %(pk)s rapproché : paiement %(reference)s de %(amount)s pour %(customer)s") % {
        "pk": pk, "reference": payment.reference, "amount": money(payment.amount, language=language),
        "customer": payment.customer.legal_name}
    messages.success(request, done + (f" — {parts}." if parts else "."))
    return _back()


@login_required
@require_POST
def dismiss(request: HttpRequest, pk: int) -> HttpResponseRedirect:
    sc = _bank_scope(request, change=True)
    try:
        dismiss_line(sc.organisation, pk, request.POST.get("reason", ""), actor=actor_of(request))
    except NotFound as exc:
        raise Http404(exc.message) from exc
    except RelanceError as exc:
        messages.error(request, _("Virement n° %(pk)s : %(message)s") % {"pk": pk, "message": exc.message})
        return _back(f"#ligne-{pk}")
    messages.success(request, _("Virement n° %(pk)s écarté du rapprochement.") % {"pk": pk})
    return _back()
