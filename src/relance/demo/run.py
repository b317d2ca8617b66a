"""``relance demo``: a realistic company, its history of reminders, and today's work.

The demo imports its customers and invoices from CSV files (as a user would), then
replays the last months day by day — invoices imported each week, payments arriving,
the planner and the dispatcher running every business day — so that on the demo date
every kind of step is due somewhere, and every customer has a real timeline.
History e-mails are kept in the database only; the demo date's e-mails are written as
``.eml`` files and its letters as PDF.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db.models import Sum

from relance import clock
from relance.core import formatting as fmt
from relance.datadir import DEMO_DAY_FILE
from relance.documents.letter_pdf import InvoiceDoc, Party, render_many_invoice_pdfs
from relance.dunning.models import CallTask, Reminder
from relance.dunning.services.scenarios import install_default_scenario
from relance.errors import Conflict
from relance.events import kinds
from relance.events.models import Event
from relance.ledger.business_calendar import calendar_for
from relance.ledger.models import Contact, Customer, Invoice, Membership, Organisation
from relance.ledger.services.imports import import_file
from relance.ledger.services.payments import record_credit_note, record_payment
from relance.litigation.models import LitigationCase
from relance.operations.daily import run_day
from relance.profiles.services import install_default_profiles
from relance.rates.services import add_rate
from relance.replies.models import Reply
from relance.replies.queries import waiting_count

from .dataset import GenInvoice, generate, write_contacts_csv, write_customers_csv, write_invoices_csv
from .replies import receive_demo_replies

DEMO_DATE = date(2026, 11, 23)
DEMO_SLUG = "demo"
#: the generator's seed: a history in which the demo day shows reminders, a letter, a formal notice
#: and a hand-over to litigation
DEMO_SEED = 2027
#: 2026-S2 is past our sources: the demo states its hypothesis instead of guessing silently
DEMO_RATE_SOURCE = ("DÉMONSTRATION — hypothèse : taux BCE inchangé depuis la décision du 19 mars 2026 (2,15 %) ; "
                    "à remplacer par le taux publié")
PENALTY_CLAUSE = ("Paiement à 30 jours date de facture, sans escompte pour paiement anticipé. En cas de retard, "
                  "pénalités au taux de la BCE majoré de 10 points et indemnité forfaitaire pour frais de "
                  "recouvrement de 40 € (articles L441-10 et D441-5 du Code de commerce).")


@dataclass
class DemoSummary:
    directory: Path
    organisation: str
    day: date
    counts: dict[str, int] = field(default_factory=dict)
    outstanding: Decimal = Decimal(0)
    overdue: Decimal = Decimal(0)
    today: list[dict[str, Any]] = field(default_factory=list)
    calls: int = 0
    emails: list[str] = field(default_factory=list)
    letters: list[str] = field(default_factory=list)
    replies: int = 0  # customers' replies received on the day
    replies_waiting: int = 0  # of which a person has to read
    #: litigation cases whose evidence file and injonction de payer request the demo wrote:
    #: (case id, customer, folder, files, mentions to complete)
    case_files: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"directory": str(self.directory), "organisation": self.organisation, "date": self.day.isoformat(),
                "counts": self.counts, "outstanding": f"{self.outstanding:.2f}", "overdue": f"{self.overdue:.2f}",
                "today": self.today, "calls": self.calls, "emails": self.emails, "letters": self.letters,
                "replies": self.replies, "replies_waiting": self.replies_waiting, "case_files": self.case_files}

    def text(self) -> str:
        c = self.counts
        d = self.directory
        out = [
            f"relance — démonstration « {self.organisation} », journée du {fmt.long_date(self.day)}",
            "",
            f"Données importées de {d / 'import'} : {c['customers']} clients, {c['contacts']} contacts, "
            f"{c['invoices']} factures.",
            f"  à échoir : {c['not_due']} (dont {c['due_within_week']} dans les 7 jours) · en retard : {c['overdue']} "
            f"(de 1 à {c['max_days_late']} jours) · partiellement payées : {c['partly_paid']} · payées : {c['paid']} "
            f"· annulées par avoir : {c['credited']}",
            f"  encours : {fmt.money(self.outstanding)} dont échu : {fmt.money(self.overdue)}",
            "  taux 2026-S2 : le taux BCE du 1er juillet 2026 manque à nos sources ; la démonstration l’ajoute "
            "comme hypothèse (2,15 %, « relance rates show »)",
            "",
            f"Ce qui est parti aujourd’hui, et les dossiers transmis au contentieux ({len(self.today)}) :",
        ]
        labels = {"email": "email", "letter": "courrier", "registered_letter": "recommandé AR",
                  "litigation": "contentieux", "phone": "appel"}
        for r in self.today:
            out.append(f"  {labels.get(r['channel'], r['channel']):<14} {r['customer']:<7} {r['name'][:34]:<34} "
                       f"{r['step'][:30]:<30} {r['invoices']} fact. {r['total']:>14}  {r['status']}")
        for f in self.case_files:
            out.append(f"  dossier de contentieux n° {f['case']} ({f['name']}) : dossier de recouvrement, pièces et "
                       f"requête en injonction de payer dans {f['folder']}")
            if f["missing"]:
                out.append("    à compléter avant de déposer la requête (page du dossier ou « relance cases ») :")
                out += [f"      – {m.rstrip('.')}" for m in f["missing"]]
        out += [
            f"  appels à passer (liste du jour dans l’application) : {self.calls}",
            f"  réponses de clients reçues : {self.replies}, dont {self.replies_waiting} à lire (page « Réponses » ; "
            f"les messages : {d / 'import' / 'reponses'})",
            "",
            "Où regarder :",
            f"  emails envoyés (.eml, à ouvrir avec un logiciel de messagerie) : {d / 'emails'} ({len(self.emails)})",
            f"  courriers et mises en demeure (PDF) : {d / 'fichiers' / 'letters'} ({len(self.letters)})",
            f"  application web : .venv/bin/relance --dir {d} serve  puis http://127.0.0.1:8000/ "
            "(identifiant « demo », mot de passe « demo »)",
            f"  historique d’un client : .venv/bin/relance --dir {d} events --customer CODE",
            f"  intégrité du journal : .venv/bin/relance --dir {d} verify-events",
        ]
        return "\n".join(out)


def _organisation() -> Organisation:
    if Organisation.objects.filter(slug=DEMO_SLUG).exists():
        raise Conflict("l’organisation « demo » existe déjà dans cette base : la démonstration a besoin d’une base "
                       "vide (sans DATABASE_URL, elle utilise sa propre base SQLite)")
    org = Organisation.objects.create(
        slug=DEMO_SLUG, legal_name="Atelier Lumière SAS", legal_form="SAS au capital de 20 000 €", siren="552100554",
        vat_number="FR40552100554", address1="14 quai Saint-Antoine", postal_code="69002", city="Lyon",
        iban="FR7630006000011234567890189", bic="AGRIFRPP", sender_name="Atelier Lumière — Comptabilité",
        sender_email="comptabilite@atelier-lumiere.test", reply_to_email="recouvrement@atelier-lumiere.test",
        phone="04 78 42 00 00", signature_name="Sophie Laurent", signature_title="Responsable comptable",
    )
    install_default_scenario(org)
    install_default_profiles(org)
    user_model = get_user_model()
    user = user_model.objects.filter(username="demo").first() or user_model.objects.create_superuser(
        "demo", "demo@atelier-lumiere.test", "demo")
    Membership.objects.get_or_create(user=user, organisation=org, defaults={"role": Membership.Role.ADMIN})
    return org


def _invoice_pdfs(org: Organisation, invoices: list[GenInvoice], folder: Path, customers: dict[str, Any]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    seller = Party(org.legal_name, (org.address1, f"{org.postal_code} {org.city}"),
                   extra=(f"SIREN {org.siren}", f"TVA {org.vat_number}"))
    docs = []
    for inv in invoices:
        c = customers[inv.customer]
        docs.append(InvoiceDoc(seller, Party(c.name, (c.address1, f"{c.postal_code} {c.city}")), inv.number,
                               inv.issue_date, inv.due_date, inv.description, inv.amount_excl_tax, inv.tax_amount,
                               inv.amount_incl_tax, org.iban, org.bic, PENALTY_CLAUSE,
                               f"{org.legal_name} — {org.legal_form} — SIREN {org.siren}"))
    for inv, pdf in zip(invoices, render_many_invoice_pdfs(docs), strict=True):
        (folder / f"{inv.number}.pdf").write_bytes(pdf)


def run_demo(directory: Path, day: date = DEMO_DATE) -> DemoSummary:
    directory = directory.resolve()
    call_command("migrate", verbosity=0)
    org = _organisation()
    add_rate("2026-S2", ecb="2.15", source=DEMO_RATE_SOURCE, actor="demo")
    data = generate(34, 240, day, seed=DEMO_SEED, history_days=210)
    customers = {c.code: c for c in data.customers}
    imports = directory / "import"
    imports.mkdir(parents=True, exist_ok=True)
    import_file(org, write_customers_csv(imports / "clients.csv", data.customers))
    import_file(org, write_contacts_csv(imports / "contacts.csv", data.customers))
    # invoices still open on the demo date get their PDF, attached to the reminders that list them
    needs_pdf = [i for i in data.invoices if not i.credit and (not i.payments or max(d for d, _ in i.payments) >= day)]
    _invoice_pdfs(org, needs_pdf, imports / "pdf", customers)
    with_pdf = {i.number for i in needs_pdf}

    by_week: dict[date, list[GenInvoice]] = defaultdict(list)
    for inv in data.invoices:
        by_week[inv.issue_date + timedelta(days=7 - inv.issue_date.weekday())].append(inv)  # imported next Monday
    events_by_day: dict[date, list[tuple[str, GenInvoice, Decimal, int]]] = defaultdict(list)
    for inv in data.invoices:
        for k, (when, amount) in enumerate(inv.payments):
            events_by_day[when].append(("payment", inv, amount, k))
        if inv.credit:
            events_by_day[inv.credit[0]].append(("credit", inv, inv.credit[1], 0))

    real_backend = settings.EMAIL_BACKEND
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"  # history: kept in the database only
    start = min(by_week)
    rng = random.Random(7)
    current = start
    calendar = calendar_for(org)
    try:
        while current <= day:
            if current == day:
                settings.EMAIL_BACKEND = real_backend
            morning = datetime.combine(current, time(9, 0), tzinfo=clock.zone_of(org))
            with clock.frozen(morning):
                _replay_morning(org, current, day, by_week, events_by_day, imports, with_pdf, rng)
            if calendar.is_business_day(current):
                run_day(org, current, queue=False)
            if current < day:
                _close_calls(org, current)
            current += timedelta(days=1)
    finally:
        settings.EMAIL_BACKEND = real_backend
    receive_demo_replies(org, day, imports / "reponses")
    case_files = _case_files(org, day, directory / "contentieux")
    # the folder's web app and commands open on the demo's day, not on the real date (settings.RELANCE_DEMO_DAY)
    (directory / DEMO_DAY_FILE).write_text(day.isoformat() + "\n", encoding="utf-8")
    summary = _summary(org, directory, day)
    summary.case_files = case_files
    return summary


#: how many live cases the demo writes the files of (each takes about a second)
DEMO_CASE_FILES = 2


def _case_files(org: Organisation, day: date, folder: Path) -> list[dict[str, Any]]:
    """Write the evidence file, its originals and the request of the oldest live cases under
    ``folder`` (the court is left for the user to enter: the request says so)."""
    from relance.core import litigation as machine
    from relance.litigation.services import produce_documents

    written = []
    cases = (LitigationCase.objects.filter(organisation=org, state__in=machine.LIVE_STATES)
             .select_related("customer").order_by("opened_on", "pk")[:DEMO_CASE_FILES])
    with clock.frozen(datetime.combine(day, time(18, 0), tzinfo=clock.zone_of(org))):
        for case in cases:
            _record_proof(org, case, day)
            docs = produce_documents(org, case, actor="demo", as_of=day)
            target = folder / f"dossier-{case.pk}"
            target.mkdir(parents=True, exist_ok=True)
            files = []
            for doc in docs:
                name = (doc.file.name or "document").rsplit("/", 1)[-1].split("-", 1)[-1]
                with doc.file.open("rb") as fh:
                    (target / name).write_bytes(fh.read())
                files.append(str(target / name))
            event = (Event.objects.filter(organisation=org, kind=kinds.LITIGATION_DOCUMENT_ADDED.code, data__case=case.pk,
                                          data__kind="request").order_by("-seq").first())
            missing: list[str] = list(event.data.get("missing", [])) if event is not None else []
            written.append({"case": case.pk, "customer": case.customer.code, "name": case.customer.legal_name,
                            "folder": str(target), "files": files, "missing": missing})
    return written


def _record_proof(org: Organisation, case: LitigationCase, day: date) -> None:
    """What the user does when La Poste's receipt comes back: the tracking number and the date of
    the avis de réception of the case's formal notices (fictitious numbers, two business days)."""
    from relance.dunning.services.registered_mail import record_delivery

    calendar = calendar_for(org)
    for line in case.lines.select_related("formal_notice"):
        notice = line.formal_notice
        if notice is None or notice.tracking_number or notice.sent_at is None:
            continue
        sent = clock.today_for(org, notice.sent_at)
        received = min(calendar.on_or_after(calendar.on_or_after(sent + timedelta(days=1)) + timedelta(days=1)), day)
        record_delivery(org, notice.pk, tracking_number=f"1A{notice.pk:011d}", received_on=received, actor="demo",
                        today=day)


