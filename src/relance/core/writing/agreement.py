"""Agreement slips of collection letters — a small rule set, not a grammar engine.

It follows, in each clause, the noun the letter is about (« la facture », « vos factures », « le
montant ») and checks against its gender and number: the participles and adjectives of the trade
(« impayé », « réglé », « échu », « dû »…) and the verbs that follow it (« reste », « demeure »,
« est »…); a determiner against its noun (« vos facture »); and a few fixed phrases (« quelque
soit », « je vous pris », « a compter de »). A participle after « avoir » is left alone (the rule of
the object placed before is beyond a rule set)."""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

from .problem import Problem, problem_at
from .tokens import Tokens

# (gender, number): "f"/"m", "s"/"p"
NOUNS: dict[str, tuple[str, str]] = {}
for _noun in ("facture", "somme", "relance", "échéance", "créance", "dette", "pénalité", "indemnité", "lettre",
              "mensualité", "commande", "prestation", "livraison", "demande", "situation", "régularisation"):
    NOUNS[_noun] = ("f", "s")
    NOUNS[_noun + "s"] = ("f", "p")
for _noun in ("montant", "paiement", "règlement", "solde", "virement", "chèque", "acompte", "courrier", "reliquat",
              "intérêt", "frais", "retard", "principal", "total", "prélèvement", "versement"):
    NOUNS[_noun] = ("m", "s")
    NOUNS[_noun + "s" if not _noun.endswith("s") else _noun] = ("m", "p")
NOUNS["principaux"] = ("m", "p")
NOUNS["frais"] = ("m", "p")

# participles and adjectives of the trade: the four forms m.s., f.s., m.p., f.p.
_FORMS: dict[str, tuple[str, str, str, str]] = {}
for _stem in ("impayé", "payé", "réglé", "acquitté", "soldé", "envoyé", "adressé", "resté", "demeuré", "honoré",
              "effectué", "mentionné", "indiqué", "arrivé", "annulé", "relancé", "facturé", "encaissé"):
    _FORMS[_stem] = (_stem, _stem + "e", _stem + "s", _stem + "es")
_FORMS["échu"] = ("échu", "échue", "échus", "échues")
_FORMS["reçu"] = ("reçu", "reçue", "reçus", "reçues")
_FORMS["parvenu"] = ("parvenu", "parvenue", "parvenus", "parvenues")
_FORMS["dû"] = ("dû", "due", "dus", "dues")
_FORMS["émis"] = ("émis", "émise", "émis", "émises")
_FORMS["exigible"] = ("exigible", "exigible", "exigibles", "exigibles")
_SLOTS = {("m", "s"): 0, ("f", "s"): 1, ("m", "p"): 2, ("f", "p"): 3}
PARTICIPLES: dict[str, tuple[str, set[tuple[str, str]]]] = {}
for _stem, _forms in _FORMS.items():
    for _slot, _form in zip(_SLOTS, _forms, strict=True):
        PARTICIPLES.setdefault(_form, (_stem, set()))[1].add(_slot)

DETERMINERS: dict[str, tuple[str, str]] = {  # (gender or "", number)
    "la": ("f", "s"), "cette": ("f", "s"), "une": ("f", "s"), "ladite": ("f", "s"),
    "le": ("m", "s"), "ce": ("m", "s"), "cet": ("m", "s"), "un": ("m", "s"), "ledit": ("m", "s"),
    "l’": ("", "s"), "votre": ("", "s"), "notre": ("", "s"), "sa": ("f", "s"), "son": ("", "s"), "leur": ("", "s"),
    "les": ("", "p"), "ces": ("", "p"), "vos": ("", "p"), "nos": ("", "p"), "des": ("", "p"), "leurs": ("", "p"),
    "ses": ("", "p"), "plusieurs": ("", "p"), "lesdites": ("f", "p"), "lesdits": ("m", "p"), "deux": ("", "p"),
    "trois": ("", "p"), "certaines": ("f", "p"), "certains": ("m", "p"),
}
VERBS_SINGULAR = {"reste": "restent", "demeure": "demeurent", "est": "sont", "était": "étaient", "sera": "seront",
                  "restera": "resteront", "semble": "semblent", "a": "ont"}
VERBS_PLURAL = {plural: singular for singular, plural in VERBS_SINGULAR.items()}
AVOIR = {"ai", "as", "a", "avons", "avez", "ont", "avait", "avions", "aviez", "avaient", "aurons", "aurez", "auront",
         "aura", "avoir", "ayant"}
