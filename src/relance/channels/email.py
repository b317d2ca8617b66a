"""E-mail through Django's mail backends (SMTP in production, .eml files in the demo).

Each message carries a Message-ID derived from the reminder's idempotency key, so a
receiving server (or a person) can recognise a duplicate, and a Reply-To to the
organisation's collections address.
"""

from __future__ import annotations

import smtplib
from collections.abc import Sequence
from email.utils import formataddr

from django.core.mail import EmailMultiAlternatives, get_connection
from django.utils.html import escape

from relance.ledger.models import Contact, Organisation

from .errors import PermanentFailure, TemporaryFailure

HTML_WRAPPER = """<!DOCTYPE html>
<html lang="{lang}"><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font-family: Arial, Helvetica, sans-serif; font-size: 14px; color: #1d2330; line-height: 1.45; }}
table.invoices {{ border-collapse: collapse; margin: 8px 0; }}
table.invoices th, table.invoices td {{ border-bottom: 1px solid #d8dce3; padding: 4px 10px; text-align: left; }}
table.invoices th {{ background: #f1f3f7; }}
table.invoices .num {{ text-align: right; white-space: nowrap; }}
.signature {{ margin-top: 16px; color: #4a5060; }}
</style></head>
<body>
{body}
<p class="signature">{signature}</p>
</body></html>
"""


def sender_domain(organisation: Organisation) -> str:
    address = organisation.sender_email or organisation.reply_to_email
    return address.rsplit("@", 1)[1] if "@" in address else "relance.invalid"


def message_id(key: str, organisation: Organisation) -> str:
    return f"<relance.{key}@{sender_domain(organisation)}>"


def signature_lines(organisation: Organisation) -> list[str]:
    return [x for x in (organisation.signature_name, organisation.signature_title, organisation.legal_name,
                        organisation.phone) if x]


def build_email(
    organisation: Organisation,
    contact: Contact,
    subject: str,
    text: str,
    html_fragment: str,
    key: str,
    language: str,
    attachments: Sequence[tuple[str, bytes, str]] = (),
) -> EmailMultiAlternatives:
    if not contact.email:
        raise PermanentFailure(f"pas d’adresse email pour {contact}")
    sender = formataddr((organisation.sender_name or organisation.legal_name,
                         organisation.sender_email or f"relances@{sender_domain(organisation)}"))
    signature = signature_lines(organisation)
    msg = EmailMultiAlternatives(
        subject=subject,
        body=text + "\n\n" + "\n".join(signature) + "\n",
        from_email=sender,
        to=[formataddr((contact.full_name, contact.email))],
        reply_to=[organisation.reply_to_email] if organisation.reply_to_email else None,
        headers={
            "Message-ID": message_id(key, organisation),
            "X-Relance-Key": key,
            "Auto-Submitted": "auto-generated",
            "Content-Language": language,
        },
    )
    msg.attach_alternative(
        HTML_WRAPPER.format(lang=language, title=escape(subject), body=html_fragment,
                            signature="<br>".join(escape(s) for s in signature)),
        "text/html",
    )
    for name, content, mimetype in attachments:
        msg.attach(name, content, mimetype)
    return msg


def deliver(message: EmailMultiAlternatives) -> None:
    """Send one message; translate SMTP outcomes into temporary or permanent failures."""
    try:
        connection = get_connection(fail_silently=False)
        sent = connection.send_messages([message])
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        detail = "; ".join(f"{addr}: {code} {resp.decode(errors='replace')}"
                           for addr, (code, resp) in exc.recipients.items())
        if codes and all(code >= 500 for code in codes):
            raise PermanentFailure(f"destinataire refusé : {detail}") from exc
        raise TemporaryFailure(f"destinataire refusé temporairement : {detail}") from exc
    except smtplib.SMTPResponseException as exc:
        text = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
        if exc.smtp_code >= 500:
            raise PermanentFailure(f"refus du serveur SMTP : {exc.smtp_code} {text}") from exc
        raise TemporaryFailure(f"erreur temporaire du serveur SMTP : {exc.smtp_code} {text}") from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise TemporaryFailure(f"serveur SMTP injoignable : {exc}") from exc
    if sent != 1:
        raise TemporaryFailure("le serveur n’a pas accepté le message")
