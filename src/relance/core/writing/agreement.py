"""Agreement slips of collection letters — a small rule set, not a grammar engine.

It follows, in each clause, the noun the letter is about (« la facture », « vos factures », « le
montant ») and checks against its gender and number: the participles and adjectives of the trade
(« impayé », « réglé », « échu », « dû »…) and the verbs that follow it (« reste », « demeure »,
« est »…); a determiner against its noun (« vos facture »); and a few fixed phrases (« quelque
soit », « je vous pris », « a compter de »). With a dictionary (``is_word``), any participle in « -é »
whose infinitive in « -er » exists is followed the same way, and ``_verb_forms`` checks the « -é / -er /
-ez » confusions and « avoir » + participle in its two plain cases: no object before it (invariable),
or a relative « que » right after a known noun (agreed with that noun). A noun the rules do not know
(« la mention ») stops the checks of its clause rather than letting another noun be taken for it."""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from dataclasses import dataclass

from .problem import Problem, problem_at
from .tokens import Tokens

# (gender, number): "f"/"m", "s"/"p"
NOUNS: dict[str, tuple[str, str]] = {}
for _noun in ("facture", "somme", "relance", "échéance", "créance", "dette", "pénalité", "indemnité", "lettre",
              "mensualité", "commande", "prestation", "livraison", "demande", "situation", "régularisation",
              "procédure", "mise", "date", "solution", "proposition", "réclamation", "pièce", "preuve", "copie",
              "remise", "réception", "mention", "clause", "condition"):
    NOUNS[_noun] = ("f", "s")
    NOUNS[_noun + "s"] = ("f", "p")
for _noun in ("montant", "paiement", "règlement", "solde", "virement", "chèque", "acompte", "courrier", "reliquat",
              "intérêt", "frais", "retard", "principal", "total", "prélèvement", "versement", "dossier", "délai",
              "échéancier", "contrat", "document", "plan", "dépôt",
              "recouvrement", "justificatif", "report"):
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
for _stem in ("prévu", "perçu", "obtenu", "convenu", "rendu", "retenu", "vendu", "venu"):
    _FORMS[_stem] = (_stem, _stem + "e", _stem + "s", _stem + "es")
_FORMS["émis"] = ("émis", "émise", "émis", "émises")
_FORMS["exigible"] = ("exigible", "exigible", "exigibles", "exigibles")
_SLOTS = {("m", "s"): 0, ("f", "s"): 1, ("m", "p"): 2, ("f", "p"): 3}
PARTICIPLES: dict[str, tuple[str, set[tuple[str, str]]]] = {}
for _stem, _four in _FORMS.items():
    for _slot, _form in zip(_SLOTS, _four, strict=True):
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
                  "restera": "resteront", "semble": "semblent", "a": "ont", "doit": "doivent", "peut": "peuvent",
                  "devra": "devront", "pourra": "pourront"}
VERBS_PLURAL = {plural: singular for singular, plural in VERBS_SINGULAR.items()}
AVOIR = {"ai", "as", "a", "avons", "avez", "ont", "avait", "avions", "aviez", "avaient", "aurons", "aurez", "auront",
         "aura", "avoir", "ayant"}
PREPOSITIONS = {"de", "du", "d’", "sur", "par", "pour", "avec", "sans", "en", "à", "au", "aux", "dans", "chez", "selon",
                "sous", "après", "avant", "depuis", "entre", "pendant", "dès", "envers", "contre", "via", "hors"}
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


@dataclass(frozen=True)
class _Head:
    gender: str
    number: str


UNKNOWN = _Head("?", "?")  # a noun the rules do not know (« la mention »): nothing is checked against it
#: subject pronouns that end the reign of the noun before them
SUBJECT_PRONOUNS = {"il", "elle", "on", "ils", "elles", "cela", "ceci", "je", "j’", "tu", "chacune", "chacun", "aucune",
                    "aucun", "rien", "celle", "celui", "celles", "ceux"}
#: what may stand between a noun and its determiner without being the noun (« la présente facture »)
NOT_NOUNS = {"présente", "présent", "dernière", "dernier", "première", "premier", "seconde", "second", "même",
             "nouvelle", "nouveau", "nouvel", "totalité", "intégralité", "ensemble"}