PREPOSITIONS = {"de", "du", "d’", "sur", "par", "pour", "avec", "sans", "en", "à", "au", "aux"}
COMPLEMENT = PREPOSITIONS | {"des"}
#: after these, « des » is an article (« que des pénalités ») rather than « de les » (« le taux des pénalités »)
ARTICLE_DES = {"que", "qu’", "et", "ou", "mais", "car", "si", "a", "ai", "avons", "avez", "ont", "est", "sont", "reste",
               "restent", "voici", "malgré", "#", "nous", "vous"} | set(PREPOSITIONS) | set(DETERMINERS)
#: what links a subject to its attribute: the participle after them agrees with the subject
COPULAS = set(VERBS_SINGULAR) | set(VERBS_PLURAL) | {"été", "être", "resté", "restée", "restés", "restées",
                                                      "rester", "demeurer", "semblent", "paraît", "paraissent"}
_ELISION = re.compile(r"(?i)^(l|d|j|m|n|s|t|c|qu|jusqu|lorsqu|puisqu)['’]")

FIXED: tuple[tuple[str, str, str], ...] = (
    (r"\b[qQ]uelque(?:s)? soi(?:t|ent)\b", "« quel que soit » (ou « quelle que soit ») s’écrit en deux mots",
     "quel que soit"),
    (r"\b(?:je|Je) vous pris\b", "« je vous prie » : verbe prier au présent", "je vous prie"),
    (r"\b(?:nous|Nous) vous prions de bien vouloir agréer\b", "", ""),
    (r"\b[aA] (?=(?:compter|défaut|réception|titre|nouveau|ce jour|cette date|l’attention|régler|payer|savoir)\b)",
     "« à » (préposition) prend un accent grave", "à "),
    (r"\b(?:été|être) (?:régler|payer|envoyer|effectuer|adresser|solder|acquitter|relancer|émettre|recevoir)\b",
     "après « été » ou « être », le participe passé (é), pas l’infinitif (er)", ""),
    (r"\b(?:avons|avez|ont|ai) (?:régler|payer|envoyer|effectuer|adresser|solder|acquitter|relancer|oublier)\b",
     "après l’auxiliaire « avoir », le participe passé (é), pas l’infinitif (er)", ""),
    (r"\b(?:de|pour|sans|à|merci de|afin de) (?:réglé|payé|envoyé|effectué|procédé|contacté|régularisé)\b",
     "après une préposition, l’infinitif (er), pas le participe passé (é)", ""),
)
_FIXED = [(re.compile(p), why, fix) for p, why, fix in FIXED if why]


@dataclass
class _Head:
    gender: str
    number: str


