"""E-mail through Django's mail backends (SMTP in production, .eml files in the demo).

Each message carries a Message-ID derived from the reminder's idempotency key and a random
part kept with the reminder, so a receiving server (or a person) can recognise a duplicate,
and a Reply-To to the organisation's collections address. :func:`deliver` knows the SMTP
phase: what fails before the content is transmitted left nothing; what fails after may have
left (:class:`~relance.channels.errors.UncertainDelivery`).

A reminder carries its payment block (:mod:`relance.documents.payment_block`): the details in
both parts, and the EPC QR code as an inline image of the HTML part. The MIME structure is then::

    multipart/mixed                      (only with attached invoices)
      multipart/alternative
        text/plain                       transfer details in plain text
        multipart/related; type="text/html"
          text/html                      <img src="cid:paiement-…@relance">
          image/png                      Content-ID: <paiement-…@relance>, inline
      application/pdf …                  invoices
"""

from __future__ import annotations

import re
import smtplib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from email.header import Header
from email.mime.base import MIMEBase
from email.mime.image import MIMEImage
from email.utils import formataddr
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.backends.smtp import EmailBackend as SMTPBackend
from django.core.mail.message import SafeMIMEMultipart, sanitize_address
from django.utils.html import escape

from relance.documents.payment_block import PAYMENT_MARKER, PaymentBlock
from relance.ledger.models import Contact, Organisation

from .addressing import Signatory, organisation_signatory
from .errors import DeliveryError, HandOverDeclined, PermanentFailure, TemporaryFailure, UncertainDelivery

HTML_WRAPPER = """<!DOCTYPE html>
<html lang="{lang}"><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font-family: Arial, Helvetica, sans-serif; font-size: 14px; color: #1d2330; line-height: 1.45; }}
table.invoices {{ border-collapse: collapse; margin: 8px 0; }}
table.invoices th, table.invoices td {{ border-bottom: 1px solid #d8dce3; padding: 4px 10px; text-align: left; }}
table.invoices th {{ background: #f1f3f7; }}
table.invoices .num {{ text-align: right; white-space: nowrap; }}
.signature {{ margin-top: 16px; color: #4a5060; }}
table.payment {{ border-collapse: collapse; margin: 10px 0; background: #f4f6f9; border: 1px solid #c9d1dc; }}
table.payment td {{ padding: 10px 12px; vertical-align: top; }}
table.payment td.payment-qr {{ padding-right: 4px; }}
table.payment td.payment-qr img {{ display: block; width: 150px; height: 150px; }}
.payment-title {{ font-weight: bold; margin-bottom: 4px; }}
.payment-value {{ font-weight: bold; white-space: nowrap; }}
.payment-hint {{ margin-top: 6px; color: #4a5060; font-size: 12px; }}
</style></head>
<body>
{body}
<p class="signature">{signature}</p>
</body></html>
"""


@dataclass(frozen=True)
class InlineImage:
    """An image shown inside the HTML part, referenced there as ``cid:<cid>``."""

    cid: str
    content: bytes
    subtype: str = "png"
    filename: str = ""