def participle(word: str, is_word: Callable[[str], bool] | None = None) -> tuple[str, set[tuple[str, str]]] | None:
    """The participle or adjective ``word`` is (its masculine singular, the genders and numbers it fits):
    the words of the trade, and with a dictionary any participle in « -é » of a verb in « -er » whose
    infinitive exists (« calculées » → « calculer »), a noun in « -ité » or « -té » never being one."""
    if word in PARTICIPLES:
        return PARTICIPLES[word]
    if is_word is None or word in NOUNS or len(word) < 4:
        return None
    for ending, slot in (("ées", ("f", "p")), ("és", ("m", "p")), ("ée", ("f", "s")), ("é", ("m", "s"))):
        if word.endswith(ending):
            stem = word[:len(word) - len(ending)] + "é"
            if len(stem) >= 4 and is_word(stem[:-1] + "er") and is_word(word):
                return stem, {slot}
            return None
    return None


def _forms(stem: str) -> tuple[str, str, str, str]:
    return _FORMS.get(stem, (stem, stem + "e", stem + "s", stem + "es"))


def agreement(tokens: Tokens, is_word: Callable[[str], bool] | None = None) -> list[Problem]:
    """The agreement slips of the text. ``is_word`` (the dictionary) lets the rules know participles
    beyond the words of the trade, and infinitives (« réglé » → « régler »)."""
    text = tokens.text
    found: list[Problem] = []
    words = _split(tokens)
    head: _Head | None = None
    last_noun: _Head | None = None
    alternative: _Head | None = None
    tentative = -2
    verbs_checked = True  # until a « que » changes the subject
    coordinating = False
    verb_seen = False
    previous = ""
    for index, (word, start, end) in enumerate(words):
        gap = text[words[index - 1][2]:start] if index else ""
        if any(c in gap for c in ".;:!?\n\t") or "{%" in gap or "   " in gap:  # a template's branch, a table cell
            head, last_noun, verbs_checked, coordinating, verb_seen, previous = None, None, True, False, False, ""
            alternative = None
        if gap.strip(" \t\u00a0\u202f,’'-"):
            previous = "#"  # a domain token in between (« la facture du 15/09/2026 demeure »): not adjacent
        determiner = DETERMINERS.get(previous) if previous else None
        found_participle = participle(word, is_word) if word not in NOUNS else None
        if (determiner is not None or previous in ("du", "au", "aux")) and word not in NOUNS \
                and found_participle is None and word not in DETERMINERS and word not in ADVERBS \
                and word not in NOT_NOUNS and word not in PRONOUNS:
            # « la mention », « le délai de paiement » : a noun the rules do not know
            if previous not in PREPOSITIONS and not (previous in DETERMINERS and index >= 2
                                                     and words[index - 2][0] in PREPOSITIONS):
                if head is None or determiner is not None:
                    head, tentative, verbs_checked = UNKNOWN, index, True
            last_noun, alternative = UNKNOWN, None
        if word in SUBJECT_PRONOUNS:
            head, verbs_checked = None, False
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
            elif not complement and (determiner is not None or head is None or tentative == index - 1):
                head = noun
                verbs_checked = True
            # « les frais de recouvrement engagés »: after a bare « de », either noun may be meant
            alternative = last_noun if previous == "de" and last_noun is not None else None
            last_noun = noun
        elif found_participle is not None and previous not in AVOIR and (
                _after(words, index, NOUNS) or not _before_noun(words, index)
                or (_after(words, index, COPULAS) and head is not None and index + 1 < len(words)
                    and words[index + 1][0] in DETERMINERS)) and (
                word in PARTICIPLES or _after(words, index, NOUNS) or _after(words, index, COPULAS)):
            stem, slots = found_participle
            if _after(words, index, COPULAS):  # « la facture reste impayée »: the subject
                targets = [head]
            elif _after(words, index, NOUNS) and alternative is not None and last_noun is not None \
                    and last_noun.number == "s":  # « les frais de recouvrement engagés »: « de » + a bare
                targets = [alternative]  # singular noun names a kind, the participle goes with the first
            elif _after(words, index, NOUNS):  # « les factures échues »: the noun just before
                targets = [last_noun, alternative]
            else:  # « le règlement des factures suivantes, arrivées à échéance »: either may be meant
                targets = [head, last_noun]
            target = next((t for t in targets if t is not None), None)
            if target is not None and UNKNOWN not in targets and all(
                    t is None or (t.gender, t.number) not in slots for t in targets):
                right = _forms(stem)[_SLOTS[(target.gender, target.number)]]
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
        elif previous in ("s’", "se") and head is not None and head is not UNKNOWN and is_word is not None and (
                verbs_checked or _only_pronouns_since_que(words, index)) and not tokens.in_domain(start, end):
            # « les montants que vous nous devez s’élèvent » : a pronominal verb against the subject
            if head.number == "p" and word.endswith("e") and is_word(word + "nt") and is_word(word):
                found.append(problem_at(text, start, end, "grammaire",
                                        f"accord du verbe : le sujet est au pluriel (« {word}nt »)", (word + "nt",)))
            elif head.number == "s" and word.endswith("ent") and is_word(word[:-2]) and is_word(word):
                found.append(problem_at(text, start, end, "grammaire",
                                        f"accord du verbe : le sujet est au singulier (« {word[:-2]} »)",
                                        (word[:-2],)))
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
    fixed: list[Problem] = []
    for pattern, why, fix in _FIXED:
        for m in pattern.finditer(text):
            if not tokens.in_domain(m.start(), m.end()):
                fixed.append(problem_at(text, m.start(), m.end(), "grammaire", why, (fix,) if fix else ()))
    found += fixed
    if is_word is not None:  # the same slip found twice: the fixed phrase says it
        found += [p for p in _verb_forms(tokens, words, is_word)
                  if not any(f.offset <= p.offset < f.offset + f.length for f in fixed)]
    return found