def agreement(tokens: Tokens) -> list[Problem]:
    text = tokens.text
    found: list[Problem] = []
    words = _split(tokens)
    head: _Head | None = None
    last_noun: _Head | None = None
    verbs_checked = True  # until a « que » changes the subject
    coordinating = False
    verb_seen = False
    previous = ""
    for index, (word, start, end) in enumerate(words):
        gap = text[words[index - 1][2]:start] if index else ""
        if any(c in gap for c in ".;:!?\n") or "{%" in gap:  # a template's branch starts a new text
            head, last_noun, verbs_checked, coordinating, verb_seen, previous = None, None, True, False, False, ""
        if gap.strip(" \t\u00a0\u202f,’'-"):
            previous = "#"  # a domain token in between (« la facture du 15/09/2026 demeure »): not adjacent
        determiner = DETERMINERS.get(previous) if previous else None
        if word in NOUNS:
            gender, number = NOUNS[word]
            if determiner and determiner[1] != number and word not in {"frais"}:
                found.append(problem_at(text, words[index - 1][1], end, "grammaire",
                                        f"« {words[index - 1][0]} » et « {word} » : le déterminant et le nom "
                                        "ne s’accordent pas en nombre"))
            noun = _Head(gender, number)
            complement = (previous in PREPOSITIONS
                          or (previous == "des" and index >= 2 and words[index - 2][0] not in ARTICLE_DES)
                          or (previous in DETERMINERS and index >= 2 and words[index - 2][0] in PREPOSITIONS))
            if coordinating and head is not None:
                head = _Head("f" if head.gender == noun.gender == "f" else "m", "p")
                coordinating = False
            elif not complement and (determiner is not None or head is None):
                head = noun
                verbs_checked = True
            last_noun = noun
        elif word in PARTICIPLES and previous not in AVOIR and (
                _after(words, index, NOUNS) or not _before_noun(words, index)):
            stem, slots = PARTICIPLES[word]
            if _after(words, index, COPULAS):  # « la facture reste impayée »: the subject
                targets = [head]
            elif _after(words, index, NOUNS):  # « les factures échues »: the noun just before
                targets = [last_noun]
            else:  # « le règlement des factures suivantes, arrivées à échéance »: either may be meant
                targets = [head, last_noun]
            target = next((t for t in targets if t is not None), None)
            if target is not None and all(t is None or (t.gender, t.number) not in slots for t in targets):
                right = _FORMS[stem][_SLOTS[(target.gender, target.number)]]
                found.append(problem_at(text, start, end, "grammaire",
                                        f"accord : « {word} » se rapporte à un nom "
                                        f"{'féminin' if target.gender == 'f' else 'masculin'} "
                                        f"{'pluriel' if target.number == 'p' else 'singulier'} (« {right} »)",
                                        (right,)))
        elif verbs_checked and head is not None and previous not in DETERMINERS and previous not in COMPLEMENT and (
                word in VERBS_SINGULAR or word in VERBS_PLURAL):
            if head.number == "p" and word in VERBS_SINGULAR:
                found.append(problem_at(text, start, end, "grammaire",
                                        f"accord du verbe : le sujet est au pluriel (« {VERBS_SINGULAR[word]} »)",
                                        (VERBS_SINGULAR[word],)))
            elif head.number == "s" and word in VERBS_PLURAL:
                found.append(problem_at(text, start, end, "grammaire",
                                        f"accord du verbe : le sujet est au singulier (« {VERBS_PLURAL[word]} »)",
                                        (VERBS_PLURAL[word],)))
            verbs_checked = False
        elif word in ("qui",):
            head = last_noun
            verbs_checked = True
        elif word in ("que", "qu’", "dont"):
            head = last_noun
            verbs_checked = False
        elif word in ("et", "ou", "mais", "puis"):
            following = words[index + 1][0] if index + 1 < len(words) else ""
            if verb_seen or head is None or "," in gap:  # « la facture est échue et le montant reste dû »
                head, verbs_checked, verb_seen = None, True, False
            elif following in VERBS_SINGULAR or following in VERBS_PLURAL or following in COPULAS:
                pass  # « vos factures F-1 et F-2 restent »: numbers joined, the subject stands
            elif following in DETERMINERS:  # « la facture et les pénalités restent dues »
                coordinating = True
            else:  # « bénéficiaire, montant et référence sont »: a list the rules do not read
                head = None
        if word in VERBS_SINGULAR or word in VERBS_PLURAL or word in AVOIR or word in COPULAS:
            verb_seen = previous not in DETERMINERS
        previous = word
    for pattern, why, fix in _FIXED:
        for m in pattern.finditer(text):
            if not tokens.in_domain(m.start(), m.end()):
                found.append(problem_at(text, m.start(), m.end(), "grammaire", why, (fix,) if fix else ()))
    return found


ADVERBS = {"aujourd’hui", "toujours", "déjà", "encore", "bien", "pas", "plus", "désormais", "entièrement",
           "partiellement", "intégralement", "totalement", "ne", "n’", "jamais", "enfin", "dûment"}


def _after(words: list[tuple[str, int, int]], index: int, kind: Collection[str]) -> bool:
    """Whether the word follows one of ``kind``, adverbs apart (« factures aujourd’hui réglées »)."""
    i = index - 1
    while i >= 0 and words[i][0] in ADVERBS:
        i -= 1
    return i >= 0 and words[i][0] in kind


def _before_noun(words: list[tuple[str, int, int]], index: int) -> bool:
    """An adjective placed before what it qualifies (« rend exigibles des pénalités »): left alone."""
    return index + 1 < len(words) and (words[index + 1][0] in DETERMINERS or words[index + 1][0] in NOUNS)


def _split(tokens: Tokens) -> list[tuple[str, int, int]]:
    """The words, lower case, with an elided article or pronoun apart: « l’échéance » is « l’ », « échéance »;
    the words between brackets left out (« les pénalités (articles L441-10…) et l’indemnité sont dues »)."""
    out = []
    depth, position = 0, 0
    for w in tokens.words:
        between = tokens.text[position:w.start]
        position = w.end
        depth = max(0, depth + between.count("(") - between.count(")"))
        if depth:
            continue
        text = w.text.replace("'", "’")
        m = _ELISION.match(text)
        if m:
            out.append((m.group().lower(), w.start, w.start + m.end()))
            out.append((text[m.end():].lower(), w.start + m.end(), w.end))
        else:
            out.append((text.lower(), w.start, w.end))
    return out
