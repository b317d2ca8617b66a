"""Classify a customer's reply to a reminder — rules, not a model, so each answer comes with the
words that decided it.

Order of the decision (the traps of the corpus):

1. An automatic reply (``auto_submitted``, or an out-of-office wording) is ``absence``, whatever
   else it says: an automatic reply is not a contact, and « en cas d'urgence contactez… » is not
   a change of contact.
2. Otherwise each category adds the weights of its patterns; the highest score wins.
3. ``litige`` wins over ``promesse``, ``echeancier`` and ``deja_paye`` only when the amount, the
   quality or the delivery is contested (a contest pattern of weight ≥ 2): « je vous paierai le
   15 mais la livraison était incomplète » is a dispute, whereas « vos relances sont pénibles, je
   vous règle vendredi » is a promise (anger is not a contest).
4. A payment word followed by a past date (« réglé le 3/12 », « notre paiement du 27/11 ») counts
   for ``deja_paye``. ``echeancier`` wins over ``promesse`` when instalments or more time are asked (a date often
   comes with them); ``deja_paye`` wins over ``promesse`` when the payment is told in the past.
5. A promise whose only date is past, or without a committing verb, is not a promise.
   Nothing above a threshold: ``autre``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from .dates import FoundDate, find_dates
from .rules import (
    ABSENCE,
    AUTRE,
    CATEGORIES,
    DEJA_PAYE,
    ECHEANCIER,
    LITIGE,
    MAUVAIS_CONTACT,
    NON_RECU,
    PROMESSE,
    RULES,
)
from .text import Folded, fold, own_words

THRESHOLD = 2.0
#: a reply's own words longer than this are not read further (a pasted document, not an answer)
MAX_OWN_CHARS = 20_000
_REPLY_PREFIX = re.compile(r"^\s*(?:(?:re|tr|fw|fwd|aw|wg|rep)\s*:\s*)+", re.I)
_AUTO_SUBJECT = re.compile(r"(?:r[ée]ponse automatique|automatic reply|auto(?:matic)?[- ]?reply|"
                           r"out of (?:the )?office|absen(?:t|ce)|cong[ée]s|vacances)", re.I)
_RETURN_CUE = re.compile(r"(?:retour|reviens|reviendrai|jusqu'(?:au|a)|back|return|until|reprendrai|"
                         r"absente? du [^.\n]{0,40} au|du [^.\n]{0,30} au)")
_BACK_CUE = re.compile(r"(?:de retour|retour (?:prevu |au bureau )?(?:le|lundi|mardi|mercredi|jeudi|vendredi)|"
                       r"reouverture|reprise (?:le|lundi)|back (?:on|in the office on)|return(?:ing)? on)[^.\n]{0,25}$")
_PAID_ON = re.compile(r"\b(?:regl|pay|paie|vir|paiement|reglement|cheque|preleve)\w*\s(?:[^.\n\d]{0,25}\s)?"
                      r"(?:le|du|en date du|on|dated)?\s*$")
_ENGLISH = re.compile(r"\b(?:the|and|will|invoice|we|you|please|payment|thank|regards)\b")


@dataclass(frozen=True)
class Classification:
    category: str
    confidence: float
    evidence: tuple[str, ...] = ()
    promised_date: date | None = None
    return_date: date | None = None
    scores: dict[str, float] = field(default_factory=dict, compare=False)
    language: str = "fr"

    def as_dict(self) -> dict[str, object]:
        return {"category": self.category,
                "promised_date": self.promised_date.isoformat() if self.promised_date else None,
                "return_date": self.return_date.isoformat() if self.return_date else None,
                "confidence": self.confidence, "evidence": list(self.evidence)}


@dataclass
class _Hits:
    score: float = 0.0
    strong: float = 0.0
    spans: list[tuple[int, int]] = field(default_factory=list)


def _score(folded: str) -> dict[str, _Hits]:
    hits = {category: _Hits() for category in RULES}
    for category, rules in RULES.items():
        for pattern, weight in rules:
            found = list(pattern.finditer(folded))
            if not found:
                continue
            hits[category].score += weight
            hits[category].strong = max(hits[category].strong, weight)
            hits[category].spans.extend((m.start(), m.end()) for m in found[:2])
    return hits


def _return(dates: list[FoundDate], folded: str) -> FoundDate | None:
    """The date announced as a return: the day back when the message says it (« de retour le »,
    « réouverture le », « back on »), else the last day away (« jusqu'au », « until »)."""
    for cue in (_BACK_CUE, _RETURN_CUE):
        for found in dates:
            if cue.search(folded[max(0, found.start - 60):found.start]):
                return found
    return None


def _near(dates: list[FoundDate], spans: list[tuple[int, int]]) -> FoundDate | None:
    """The date read closest after a deciding pattern (else the first one)."""
    if not dates:
        return None
    starts = sorted(start for start, _ in spans)
    for start in starts:
        after = [d for d in dates if d.start >= start]
        if after and after[0].start - start < 200:
            return after[0]
    return dates[0]


def _evidence(folded: Folded, spans: list[tuple[int, int]], date_found: FoundDate | None) -> tuple[str, ...]:
    quoted: list[str] = []
    merged: list[list[int]] = []
    for start, end in sorted(set(spans + ([(date_found.start, date_found.end)] if date_found else []))):
        if merged and start <= merged[-1][1]:  # overlapping words are quoted once
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    for start, end in merged:
        words = folded.quote(start, end)
        if words and words not in quoted:
            quoted.append(words)
    return tuple(quoted[:6])


def classify(text: str, *, received_on: date, subject: str = "", auto_submitted: bool = False,
             language: str | None = None) -> Classification:
    """The category of a reply (one of :data:`CATEGORIES`), the words that decided, a confidence
    in [0, 1], and the promised or return date (never before ``received_on``). The patterns of
    both languages always apply (a French reply says « out of office » too); ``language``, or the
    one guessed, is only recorded on the result."""
    body = own_words(text)[:MAX_OWN_CHARS]
    own_subject = "" if _REPLY_PREFIX.match(subject or "") else (subject or "")
    folded = fold(f"{own_subject}\n{body}" if own_subject else body)
    lang = language or ("en" if len(_ENGLISH.findall(folded.text)) >= 3 else "fr")
    hits = _score(folded.text)
    every_date = find_dates(folded.text, received_on)
    dates = [d for d in every_date if d.value >= received_on]
    auto_subject = bool(_AUTO_SUBJECT.search(subject or ""))
    absence = hits[ABSENCE]
    if auto_submitted or auto_subject:
        absence.score += 3
    scores = {c: round(h.score, 2) for c, h in hits.items()}

    def result(category: str, confidence: float, when: FoundDate | None = None, *,
               promised: bool = False) -> Classification:
        spans = hits[category].spans if category in hits else []
        return Classification(
            category, round(max(0.0, min(1.0, confidence)), 2), _evidence(folded, spans, when),
            promised_date=when.value if (promised and when) else None,
            return_date=when.value if (category == ABSENCE and when) else None,
            scores=scores, language=lang)

    when = _return(dates, folded.text) if absence.score >= THRESHOLD else None
    automatic = auto_submitted or auto_subject
    person_promises = not automatic and hits[PROMESSE].strong >= 3  # « je m'occupe du règlement à mon retour »
    if not person_promises and (absence.score >= 3 or (absence.score >= THRESHOLD and (automatic or when))):
        return result(ABSENCE, 0.6 + 0.1 * min(absence.score, 4), when)

    told_in_past = False
    for past in (d for d in every_date if d.value < received_on):
        paid = _PAID_ON.search(folded.text[max(0, past.start - 45):past.start])
        if paid:  # « réglé le 3/12 », « notre paiement du 27/11 »: a payment told with a past date
            start = max(0, past.start - 45) + paid.start()
            hits[DEJA_PAYE].score += 2.5
            hits[DEJA_PAYE].strong = max(hits[DEJA_PAYE].strong, 2.5)
            hits[DEJA_PAYE].spans.append((start, past.end))
            told_in_past = True
            break
    candidates = {c: h for c, h in hits.items() if c != ABSENCE}
    promise = hits[PROMESSE]
    if promise.score >= 1 and dates and promise.strong >= 2.5:
        promise.score += 1  # a committing verb with a date to come
    if hits[LITIGE].strong >= 2 and hits[LITIGE].score >= 2.5:
        for other in (PROMESSE, ECHEANCIER, DEJA_PAYE):
            candidates[other].score = min(candidates[other].score, hits[LITIGE].score - 0.1)
    # « payé en deux fois, le 10 octobre et le 10 novembre »: a payment told in the past, not a plan asked for
    if (told_in_past or any(d.value < received_on for d in every_date)) and hits[DEJA_PAYE].strong >= 3:
        hits[ECHEANCIER].score = min(hits[ECHEANCIER].score, hits[DEJA_PAYE].score - 0.1)
    if hits[ECHEANCIER].strong >= 2.5:
        promise.score = min(promise.score, hits[ECHEANCIER].score - 0.1)
    if hits[DEJA_PAYE].strong >= 2.5 and promise.strong < 3:
        promise.score = min(promise.score, hits[DEJA_PAYE].score - 0.1)
    if promise.strong < 2.5:
        promise.score = min(promise.score, 1.5)
    if hits[NON_RECU].strong >= 3 and hits[LITIGE].strong < 3:
        hits[LITIGE].score = min(hits[LITIGE].score, hits[NON_RECU].score - 0.1)
    ordered = sorted(candidates.items(), key=lambda kv: (-kv[1].score, CATEGORIES.index(kv[0])))
    (best, top), (_, second) = ordered[0], ordered[1]
    if top.score < THRESHOLD:
        return Classification(AUTRE, round(0.9 - 0.2 * top.score, 2), (), scores=scores, language=lang)
    confidence = 0.5 + 0.5 * (top.score - max(second.score, 0)) / top.score
    confidence = confidence * min(1.0, 0.6 + top.score / 10)
    if best in (PROMESSE, ECHEANCIER):
        when = _near(dates, top.spans)
        return result(best, confidence, when, promised=True)
    return result(best, confidence)


__all__ = [
    "ABSENCE",
    "AUTRE",
    "CATEGORIES",
    "DEJA_PAYE",
    "ECHEANCIER",
    "LITIGE",
    "MAUVAIS_CONTACT",
    "NON_RECU",
    "PROMESSE",
    "Classification",
    "classify",
]
