"""Where the writing check (``relance.writing``, issue 17) runs on messages: the template editor,
the approval queue's edit and the dispatcher.

A message is checked as its reader will read it: a template *rendered* (its variables filled,
so that ``{{ client.nom }}`` is never flagged), an edited text as stored. The words of the names
the message is written with (customer, contacts, organisation, signatory) are accepted, as are
the organisation's own accepted words (``Organisation.accepted_words``, read by the checker).

Only a spelling mistake (``orthographe``) asks a person to confirm or holds a message; the other
problems (grammar, typography, tone) are shown and recorded. A person who confirmed a text with
its mistakes acknowledged *that* text (its :func:`digest`): the dispatcher does not hold it again.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from relance.errors import InvalidInput
from relance.ledger.models import Customer, Organisation

if TYPE_CHECKING:
    from relance.writing import Problem

logger = logging.getLogger(__name__)

#: the parts of a message, as recorded with each problem
SUBJECT, BODY = "objet", "texte"
#: at most this many problems are recorded in an event (the rest counted)
MAX_RECORDED = 50
#: the context keys whose values are names (``messages.build_context``)
NAME_KEYS = frozenset({"nom", "prenom", "nom_complet", "civilite", "fonction", "ville", "titulaire",
                       "nom_commercial", "raison_sociale"})
_WORD = re.compile(r"[^\W\d_]+(?:[’'-][^\W\d_]+)*")


@dataclass(frozen=True)
class Found:
    """One problem of a message, with the part of the message it was found in."""

    part: str  # SUBJECT or BODY
    problem: Problem

    def as_dict(self) -> dict[str, Any]:
        return {"part": self.part, **self.problem.as_dict()}


@dataclass(frozen=True)
class Review:
    """What the writing check found in a message (subject and text)."""

    subject: str
    text: str
    found: tuple[Found, ...] = ()

    @property
    def spelling(self) -> list[Found]:
        return [f for f in self.found if f.problem.kind == "orthographe"]

    @property
    def has_spelling(self) -> bool:
        return bool(self.spelling)

    def of(self, part: str) -> list[Problem]:
        return [f.problem for f in self.found if f.part == part]

    def recorded(self) -> list[dict[str, Any]]:
        """The problems as an event records them (at most :data:`MAX_RECORDED`)."""
        return [f.as_dict() for f in self.found[:MAX_RECORDED]]

    def digest(self) -> str:
        return digest(self.subject, self.text)

    def subject_html(self) -> SafeString:
        return marked(self.subject, self.of(SUBJECT))

    def text_html(self) -> SafeString:
        return marked(self.text, self.of(BODY))

    def segments(self) -> list[dict[str, str]]:
        """The text cut at its problems, for the editor's script (no HTML built in the browser)."""
        return _segments(self.text, self.of(BODY))

    def subject_segments(self) -> list[dict[str, str]]:
        return _segments(self.subject, self.of(SUBJECT))

    def items(self) -> list[dict[str, Any]]:
        """The problems as the pages list them."""
        return [{"part": f.part, "text": f.problem.text, "kind": f.problem.kind, "message": f.problem.message,
                 "suggestions": list(f.problem.suggestions)} for f in self.found]


class WritingToConfirm(InvalidInput):
    """A text with a spelling mistake that a person did not confirm: nothing was saved; the
    page shows the problems (``review``) and asks « Enregistrer malgré les fautes signalées »."""

    def __init__(self, found: Review) -> None:
        n = len(found.spelling)
        super().__init__(f"{n} faute{'s' if n > 1 else ''} d’orthographe signalée{'s' if n > 1 else ''} : "
                         "corrigez le texte ou confirmez l’enregistrement malgré les fautes")
        self.review = found


def digest(subject: str, text: str) -> str:
    """The digest of a message's subject and text: what a person acknowledged."""
    return hashlib.sha256(f"{subject}\n\n{text}".encode()).hexdigest()


def words_of(values: Iterable[str]) -> set[str]:
    return {w for value in values if value for w in _WORD.findall(value)}


def context_names(context: Mapping[str, Any]) -> set[str]:
    """The words of the names a rendered message was filled with (its variables)."""
    found: list[str] = []

    def walk(node: Any, depth: int) -> None:
        if depth > 3:
            return
        if isinstance(node, Mapping):
            for key, value in node.items():
                if isinstance(value, str) and key in NAME_KEYS:
                    found.append(value)
                else:
                    walk(value, depth + 1)
        elif isinstance(node, list | tuple):
            for value in node:
                walk(value, depth + 1)

    walk(context, 0)
    return words_of(found)