def _replay_morning(org: Organisation, current: date, day: date, by_week: dict[date, list[GenInvoice]],
                    events_by_day: dict[date, list[tuple[str, GenInvoice, Decimal, int]]], imports: Path,
                    with_pdf: set[str], rng: random.Random) -> None:
    """What arrives on a morning of the replay: last week's invoices, the day's payments."""
    if current in by_week:
        batch = sorted(by_week[current], key=lambda i: i.number)
        path = imports / f"factures-{current.isoformat()}.csv"
        write_invoices_csv(path, batch)
        _attach_pdfs(path, batch, with_pdf)
        import_file(org, path)
    for kind, inv, amount, k in sorted(events_by_day.get(current, []), key=lambda e: e[1].number):
        if current > day:
            break
        customer = Customer.objects.get(organisation=org, code=inv.customer)
        if not Invoice.objects.filter(organisation=org, number=inv.number).exists():
            continue  # paid before it was even imported: it never shows up as open
        if kind == "payment":
            designated = [inv.number] if rng.random() < 0.8 else []
            record_payment(org, customer, f"VIR-{inv.number}-{k + 1}", current, amount, designated,
                           "virement")
        else:
            record_credit_note(org, customer, inv.number.replace("FA", "AV"), current, amount, inv.number,
                               "Annulation de la facture")