PRONOUNS = {"nous", "vous", "lui", "leur", "en", "y", "le", "la", "les", "l’", "me", "m’", "se", "s’", "il", "elle",
            "ils", "elles", "on", "moi", "toi", "eux"}
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


#: what an infinitive follows: « bien vouloir régler », « merci de régler », « pouvez-vous retourner »
INFINITIVE_AFTER = {"vouloir", "veuillez", "voudriez", "voulez", "pouvez", "pourriez", "pourrez", "pouvons",
                    "pourrons", "devez", "devrez", "devriez", "devons", "devrons", "doit", "doivent", "devra",
                    "devront", "pouvez-vous", "pourriez-vous", "voudriez-vous", "faut", "souhaitons", "merci",
                    "afin", "pour", "sans", "de", "d’"}
#: object pronouns that may stand between (« de nous retourner », « de bien vouloir nous le faire »)
_OBJECTS = {"nous", "vous", "le", "la", "les", "l’", "lui", "leur", "en", "y", "me", "m’", "se", "s’"}
#: nouns in « -é » that a preposition may introduce (« de côté », « de marché »)
_NOT_PARTICIPLES = {"côté", "été", "marché", "procédé", "gré", "congé", "degré", "passé", "résumé", "employé",
                    "associé", "salarié", "délégué", "allié", "chez", "nez", "assez", "rez"}
#: the verbs after which a noun may be followed by an infinitive (« laisser la dette s’alourdir »)
_PERCEPTION = {"voir", "voyons", "voyez", "vu", "laisser", "laissez", "laissons", "laissé", "faire", "faites",
               "ferons", "fait", "entendre", "regarder", "sentir", "regardez", "empêcher"}
#: nouns a participle in « -é » often follows: « l’échéancier signé », « le document complété »
_DOCUMENTS = set(NOUNS) | {"échéancier", "formulaire", "exemplaire", "mandat", "bordereau", "avenant", "coupon",
                           "attestation", "accusé", "récépissé", "protocole", "bon", "original", "chèque"}
_ARTICLES = {"le", "la", "les", "l’"}
#: the agreed forms of the participles of the trade not in « -é » (« reçus » → « reçu »)
_TRADE_AGREED = {form: stem for stem, four in _FORMS.items() if not stem.endswith("é") and stem != "exigible"
                 for form in four[1:] if form != stem}
_PERSON_AVOIR = {"ai": {"j’", "je"}, "avons": {"nous"}, "avez": {"vous"}, "a": {"il", "elle", "on"},
                 "ont": {"ils", "elles"}}