class RelanceEmail(EmailMultiAlternatives):
    """An email whose HTML alternative can carry inline images (``multipart/related``)."""

    def __init__(self, *args: Any, inline_images: Sequence[InlineImage] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.inline_images = list(inline_images)

    def message(self, *args: Any, **kwargs: Any) -> Any:
        """The MIME message, its non-ASCII subject folded knowing the header's name: folded without
        it, a long subject began on the next line and mail readers showed it with a leading space."""
        msg = super().message(*args, **kwargs)
        subject = str(self.subject)
        if not subject.isascii():
            msg.replace_header("Subject", Header(subject, "utf-8", header_name="Subject"))
        return msg

    def _create_alternatives(self, msg: Any) -> Any:
        msg = super()._create_alternatives(msg)  # type: ignore[misc]
        if not self.inline_images or msg.get_content_type() != "multipart/alternative":
            return msg
        parts = msg.get_payload()
        for index, part in enumerate(parts):
            if part.get_content_type() == "text/html":
                related = SafeMIMEMultipart(_subtype="related", encoding=self.encoding or settings.DEFAULT_CHARSET)
                related.set_param("type", "text/html")
                related.attach(part)
                for image in self.inline_images:
                    related.attach(_inline_part(image))
                parts[index] = related
                break
        return msg


def _inline_part(image: InlineImage) -> MIMEBase:
    part = MIMEImage(image.content, _subtype=image.subtype)
    part["Content-ID"] = f"<{image.cid}>"
    part.add_header("Content-Disposition", "inline", filename=image.filename or f"{image.cid.split('@')[0]}.png")
    return part


def with_payment(text: str, html_fragment: str, payment: PaymentBlock | None) -> tuple[str, str]:
    """The text and HTML bodies with the payment block: templates place ``{{ bloc_paiement }}``;
    an organisation's older template that does not gets the block after its last paragraph."""
    if payment is None:
        return text, html_fragment
    block_text = payment.text()
    if block_text and block_text not in text:
        text = f"{text.rstrip()}\n\n{block_text}"
    if PAYMENT_MARKER not in html_fragment:
        html_fragment = f"{html_fragment.rstrip()}\n{payment.html()}"
    return text, html_fragment


def sender_domain(organisation: Organisation) -> str:
    address = organisation.sender_email or organisation.reply_to_email
    return address.rsplit("@", 1)[1] if "@" in address else "relance.invalid"


def message_id(key: str, organisation: Organisation, nonce: str = "") -> str:
    """Unique across installations: the reminder's key (from database ids) and a random part
    drawn once per reminder (``Reminder.message_nonce``), the same for every attempt of it, so a
    receiving server (or a person) recognises a second copy of the same reminder."""
    if not nonce:
        return f"<relance.{key}@{sender_domain(organisation)}>"
    # 64 bits of the key and 64 random ones: short enough that the header is never folded
    return f"<relance.{key[:16]}.{nonce[:16]}@{sender_domain(organisation)}>"


def reply_address(organisation: Organisation, key: str) -> str:
    """The address a reminder asks the customer to answer: the organisation's reply address,
    tagged with the reminder's key (its first 16 hex digits) when the organisation set a
    separator — ``recouvrement+3f2a9c…@atelier.fr`` (``relance.replies`` attaches the answer to
    its reminder by it)."""
    address = organisation.reply_to_email
    separator = organisation.reply_tag_separator
    if not separator or "@" not in address or not key:
        return address
    local, domain = address.rsplit("@", 1)
    return f"{local}{separator}{key[:16].lower()}@{domain}"


def signature_lines(organisation: Organisation, signer: Signatory | None = None) -> list[str]:
    """Name and function of who signs (``signer``: the customer's collector; default the
    organisation's signatory), then the organisation's name and telephone."""
    who = signer if signer is not None else organisation_signatory(organisation)
    return [x for x in (*who.lines(), organisation.legal_name, organisation.phone) if x]


def email_text(organisation: Organisation, text: str, payment: PaymentBlock | None = None,
               signer: Signatory | None = None) -> str:
    """The plain-text part exactly as :func:`build_email` writes it: the payment block where the
    template did not place it, then the signature."""
    text, _ = with_payment(text, "", payment)
    return text + "\n\n" + "\n".join(signature_lines(organisation, signer)) + "\n"


def build_email(
    organisation: Organisation,
    contact: Contact,
    subject: str,
    text: str,
    html_fragment: str,
    key: str,
    language: str,
    attachments: Sequence[tuple[str, bytes, str]] = (),
    payment: PaymentBlock | None = None,
    nonce: str = "",
    cc: Sequence[Contact] = (),
    signer: Signatory | None = None,
) -> EmailMultiAlternatives:
    """The message for one reminder. ``payment`` (none for a thank-you) adds the payment block
    if the template did not place it, and the QR code as an inline image; ``cc``: contacts in
    copy (those without a usable address are left out); ``signer``: who signs (default: the
    organisation's signatory)."""
    if not contact.email:
        raise PermanentFailure(f"pas d’adresse email pour {contact}")
    text, html_fragment = with_payment(text, html_fragment, payment)
    inline = []
    if payment is not None and payment.has_qr and f"cid:{payment.qr_cid}" in html_fragment:
        inline.append(InlineImage(payment.qr_cid, payment.qr_png(), "png",
                                  "qr-paiement.png" if language == "fr" else "payment-qr.png"))
    sender = formataddr((organisation.sender_name or organisation.legal_name,
                         organisation.sender_email or f"relances@{sender_domain(organisation)}"))
    signature = signature_lines(organisation, signer)
    copies = [formataddr((c.full_name, c.usable_email)) for c in cc if c.usable_email]
    msg = RelanceEmail(
        subject=subject,
        body=email_text(organisation, text, signer=signer),  # the payment block is in ``text`` already
        from_email=sender,
        to=[formataddr((contact.full_name, contact.email))],
        cc=copies or None,
        reply_to=[reply_address(organisation, key)] if organisation.reply_to_email else None,
        headers={
            "Message-ID": message_id(key, organisation, nonce),
            "X-Relance-Key": key,
            "Auto-Submitted": "auto-generated",
            "Content-Language": language,
        },
        inline_images=inline,
    )
    msg.attach_alternative(
        HTML_WRAPPER.format(lang=language, title=escape(subject), body=html_fragment,
                            signature="<br>".join(escape(s) for s in signature)),
        "text/html",
    )
    for name, content, mimetype in attachments:
        msg.attach(name, content, mimetype)
    return msg


def deliver(message: EmailMultiAlternatives, on_handover: Callable[[], bool] | None = None) -> None:
    """Send one message; translate the outcome into a failure whose kind says what may have left.

    Over SMTP the conversation is led here step by step, so that the moment the message starts
    to leave is known: ``on_handover`` is called after the server answered 354 to DATA and
    before the first byte of content — the caller commits there that the message is being
    handed over (returning False, or raising, declines: the connection is closed before any
    content, and the server discards the transaction).

    * before that point (connection, EHLO, STARTTLS, AUTH, MAIL FROM, RCPT TO, DATA refused or
      failed): nothing left — :class:`TemporaryFailure` (down, timeout, 4xx) or
      :class:`PermanentFailure` (5xx);
    * content sent, then the connection dropped or no final reply within the timeout:
      :class:`UncertainDelivery` — it may have been delivered;
    * a final 4xx/5xx reply to the content: the server refused it — temporary or permanent.

    Other backends (.eml files, memory) write locally: handed over just before writing."""
    backend = get_connection(fail_silently=False)
    if not isinstance(backend, SMTPBackend):
        if on_handover is not None and not on_handover():
            raise HandOverDeclined("envoi abandonné avant la remise")
        try:
            sent = backend.send_messages([message])
        except OSError as exc:
            raise TemporaryFailure(f"écriture du message impossible : {exc}") from exc
        if sent != 1:
            raise TemporaryFailure("le message n’a pas été écrit")
        return
    try:
        _smtp_deliver(backend, message, on_handover)
    finally:
        _drop(backend)


def _drop(backend: SMTPBackend) -> None:
    """Close the sockets without a QUIT: after DATA a QUIT would be read as content, and its
    answer awaited until the timeout (the success path already said QUIT)."""
    for attribute in ("connection", "_partial_connection"):
        smtp = getattr(backend, attribute, None)
        if smtp is not None:
            try:
                smtp.close()
            except OSError:
                pass
            setattr(backend, attribute, None)


def _smtp_deliver(backend: SMTPBackend, message: EmailMultiAlternatives,
                  on_handover: Callable[[], bool] | None) -> None:
    encoding = message.encoding or settings.DEFAULT_CHARSET
    try:
        backend.open()
        smtp = backend.connection
        assert smtp is not None
        sender = sanitize_address(message.from_email, encoding)
        recipients = [sanitize_address(address, encoding) for address in message.recipients()]
        content = message.message().as_bytes(linesep="\r\n")  # type: ignore[call-arg]
        smtp.ehlo_or_helo_if_needed()
        options = [f"size={len(content)}"] if smtp.does_esmtp and smtp.has_extn("size") else []
        code, reply = smtp.mail(sender, options)
        if code != 250:
            raise smtplib.SMTPSenderRefused(code, reply, sender)
        refused = {}
        for recipient in recipients:
            code, reply = smtp.rcpt(recipient)
            if code not in (250, 251):
                refused[recipient] = (code, reply)
        if len(refused) == len(recipients):
            raise smtplib.SMTPRecipientsRefused(refused)  # type: ignore[arg-type]
        code, reply = smtp.docmd("data")
        if code != 354:
            raise smtplib.SMTPDataError(code, reply)
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        detail = "; ".join(f"{addr}: {code} {_text(resp)}" for addr, (code, resp) in exc.recipients.items())
        if codes and all(code >= 500 for code in codes):
            raise PermanentFailure(f"destinataire refusé : {detail}") from exc
        raise TemporaryFailure(f"destinataire refusé temporairement : {detail}") from exc
    except smtplib.SMTPResponseException as exc:
        raise _refusal(exc.smtp_code, exc.smtp_error) from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise TemporaryFailure(f"serveur SMTP injoignable : {exc}") from exc
    # the irreversible part begins: the caller records it first
    if on_handover is not None and not on_handover():
        raise HandOverDeclined("envoi abandonné avant la transmission du message")
    try:
        payload = re.sub(rb"(?m)^\.", b"..", content)
        if not payload.endswith(b"\r\n"):
            payload += b"\r\n"
        smtp.send(payload + b".\r\n")
        code, reply = smtp.getreply()
    except (smtplib.SMTPException, OSError) as exc:
        what = "pas de réponse finale du serveur" if isinstance(exc, TimeoutError) else "connexion coupée"
        raise UncertainDelivery(f"{what} après la transmission du message (DATA) : il est peut-être parti "
                                f"({type(exc).__name__}: {exc})") from exc
    if code != 250:
        raise _refusal(code, reply)
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        pass  # accepted: the end of the conversation does not matter


def _text(reply: bytes | str) -> str:
    return reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)


def _refusal(code: int, reply: bytes | str) -> DeliveryError:
    if code >= 500:
        return PermanentFailure(f"refus du serveur SMTP : {code} {_text(reply)}")
    return TemporaryFailure(f"erreur temporaire du serveur SMTP : {code} {_text(reply)}")
