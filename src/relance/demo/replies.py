"""The demo's inbox: on the demo day, a few customers answer their last reminder as people do —
a promise with a date, a contested amount, an invoice never received, an out-of-office reply,
and a message from an address nobody knows. Each is written as an .eml file under
``import/reponses/`` (to try ``relance replies receive`` on) and received like a message read
from the mailbox, so the « Réponses » page opens with work to do."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from pathlib import Path

from relance import clock
from relance.core import formatting as fmt
from relance.dunning.models import Reminder
from relance.ledger.models import Organisation
from relance.replies.services.receive import receive


def _answer(reminder: Reminder | None, sender: str, name: str, subject: str, text: str, when: datetime,
            n: int, auto: bool = False) -> bytes:
    message = EmailMessage()
    message["From"] = f"{name} <{sender}>"
    message["To"] = reminder.organisation.reply_to_email if reminder else "recouvrement@demo.test"
    message["Subject"] = f"RE: {reminder.subject}" if reminder else subject
    message["Date"] = format_datetime(when)
    message["Message-ID"] = f"<demo-reponse-{n}@{sender.split('@')[-1]}>"
    if reminder is not None:
        message["In-Reply-To"] = reminder.message_id
        message["References"] = reminder.message_id
    if auto:
        message["Auto-Submitted"] = "auto-replied"
    quoted = "\n".join(f"> {line}" for line in (reminder.body_text.splitlines()[:12] if reminder else []))
    message.set_content(f"{text}\n\n{name}\n" + (f"\nLe {fmt.long_date(when.date())}, "
                                                  f"{reminder.organisation.legal_name} a écrit :\n{quoted}\n"
                                                  if reminder else ""), cte="quoted-printable")
    return bytes(message)


def receive_demo_replies(org: Organisation, day: date, folder: Path) -> int:
    """Five replies received on ``day``; their count."""
    folder.mkdir(parents=True, exist_ok=True)
    recent = list(Reminder.objects.filter(organisation=org, channel="email", status=Reminder.Status.SENT,
                                          kind=Reminder.Kind.REMINDER, sent_at__date__gte=day - timedelta(days=12))
                  .select_related("customer", "organisation").order_by("-sent_at", "pk"))
    seen: set[int] = set()
    picked: list[Reminder] = []
    for reminder in recent:
        if reminder.customer_id not in seen:
            seen.add(reminder.customer_id)
            picked.append(reminder)
    zone = clock.zone_of(org)
    promised = day + timedelta(days=10)
    back = day + timedelta(days=8)
    wishes = [
        ("promesse", f"Bonjour,\nNous avons bien reçu votre relance. Je vous règle le {promised.day} "
                     f"{fmt.long_date(promised).split(' ')[1]}, désolée pour ce retard.\nCordialement", False),
        ("litige", "Bonjour,\nLe montant de la facture {number} ne correspond pas au devis signé : la remise de "
                   "10 % n’a pas été appliquée. Merci de nous envoyer un avoir.", False),
        ("non_recu", "Bonjour,\nJe n’ai jamais reçu la facture {number}. Pouvez-vous me la renvoyer ?", False),
        ("absence", f"Bonjour,\nJe suis absent du bureau jusqu’au {fmt.long_date(back - timedelta(days=1))} "
                    "inclus. Je traiterai votre message à mon retour.", True),
    ]
    count = 0
    for n, (reminder, (label, text, auto)) in enumerate(zip(picked, wishes, strict=False), start=1):
        contact = parseaddr(reminder.recipient)[1] or "client@demo.test"
        number = reminder.lines.values_list("invoice__number", flat=True).first() or ""
        when = datetime.combine(day, time(9 + n, 12), tzinfo=zone)
        raw = _answer(reminder, contact, reminder.customer.legal_name, "", text.format(number=number), when, n, auto)
        (folder / f"{n}-{label}.eml").write_bytes(raw)
        with clock.frozen(when):
            receive(org, raw, source="fichier", actor="demo")
        count += 1
    unknown = _answer(None, "m.roussel@exemple-cabinet.test", "Marc Roussel", "Votre courrier du mois dernier",
                      "Bonjour,\nJe reprends la comptabilité de la SCI des Tilleuls. Pouvez-vous m’indiquer ce qui "
                      "reste dû ?", datetime.combine(day, time(15, 40), tzinfo=zone), 9)
    (folder / "9-a-rattacher.eml").write_bytes(unknown)
    with clock.frozen(datetime.combine(day, time(15, 40), tzinfo=zone)):
        receive(org, unknown, source="fichier", actor="demo")
    return count + 1