def _verb_forms(tokens: Tokens, words: list[tuple[str, int, int]], is_word: Callable[[str], bool]) -> list[Problem]:
    """The « -é / -er / -ez » confusions and the forms of a verb against its subject, with the dictionary:

    - a participle or a verb in « -ez » where an infinitive is required: after « vouloir », « veuillez »,
      « pouvez », « devez », « merci de », « afin de », « pour », « sans », « de », object pronouns apart
      (« bien vouloir réglé », « merci de nous retournez ») — when the infinitive exists (« régler »);
    - an infinitive right after a noun of the trade where the participle is meant (« retourner l’échéancier
      signer » → « signé »), unless a verb like « laisser » or « voir » governs it;
    - after « avoir » with its subject right before, a participle in the plural or feminine when no direct
      object comes before it (« vous n’avez pas donnés suite » → « donné »);
    - « vous » followed by a verb of « tu » in « -ras » (« vous conviendras » → « conviendra »)."""
    text = tokens.text
    found: list[Problem] = []
    for index, (word, start, end) in enumerate(words):
        before = [w for w, _, _ in words[max(0, index - 4):index]]
        gap = text[words[index - 1][2]:start] if index else ""
        if any(c in gap for c in ".;:!?\n«»\"(") or tokens.in_domain(start, end):
            continue
        # 1. after what requires an infinitive
        j = index - 1
        while j >= 0 and words[j][0] in _OBJECTS | {"bien"} and index - j <= 3:
            j -= 1
        trigger = words[j][0] if j >= 0 else ""
        if trigger in ("de", "d’", "pour", "sans") and any(words[k][0] in _ARTICLES for k in range(j + 1, index)):
            trigger = ""  # « de l’employé »: an article, not a pronoun
        if j >= 0 and re.sub(r"[\w’'-]", "", text[words[j][2]:start]).strip():
            trigger = ""  # something else in between (« de {{ montant }}, arrivée »)
        if trigger in INFINITIVE_AFTER and word not in _NOT_PARTICIPLES and (
                trigger not in ("de", "d’", "pour", "sans") or j == index - 1 or words[j + 1][0] in _OBJECTS):
            infinitive = _infinitive(word, is_word)
            if infinitive and not (trigger in ("de", "d’") and word.endswith("é") and j >= 1
                                   and words[j - 1][0] not in ("merci", "afin", "prions", "demandons",
                                                               "remercions", "vouloir", "invitons")
                                   and not _after_verb_of_asking(words, j)):
                found.append(problem_at(text, start, end, "grammaire",
                                        f"ici l’infinitif : « {infinitive} », pas « {word} »", (infinitive,)))
                continue
        # 2. an infinitive after a noun: « retourner l’échéancier signer »
        if index >= 2 and word.endswith("er") and words[index - 1][0] in _DOCUMENTS \
                and words[index - 2][0] in DETERMINERS and not (set(before) & _PERCEPTION) \
                and not text[words[index - 1][2]:start].strip():
            participle_form = word[:-2] + "é"
            if is_word(word) and is_word(participle_form) and word not in NOUNS:
                noun = NOUNS.get(words[index - 1][0], ("m", "s"))
                right = _forms(participle_form)[_SLOTS[noun]]
                found.append(problem_at(text, start, end, "grammaire",
                                        f"après un nom, le participe passé : « {right} », pas l’infinitif",
                                        (right,)))
                continue
        # 3. avoir + a participle agreeing with nothing before it
        if (word.endswith(("és", "ée", "ées")) or word in _TRADE_AGREED) and len(word) > 2:
            j = index - 1
            while j >= 0 and words[j][0] in ADVERBS:
                j -= 1
            auxiliary = words[j][0] if j >= 0 else ""
            subjects = _PERSON_AVOIR.get(auxiliary)
            if subjects is not None:
                k = j - 1
                while k >= 0 and words[k][0] in ("ne", "n’"):
                    k -= 1
                sentence = _sentence_before(text, words, j)
                if k >= 0 and words[k][0] in subjects and (k == 0 or words[k - 1][0] not in _OBJECTS) \
                        and not sentence & {"que", "qu’", "quel", "quelle", "quels", "quelles", "combien",
                                            "lesquels", "lesquelles", "laquelle"}:
                    stem = _TRADE_AGREED.get(word) or (word[:-1] if word.endswith("és")
                                                         else word[:word.rindex("é") + 1])
                    if stem in _FORMS or (stem.endswith("é") and is_word(stem[:-1] + "er") and is_word(stem)):
                        found.append(problem_at(text, start, end, "grammaire",
                                                f"après « avoir » sans complément d’objet placé avant, le participe "
                                                f"reste invariable : « {stem} »", (stem,)))
                        continue
        # 3b. « les factures que nous vous avons envoyées »: the object placed before governs the participle
        agreed = _after_relative_que(words, index)
        if agreed is not None and not (index + 1 < len(words) and (
                words[index + 1][0] in ("de", "d’", "à") or words[index + 1][0].endswith(("er", "ir", "re")))):
            found_participle = participle(word, is_word)
            if found_participle is not None and agreed not in found_participle[1]:
                right = _forms(found_participle[0])[_SLOTS[agreed]]
                found.append(problem_at(text, start, end, "grammaire",
                                        f"accord : le complément d’objet « que » est placé avant « avoir », "
                                        f"le participe s’accorde avec lui (« {right} »)", (right,)))
                continue
        # 4. « vous » + a verb of « tu »
        if index >= 1 and words[index - 1][0] == "vous" and word.endswith("ras") and len(word) > 5 \
                and is_word(word[:-1]) and not text[words[index - 1][2]:start].strip():
            found.append(problem_at(text, start, end, "grammaire",
                                    f"« {word} » est la forme de « tu » : « {word[:-1]} »", (word[:-1],)))
    return found


