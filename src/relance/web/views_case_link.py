"""The download link of a litigation case's file sent to its lawyer, commissaire de justice or
agency (``litigation.services.handover``, method « link »): a page without login that lists the
documents handed over and serves them while the signed link is valid. Each download leaves
``litigation.link_downloaded``. An expired, altered or unknown link answers 404 with the same
words for each."""

from __future__ import annotations

from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from relance.errors import NotFound
from relance.events import kinds
from relance.events.services import record_many
from relance.litigation.services import link_handover


@require_GET
def case_link(request: HttpRequest, token: str) -> HttpResponse:
    try:
        handover = link_handover(token)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    response = render(request, "relance/case_link.html", {
        "handover": handover, "case": handover.case, "organisation": handover.case.organisation,
        "documents": list(handover.documents.order_by("pk")), "token": token})
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex"
    return response


@require_GET
def case_link_document(request: HttpRequest, token: str, doc: int) -> FileResponse:
    try:
        handover = link_handover(token)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    document = handover.documents.filter(pk=doc).first()
    if document is None:
        raise Http404("document introuvable")
    case = handover.case
    record_many(case.organisation, [kinds.litigation_handover(
        kinds.LITIGATION_DOWNLOADED, customer_id=case.customer_id, case=case.pk, handover=handover.pk,
        method=handover.method, recipient=handover.recipient.name if handover.recipient else "",
        documents=[{"id": document.pk, "title": document.title, "sha256": document.sha256}], actor="lien")])
    response = FileResponse(document.file.open("rb"), as_attachment=True,
                            filename=(document.file.name or "document").rsplit("/", 1)[-1])
    response["Referrer-Policy"] = "no-referrer"
    return response
