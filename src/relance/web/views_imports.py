"""« Importer » : the web face of the CSV/XLSX, FEC and e-invoice imports. The uploaded
files are written to a private temporary folder under their own names (the reports and
error messages name them) and handed to the same services as ``relance import``."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import UploadedFile
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from relance.actors import actor_of
from relance.errors import ImportRejected, RelanceError
from relance.ledger.models import Membership

from .rendering import render_page
from .scoping import scope

MAX_UPLOAD_BYTES = 200 * 1024 * 1024
FORMATS = [
    ("csv", gettext_lazy("Fichier CSV ou Excel (clients, factures, avoirs, paiements)")),
    ("fec", gettext_lazy("FEC — fichier des écritures comptables")),
    ("einvoice", gettext_lazy("Factures électroniques (Factur-X, CII, UBL)")),
]


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile]:
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(d, initial) for d in data]
        return [single(data, initial)]


class ImportForm(forms.Form):
    format = forms.ChoiceField(label=gettext_lazy("Format"), choices=FORMATS, initial="fec")
    uploads = MultipleFileField(label=gettext_lazy("Fichier(s)"))
    customer_prefix = forms.CharField(label=gettext_lazy("Préfixe des comptes clients (FEC)"), initial="411", max_length=10,
                                      required=False)
    default_kind = forms.ChoiceField(
        label=gettext_lazy("Type de client par défaut (CSV, Excel, FEC)"), required=False, initial="",
        choices=[("", gettext_lazy("aucun : chaque ligne de client indique son type")),
                 ("entreprise", gettext_lazy("entreprise")), ("particulier", gettext_lazy("particulier"))],
        help_text=gettext_lazy("Appliqué aux nouveaux clients dont la ligne ne dit pas s’ils sont une entreprise ou un "
                               "particulier, et rappelé dans le compte rendu ; sans lui, ces lignes sont refusées."))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        files = data.get("uploads") or []
        if data.get("format") != "einvoice" and len(files) > 1:
            raise forms.ValidationError(_("Un seul fichier à la fois pour ce format."))
        for f in files:
            if f.size and f.size > MAX_UPLOAD_BYTES:
                raise forms.ValidationError(_("« %(name)s » dépasse 200 Mo : fichier refusé.") % {"name": f.name})
        return data


def _save(folder: Path, upload: UploadedFile) -> Path:
    name = Path(upload.name or "fichier").name or "fichier"
    target = folder / name
    n = 1
    while target.exists():
        n += 1
        target = folder / f"{target.stem}-{n}{target.suffix}"
    with target.open("wb") as out:
        for chunk in upload.chunks():
            out.write(chunk)
    return target


def run_import(organisation: Any, fmt: str, paths: list[Path], prefix: str, actor: str, *,
               default_kind: str | None = None, collector_id: int | None = None) -> dict[str, Any]:
    """Call the import service of ``fmt``; returns the report as a dict (with a ``text``).

    A CSV/XLSX import follows the pages' permissions (``collector_id``: only that collector's
    customers) and reads PDFs only from an uploaded ZIP or the configured import folder."""
    if fmt == "fec":
        from relance.ledger.services.fec_import import import_fec

        report: Any = import_fec(organisation, paths[0], customer_prefix=prefix or "411", actor=actor,
                                 default_kind=default_kind or None)
        return {**report.as_dict(), "text": report.as_text()}
    if fmt == "einvoice":
        from relance.ledger.services.einvoice_import import import_einvoices

        report = import_einvoices(organisation, paths, actor=actor, default_kind=default_kind or None)
        return {**report.as_dict(), "text": report.as_text()}
    from relance.ledger.services.imports import import_file

    csv_report = import_file(organisation, paths[0], actor=actor, default_kind=default_kind or None,
                             collector_id=collector_id, own_folder=False)
    return {**csv_report.as_dict(), "text": csv_report.as_text(with_warnings=False)}


@login_required
@require_http_methods(["GET", "POST"])
def imports(request: HttpRequest) -> HttpResponse:
    sc = scope(request)
    if sc.membership.role == Membership.Role.READ_ONLY and request.method == "POST":
        raise PermissionDenied(_("Votre accès est en lecture seule."))
    context: dict[str, Any] = {"read_only": sc.membership.role == Membership.Role.READ_ONLY}
    status = 200
    if request.method == "POST":
        form = ImportForm(request.POST, request.FILES)
        if form.is_valid() and form.cleaned_data["format"] != "csv" and sc.collector_id is not None:
            # a FEC or a batch of e-invoices concerns every customer: not for a collector limited to their own
            context["error"] = _("Le FEC et les factures électroniques concernent tous les clients : leur import "
                                 "n’est pas ouvert aux chargés de recouvrement limités à leurs propres clients.")
            status = 403
        elif form.is_valid():
            actor = actor_of(request)
            with tempfile.TemporaryDirectory(prefix="relance-import-") as tmp:
                paths = [_save(Path(tmp), f) for f in form.cleaned_data["uploads"]]
                try:
                    context["report"] = run_import(sc.organisation, form.cleaned_data["format"], paths,
                                                   form.cleaned_data.get("customer_prefix") or "411", actor,
                                                   default_kind=form.cleaned_data.get("default_kind") or None,
                                                   collector_id=sc.collector_id)
                except ImportRejected as exc:
                    context["problems"] = [str(p) for p in exc.problems]
                    status = 422
                except RelanceError as exc:
                    context["error"] = exc.message
                    status = exc.http_status
        else:
            status = 400
    else:
        form = ImportForm()
    context["form"] = form
    return render_page(request, "relance/imports.html", sc, context, status=status)
