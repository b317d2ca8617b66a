"""« Boîte de réception » in the web app (issue 15, server side): the replies, those waiting for a
person first, filtered by state; one reply with its category, its evidence, the effect proposed or
applied and the original message sandboxed; the person's actions (confirm, change the category,
dispute on every invoice, attach, set aside, reopen, undo) with French messages and never a 500;
the .eml download; the classifier's accuracy; the customer page's replies; the organisation and
role boundaries (another organisation's reply is a 404, a read-only member gets a 403 on POST, a
restricted collector sees only their customers' replies)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from relance.dunning.models import CallTask
from relance.holds.models import Hold, Promise
from relance.ledger.models import Customer, Membership, Organisation
from relance.ledger.services.imports import import_file
from relance.replies.models import Mailbox, Reply
from relance.replies.services.receive import receive
from relance.web.views_replies import FRAME_POLICY
from tests.builders import CUSTOMERS_CSV, invoices_csv, make_org, make_user, member_client, write

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("pinned_clock")]  # Monday 23 November 2026

C001 = "claire.martin@boulangerie-martin.test"


@pytest.fixture
def org(tmp_path: Path, settings: Any) -> Organisation:
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    org = make_org()
    import_file(org, write(tmp_path, "clients.csv", CUSTOMERS_CSV))
    import_file(org, write(tmp_path, "factures.csv", invoices_csv([
        ("F-001", "C001", "2026-09-10", "2026-10-10", "1200,00"),
        ("F-002", "C001", "2026-10-01", "2026-10-31", "480,50"),
        ("F-003", "C002", "2026-10-15", "2026-11-14", "2 400,00"),
    ])))
    Mailbox.objects.create(organisation=org, host="127.0.0.1", username="recouvrement", password="x")
    return org


def eml(body: str, *, key: str, sender: str = C001, subject: str = "RE: Relance facture", day: int = 20,
        hour: int = 9, html: str = "") -> bytes:
    when = datetime(2026, 11, day, hour, 0, tzinfo=UTC)
    headers = [f"From: Client <{sender}>", "To: recouvrement@atelier-dubois.test", f"Subject: {subject}",
               f"Date: {when.strftime('%a, %d %b %Y %H:%M:%S +0000')}", f"Message-ID: <{key}@mail.test>",
               "MIME-Version: 1.0"]
    if not html:
        headers += ["Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: 8bit"]
        return ("\r\n".join(headers) + "\r\n\r\n" + body + "\r\n").encode()
    headers.append('Content-Type: multipart/alternative; boundary="sep"')
    parts = ["--sep", "Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: 8bit", "", body,
             "--sep", "Content-Type: text/html; charset=utf-8", "Content-Transfer-Encoding: 8bit", "", html,
             "--sep--", ""]
    return ("\r\n".join(headers) + "\r\n\r\n" + "\r\n".join(parts)).encode()


def received(org: Organisation, body: str, **kw: Any) -> Reply:
    return receive(org, eml(body, **kw)).reply


@pytest.fixture
def replies(org: Organisation) -> dict[str, Reply]:
    """A promise applied at once (automatic), a dispute on F-002 and a dispute naming no invoice
    to review, a message from an unknown sender to attach."""
    made = {
        "promise": received(org, "Bonjour, je vous règle le 15 décembre. Cordialement", key="promise", day=18),
        "dispute": received(org, "Le montant de la facture F-002 ne correspond pas au devis signé, merci de "
                                 "corriger.", key="dispute", day=19),
        "unknown": received(org, "Bonjour, qui êtes-vous ?", key="unknown", sender="inconnu@ailleurs.test", day=21),
        "dispute_all": received(org, "Je conteste vos factures : le montant ne correspond pas au devis.",
                                key="all", sender="compta@garageducentre.test", day=20),
    }
    assert [made[k].state for k in ("promise", "dispute", "unknown", "dispute_all")] == [
        "traitee", "a_traiter", "a_rattacher", "a_traiter"]
    assert (made["dispute"].category, made["dispute_all"].category) == ("litige", "litige")
    return made


@pytest.fixture
def collector(client: Client, org: Organisation) -> Client:
    client.force_login(make_user("sophie", org))
    return client


def url(name: str, reply: Reply, action: str = "") -> str:
    kwargs: dict[str, Any] = {"pk": reply.pk}
    if action:
        kwargs["action"] = action
    return reverse(f"web:{name}", kwargs=kwargs)


def act(client: Client, reply: Reply, action: str, data: dict[str, str] | None = None) -> str:
    response = client.post(url("reply_action", reply, action), data or {}, follow=True)
    assert response.status_code == 200
    reply.refresh_from_db()
    return response.content.decode()


# ------------------------------------------------------------------------------------------
# The inbox
# ------------------------------------------------------------------------------------------


def test_inbox_puts_what_waits_for_a_person_first(collector: Client, replies: dict[str, Reply]) -> None:
    response = collector.get(reverse("web:replies"))
    assert response.status_code == 200
    rows = list(response.context["page"].object_list)
    # à traiter (newest first), à rattacher, then the others
    assert [r.pk for r in rows] == [replies[k].pk for k in ("dispute_all", "dispute", "unknown", "promise")]
    page = response.content.decode()
    assert "Boîte de réception" in page
    assert "20 novembre 2026" in page and "18 novembre 2026" in page  # French long dates
    assert "inconnu@ailleurs.test" in page and "à rattacher" in page
    assert reverse("web:customer", kwargs={"pk": replies["dispute"].customer_id}) in page
    assert "Litige" in page and "(confiance " in page
    assert '<span class="evidence">«\u00a0' in page  # the evidence, quoted
    assert "À traiter" in page and "Traitée" in page
    nav = page.split('data-testid="nav-replies"', 1)[1].split("</a>", 1)[0]
    assert '<span class="count"' in nav and ">3</span>" in nav  # 2 to review + 1 to attach


def test_inbox_filters_by_state(collector: Client, replies: dict[str, Reply]) -> None:
    response = collector.get(reverse("web:replies"), {"etat": "a_rattacher"})
    assert [r.pk for r in response.context["page"].object_list] == [replies["unknown"].pk]
    assert dict((v, n) for v, _, n in response.context["states"]) == {
        "a_traiter": 2, "a_rattacher": 1, "traitee": 1, "classee": 0}
    response = collector.get(reverse("web:replies"), {"etat": "traitee"})
    assert [r.pk for r in response.context["page"].object_list] == [replies["promise"].pk]
    response = collector.get(reverse("web:replies"), {"etat": "n_importe_quoi"})
    assert len(response.context["page"].object_list) == 4
    customer = replies["dispute"].customer
    assert customer is not None
    response = collector.get(reverse("web:replies"), {"client": customer.pk})
    assert {r.pk for r in response.context["page"].object_list} == {replies["promise"].pk, replies["dispute"].pk}
    assert "Boulangerie Martin SARL" in response.content.decode()


def test_accuracy_block(collector: Client, replies: dict[str, Reply]) -> None:
    page = collector.get(reverse("web:replies")).content.decode()
    assert "aucune réponse n’a encore été vue par une personne" in page
    act(collector, replies["dispute"], "confirmer", {"category": "litige"})
    act(collector, replies["dispute_all"], "confirmer", {"category": "echeancier"})
    page = collector.get(reverse("web:replies")).content.decode()
    assert "Exactitude du classement : 2 réponses vues par une personne, 50\u202f% confirmées" in page
    corrections = page.split('data-testid="corrections"', 1)[1].split("</ul>", 1)[0]
    assert "« Litige » → « Demande d’échéancier » : 1 fois" in corrections


# ------------------------------------------------------------------------------------------
# One reply
# ------------------------------------------------------------------------------------------


def test_detail_shows_category_evidence_and_the_proposed_effect(collector: Client, replies: dict[str, Reply]) -> None:
    page = collector.get(url("reply", replies["dispute"])).content.decode()
    assert 'data-testid="category-label">Litige<' in page
    evidence = page.split('data-testid="evidence"', 1)[1].split("</ul>", 1)[0]
    assert all(f"«\u00a0{words}\u00a0»" in evidence for words in replies["dispute"].evidence)
    assert "Suite proposée :" in page and "Litige ouvert sur F-002" in page
    assert 'data-testid="form-confirm"' in page and 'name="all_invoices"' not in page  # F-002 is named
    assert page.count("<option value=") >= 8
    # the dispute naming no invoice offers « toutes les factures »
    page = collector.get(url("reply", replies["dispute_all"])).content.decode()
    assert "sur toutes les factures du client" in page and "à confirmer" in page
    # the applied promise shows what was done, and the undo
    page = collector.get(url("reply", replies["promise"])).content.decode()
    assert "Suite appliquée :" in page and "Promesse de paiement enregistrée." in page
    assert "Appliquée automatiquement à la réception." in page and "Annuler la suite" in page
    assert "Date promise : 15 décembre 2026" in page


def test_html_version_only_in_a_sandboxed_frame(collector: Client, org: Organisation) -> None:
    html = ('<html><head><script>alert("vol")</script></head><body><p onclick="alert(1)">Bonjour, facture '
            'F-001 réglée.</p><img src="https://pisteur.example/p.gif"></body></html>')
    reply = received(org, "Bonjour, facture F-001 réglée. <script>alert(2)</script>", key="html", html=html)
    response = collector.get(url("reply", reply))
    page = response.content.decode()
    assert "<script>" not in page and "<script" not in page.split("</head>", 1)[1]
    assert 'onclick="alert' not in page
    frame = page.split("<iframe", 1)[1].split("</iframe>", 1)[0]
    assert 'sandbox=""' in frame and "allow-scripts" not in frame and "allow-same-origin" not in frame
    assert 'referrerpolicy="no-referrer"' in frame
    assert "&lt;script&gt;alert(&quot;vol&quot;)&lt;/script&gt;" in frame  # escaped inside srcdoc
    assert "default-src &#x27;none&#x27;" in frame and "img-src data:" in frame  # the frame's own policy
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in page.split('data-testid="reply-body"', 1)[1]  # text escaped
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "img-src 'self' data:" in policy
    assert "unsafe-eval" not in policy and "'unsafe-inline'" not in policy.split("script-src", 1)[1].split(";")[0]
    assert FRAME_POLICY.startswith("default-src 'none'")
    # a text-only message has no frame
    plain = collector.get(url("reply", received(org, "Bonjour.", key="plain"))).content.decode()
    assert "<iframe" not in plain and "Bonjour." in plain


def test_eml_download(collector: Client, org: Organisation, replies: dict[str, Reply]) -> None:
    reply = replies["dispute"]
    response = collector.get(url("reply_eml", reply))
    assert response.status_code == 200
    assert response["Content-Type"] == "message/rfc822"
    assert response["Content-Disposition"].startswith("attachment")
    assert f"reponse-{reply.pk}.eml" in response["Content-Disposition"]
    body = b"".join(response.streaming_content)  # type: ignore[attr-defined]
    assert body == eml("Le montant de la facture F-002 ne correspond pas au devis signé, merci de corriger.",
                       key="dispute", day=19)
    assert url("reply_eml", reply) in collector.get(url("reply", reply)).content.decode()


# ------------------------------------------------------------------------------------------
# Actions
# ------------------------------------------------------------------------------------------


def test_confirm_applies_the_proposed_effect(collector: Client, replies: dict[str, Reply]) -> None:
    reply = replies["dispute"]
    page = act(collector, reply, "confirmer", {"category": "litige"})
    assert "Réponse traitée (« Litige ») : la suite est appliquée." in page
    assert (reply.state, reply.category, reply.reviewed_by) == ("traitee", "litige", "web:sophie")
    dispute = Hold.objects.get(kind="dispute", state="active")
    assert dispute.invoice is not None and dispute.invoice.number == "F-002"
    assert reply.review_hold is not None and reply.review_hold.state == "lifted"
    # confirming again is a conflict, said in French, never a 500
    page = act(collector, reply, "confirmer", {"category": "litige"})
    assert "rien à confirmer" in page and reply.state == "traitee"


def test_change_the_category_then_confirm(collector: Client, replies: dict[str, Reply]) -> None:
    reply = replies["dispute"]
    page = act(collector, reply, "confirmer", {"category": "echeancier"})
    assert "Réponse traitée (« Demande d’échéancier »)" in page
    assert (reply.predicted, reply.category, reply.state) == ("litige", "echeancier", "traitee")
    assert CallTask.objects.filter(customer=reply.customer, purpose="plan", status="open").count() == 1
    assert not Hold.objects.filter(kind="dispute").exists()


def test_change_the_category_without_applying(collector: Client, replies: dict[str, Reply]) -> None:
    reply = replies["dispute"]
    page = act(collector, reply, "reclasser", {"category": "non_recu"})
    assert "Catégorie changée en « Facture non reçue » : rien n’est encore appliqué." in page
    assert (reply.category, reply.state) == ("non_recu", "a_traiter")
    assert "Une copie de F-002 part par e-mail" in page  # the new proposal
    page = act(collector, reply, "reclasser", {"category": "inconnue"})
    assert "choisissez une catégorie" in page.lower() and reply.category == "non_recu"


def test_a_dispute_naming_no_invoice_needs_the_all_invoices_box(collector: Client, replies: dict[str, Reply]) -> None:
    reply = replies["dispute_all"]
    page = act(collector, reply, "confirmer", {"category": "litige"})
    assert "Impossible d’appliquer" in page and reply.state == "a_traiter"
    assert not Hold.objects.filter(kind="dispute").exists()
    page = act(collector, reply, "confirmer", {"category": "litige", "all_invoices": "on"})
    assert reply.state == "traitee"
    assert list(Hold.objects.filter(kind="dispute", state="active").values_list("invoice__number", flat=True)) == [
        "F-003"]


def test_attach_flow(collector: Client, org: Organisation, replies: dict[str, Reply]) -> None:
    reply = replies["unknown"]
    page = collector.get(url("reply", reply)).content.decode()
    assert "Rattacher à un client" in page and "C002 — Garage du Centre" in page
    assert 'data-testid="form-confirm"' not in page  # nothing to confirm before it is attached
    page = act(collector, reply, "rattacher", {"search": "zzz"})
    assert "aucun client ne correspond à « zzz »" in page.replace("Aucun", "aucun") and reply.state == "a_rattacher"
    page = act(collector, reply, "rattacher", {"search": "a"})  # several names contain « a »
    assert "plusieurs clients correspondent" in page.lower() and reply.state == "a_rattacher"
    page = act(collector, reply, "rattacher", {"search": "garage du"})
    garage = Customer.objects.get(organisation=org, code="C002")
    assert "Réponse rattachée à Garage du Centre" in page
    assert (reply.state, reply.customer_id, reply.attached_by) == ("a_traiter", garage.pk, "person")
    assert reply.review_hold is not None and reply.review_hold.state == "active"
    # attached to another customer, chosen in the list
    martin = Customer.objects.get(organisation=org, code="C001")
    act(collector, reply, "rattacher", {"customer": str(martin.pk)})
    assert (reply.state, reply.customer_id) == ("a_traiter", martin.pk)
    # by its exact code
    act(collector, reply, "rattacher", {"search": "c003"})
    assert reply.customer is not None and reply.customer.code == "C003"
    # a customer of another organisation is not found
    other = make_org("autre", legal_name="Autre SAS")
    stranger = Customer.objects.create(organisation=other, code="X1", legal_name="Étranger")
    page = act(collector, reply, "rattacher", {"customer": str(stranger.pk)})
    assert "Client introuvable" in page and reply.customer.code == "C003"


def test_dismiss_then_reopen(collector: Client, replies: dict[str, Reply]) -> None:
    reply = replies["dispute"]
    page = act(collector, reply, "classer", {"note": "déjà vu au téléphone"})
    assert "Réponse classée sans suite : les relances reprennent." in page
    assert reply.state == "classee" and reply.review_hold is not None and reply.review_hold.state == "lifted"
    assert 'data-testid="form-reopen"' in page
    page = act(collector, reply, "rouvrir")
    assert "Réponse rouverte" in page and reply.state == "a_traiter"
    assert reply.review_hold is not None and reply.review_hold.state == "active"
    # an unattached reply cannot be reopened: a French message
    unknown = replies["unknown"]
    act(collector, unknown, "classer")
    assert unknown.state == "classee"
    page = act(collector, unknown, "rouvrir")
    assert "Rattachez d’abord cette réponse à un client." in page and unknown.state == "classee"


def test_undo_reverts_the_applied_effect(collector: Client, replies: dict[str, Reply]) -> None:
    reply = replies["promise"]
    promise = Promise.objects.get(pk=reply.effect["promise"])
    page = act(collector, reply, "annuler")
    assert "Suite annulée : la réponse est de nouveau à traiter." in page
    promise.refresh_from_db()
    assert promise.state == "cancelled" and reply.state == "a_traiter" and reply.effect == {}
    page = act(collector, reply, "annuler")
    assert "Aucune suite à annuler pour cette réponse." in page


def test_unknown_action_is_a_404(collector: Client, replies: dict[str, Reply]) -> None:
    assert collector.post(url("reply_action", replies["dispute"], "supprimer")).status_code == 404
    assert collector.get(url("reply_action", replies["dispute"], "confirmer")).status_code == 405


# ------------------------------------------------------------------------------------------
# Boundaries
# ------------------------------------------------------------------------------------------


def test_a_reply_of_another_organisation_is_a_404(org: Organisation, replies: dict[str, Reply]) -> None:
    other = make_org("autre", legal_name="Autre SAS")
    client = member_client(other, "intrus")
    reply = replies["dispute"]
    assert client.get(url("reply", reply)).status_code == 404
    assert client.get(url("reply_eml", reply)).status_code == 404
    assert client.post(url("reply_action", reply, "classer")).status_code == 404
    assert client.get(reverse("web:replies")).context["page"].paginator.count == 0
    reply.refresh_from_db()
    assert reply.state == "a_traiter"


def test_read_only_member_sees_but_cannot_act(org: Organisation, replies: dict[str, Reply]) -> None:
    client = member_client(org, "lecteur", role=Membership.Role.READ_ONLY)
    reply = replies["dispute"]
    page = client.get(url("reply", reply)).content.decode()
    assert "Litige ouvert sur F-002" in page and 'data-testid="form-confirm"' not in page
    assert client.get(url("reply_eml", reply)).status_code == 200
    for action in ("confirmer", "reclasser", "rattacher", "classer", "rouvrir", "annuler"):
        assert client.post(url("reply_action", reply, action), {"category": "litige"}).status_code == 403
    reply.refresh_from_db()
    assert reply.state == "a_traiter"


def test_restricted_collector_sees_only_their_customers_replies(org: Organisation,
                                                                  replies: dict[str, Reply]) -> None:
    org.collectors_see_assigned_only = True
    org.save()
    client = member_client(org, "paul")
    paul = Membership.objects.get(organisation=org, user__username="paul").user
    Customer.objects.filter(organisation=org, code="C001").update(collector=paul)
    response = client.get(reverse("web:replies"))
    assert {r.pk for r in response.context["page"].object_list} == {replies["promise"].pk, replies["dispute"].pk}
    nav = response.content.decode().split('data-testid="nav-replies"', 1)[1].split("</a>", 1)[0]
    assert ">1</span>" in nav
    for hidden in ("unknown", "dispute_all"):
        assert client.get(url("reply", replies[hidden])).status_code == 404
        assert client.get(url("reply_eml", replies[hidden])).status_code == 404
    # attaching to a customer that is not theirs is refused
    reply = replies["dispute"]
    page = act(client, reply, "rattacher", {"search": "C002"})
    assert "Aucun client ne correspond" in page and reply.customer is not None and reply.customer.code == "C001"


def test_customer_page_lists_its_replies(collector: Client, org: Organisation, replies: dict[str, Reply]) -> None:
    customer = Customer.objects.get(organisation=org, code="C001")
    page = collector.get(reverse("web:customer", kwargs={"pk": customer.pk})).content.decode()
    section = page.split('data-testid="customer-replies"', 1)[1].split("</section>", 1)[0]
    assert url("reply", replies["dispute"]) in section and url("reply", replies["promise"]) in section
    assert url("reply", replies["unknown"]) not in section
    assert "19 novembre 2026" in section and "Litige" in section and "Promesse de paiement" in section
    assert "À traiter" in section and "Traitée" in section