def _infinitive(word: str, is_word: Callable[[str], bool]) -> str:
    """The infinitive in « -er » that a participle (« réglé », « réglée ») or a verb in « -ez » stands for."""
    for ending in ("ées", "és", "ée", "é", "ez"):
        if word.endswith(ending) and len(word) > len(ending) + 2:
            infinitive = word[:len(word) - len(ending)] + "er"
            if is_word(infinitive) and is_word(word):
                return infinitive
            return ""
    return ""


def _after_verb_of_asking(words: list[tuple[str, int, int]], j: int) -> bool:
    """Whether the « de » at ``j`` follows a verb that asks for something (« nous vous prions de »), the
    object pronouns apart."""
    k = j - 1
    while k >= 0 and words[k][0] in _OBJECTS:
        k -= 1
    return k >= 0 and words[k][0] in {"prions", "prie", "demandons", "invitons", "remercions", "merci", "afin",
                                      "oubliez", "oublié", "omis", "omettez", "manqué", "tardez", "permettons",
                                      "rappelons", "saurions", "serions", "souhaitons", "chargé", "décidé"}


def _sentence_before(text: str, words: list[tuple[str, int, int]], j: int) -> set[str]:
    """The words of the sentence before the word at ``j``."""
    out: set[str] = set()
    k = j - 1
    while k >= 0:
        out.add(words[k][0])
        if any(c in text[words[k - 1][2]:words[k][1]] for c in ".;:!?\n") if k else True:
            break
        k -= 1
    return out


def _after_relative_que(words: list[tuple[str, int, int]], index: int) -> tuple[str, str] | None:
    """The gender and number of the noun a relative « que » stands for, when the word at ``index`` is the
    participle of « avoir » in that relative clause: noun, « que », pronouns, « avoir », adverbs, the word."""
    j = index - 1
    while j >= 0 and words[j][0] in ADVERBS:
        j -= 1
    if j < 0 or words[j][0] not in _PERSON_AVOIR:
        return None
    k = j - 1
    while k >= 0 and words[k][0] in _OBJECTS | {"ne", "n’", "il", "elle", "on", "ils", "elles", "je", "j’"}:
        k -= 1
    if k < 1 or words[k][0] not in ("que", "qu’") or words[k - 1][0] not in NOUNS:
        return None
    return NOUNS[words[k - 1][0]]


def _only_pronouns_since_que(words: list[tuple[str, int, int]], index: int) -> bool:
    """Whether, since the last « que », only « vous » / « nous » and a verb of theirs came (« que vous nous
    devez »): the subject of the main clause comes back after such a relative clause."""
    k = index - 2
    seen_verb = False
    while k >= 0 and words[k][0] not in ("que", "qu’"):
        w = words[k][0]
        if w.endswith(("ez", "ons")) and w not in ("nous", "vous") and not seen_verb:
            seen_verb = True
        elif w not in ("vous", "nous", "ne", "n’", "pas", "lui", "leur", "en", "y"):
            return False
        k -= 1
    return k >= 1 and seen_verb and words[k - 1][0] in NOUNS