def customer_names(customer: Customer | None) -> set[str]:
    """The words of the customer's and its contacts' names (prefetched contacts are used)."""
    if customer is None:
        return set()
    values = [customer.legal_name, customer.city]
    for contact in customer.contacts.all():
        values += [contact.civility, contact.first_name, contact.last_name, contact.role]
    return words_of(values)


def organisation_names(organisation: Organisation) -> set[str]:
    return words_of([organisation.legal_name, organisation.sender_name, organisation.signature_name,
                     organisation.signature_title, organisation.city])


def review(organisation: Organisation, subject: str, text: str, language: str = "fr", *,
           extra_words: Iterable[str] = ()) -> Review:
    """Check a message's subject and text (plain text)."""
    from relance.writing import check_text  # the dictionary is loaded on first use, not at import

    words = set(extra_words) | organisation_names(organisation)
    found = [Found(SUBJECT, p) for p in check_text(subject, language=language, organisation=organisation,
                                                   extra_words=words)]
    found += [Found(BODY, p) for p in check_text(text, language=language, organisation=organisation,
                                                 extra_words=words)]
    return Review(subject, text, tuple(found))


def _spans(text: str, problems: Sequence[Problem]) -> list[tuple[int, int, Problem | None]]:
    """``text`` cut into (start, end, problem or None) pieces; overlapping problems: the first wins."""
    pieces: list[tuple[int, int, Problem | None]] = []
    at = 0
    for p in sorted(problems, key=lambda p: (p.offset, -p.length)):
        start, end = max(p.offset, 0), min(p.offset + max(p.length, 0), len(text))
        if start < at or end <= start:
            continue
        if start > at:
            pieces.append((at, start, None))
        pieces.append((start, end, p))
        at = end
    if at < len(text):
        pieces.append((at, len(text), None))
    return pieces


def _title(p: Problem) -> str:
    if p.suggestions:
        return f"{p.message} ({', '.join(p.suggestions[:3])})"
    return p.message


def marked(text: str, problems: Sequence[Problem]) -> SafeString:
    """``text`` escaped, each problem's span in a ``<mark class="writing-KIND" title="message">``."""
    out: list[str] = []
    for start, end, p in _spans(text, problems):
        piece = escape(text[start:end])
        if p is None:
            out.append(piece)
        else:
            out.append(f'<mark class="writing-{escape(p.kind)}" title="{escape(_title(p))}">{piece}</mark>')
    return mark_safe("".join(out))  # every piece escaped above


def _segments(text: str, problems: Sequence[Problem]) -> list[dict[str, str]]:
    return [{"text": text[start:end]} if p is None
            else {"text": text[start:end], "kind": p.kind, "title": _title(p)}
            for start, end, p in _spans(text, problems)]


def acknowledged(reminder: Any, text_sha256: str) -> bool:
    """Whether a person acknowledged the mistakes of this very text of ``reminder`` (an edited
    one): saved it confirming « malgré les fautes signalées » (``reminder.edited`` with
    ``writing_confirmed``), or approved it again after the dispatcher held it (a hold clears
    the approval; ``reminder.held_for_writing`` of the same digest, and approved since)."""
    from relance.events import kinds
    from relance.events.models import Event

    rows = Event.objects.filter(organisation_id=reminder.organisation_id, reminder_id_ref=reminder.pk,
                                kind__in=[kinds.REMINDER_EDITED, kinds.REMINDER_HELD_FOR_WRITING]).values_list(
        "kind", "data")
    for kind, data in rows:
        if not isinstance(data, dict) or data.get("text_sha256") != text_sha256:
            continue
        if kind == kinds.REMINDER_EDITED and data.get("writing_confirmed"):
            return True
        if kind == kinds.REMINDER_HELD_FOR_WRITING and reminder.approved_at is not None:
            return True
    return False


def safe_review(organisation: Organisation, subject: str, text: str, language: str = "fr", *,
                extra_words: Iterable[str] = ()) -> Review | None:
    """:func:`review`, or ``None`` (logged) when the checker itself fails: a page still shows,
    a message is not held by a checker that could not read it."""
    try:
        return review(organisation, subject, text, language, extra_words=extra_words)
    except Exception:
        logger.exception("vérification d’écriture impossible")
        return None