def _close_calls(org: Organisation, on: date) -> None:
    """In the replayed past, the collector made the day's calls (issue #5 brings real outcomes)."""
    CallTask.objects.filter(organisation=org, due_on=on, status=CallTask.Status.OPEN).update(
        status=CallTask.Status.DONE, outcome="appel passé (historique de démonstration)")


def _attach_pdfs(csv_path: Path, batch: list[GenInvoice], with_pdf: set[str]) -> None:
    text = csv_path.read_text(encoding="utf-8").splitlines()
    out = [text[0]]
    for line, inv in zip(text[1:], batch, strict=True):
        out.append(line[: line.rfind(";") + 1] + (f"pdf/{inv.number}.pdf" if inv.number in with_pdf else ""))
    csv_path.write_text("\n".join(out) + "\n", encoding="utf-8")


def _summary(org: Organisation, directory: Path, day: date) -> DemoSummary:
    invoices = Invoice.objects.filter(organisation=org)
    open_ = invoices.filter(status=Invoice.Status.OPEN)
    overdue = open_.filter(due_date__lt=day)
    late = [(day - d).days for d in overdue.values_list("due_date", flat=True)]
    status = Counter(invoices.values_list("status", flat=True))
    summary = DemoSummary(directory, org.legal_name, day)
    summary.counts = {
        "customers": Customer.objects.filter(organisation=org).count(),
        "contacts": Contact.objects.filter(organisation=org).count(),
        "invoices": invoices.count(),
        "not_due": open_.filter(due_date__gte=day).count(),
        "due_within_week": open_.filter(due_date__gte=day, due_date__lte=day + timedelta(days=7)).count(),
        "overdue": overdue.count(),
        "max_days_late": max(late, default=0),
        "partly_paid": open_.filter(allocations__isnull=False).distinct().count(),
        "paid": status.get("paid", 0),
        "credited": status.get("credited", 0),
    }
    summary.outstanding = open_.aggregate(s=Sum("amount_due"))["s"] or Decimal(0)
    summary.overdue = overdue.aggregate(s=Sum("amount_due"))["s"] or Decimal(0)
    status_fr = dict(Reminder.Status.choices)
    for r in (Reminder.objects.filter(organisation=org, planned_for=day).select_related("customer", "step")
              .order_by("channel", "customer__code")):
        lines = list(r.lines.all())
        summary.today.append({
            "customer": r.customer.code, "name": r.customer.legal_name,
            "step": r.step.label if r.step else dict(Reminder.Kind.choices)[r.kind], "channel": r.channel,
            "invoices": len(lines), "total": fmt.money(sum((ln.amount_due or Decimal(0) for ln in lines), Decimal(0))),
            "status": status_fr[r.status], "recipient": r.recipient, "document": r.document.name,
        })
    for case in (LitigationCase.objects.filter(organisation=org, opened_on=day).select_related("customer")
                 .prefetch_related("lines").order_by("customer__code")):
        handed = list(case.lines.all())
        summary.today.append({
            "customer": case.customer.code, "name": case.customer.legal_name,
            "step": f"Dossier contentieux n° {case.pk}", "channel": "litigation", "invoices": len(handed),
            "total": fmt.money(sum((ln.amount_due_at_opening for ln in handed), Decimal(0))),
            "status": case.get_state_display(), "recipient": "", "document": "",
        })
    summary.calls = CallTask.objects.filter(organisation=org, status=CallTask.Status.OPEN).count()
    summary.replies = Reply.objects.filter(organisation=org).count()
    summary.replies_waiting = waiting_count(org)
    summary.emails = sorted(str(p) for p in (directory / "emails").glob("*.eml"))
    summary.letters = sorted(str(p) for p in (directory / "fichiers" / "letters").rglob(f"*/{day.isoformat()}/*.pdf"))
    return summary
