"""Tone: what a French accountant would not sign. Shouting (words or sentences in capitals, except
acronyms), several « ! », and the words of a threat. A reminder or a formal notice states facts and
the legal consequence of not paying (interest, the indemnity, the court); it must not threaten,
insult or pressure: a creditor who does may commit a pratique commerciale agressive towards a
consumer (C. consom. L121-6 and L121-7), and a collection agency must not mislead on the
consequences of not paying (CPCE R124-4)."""

from __future__ import annotations

import re

from .problem import Problem, problem_at
from .tokens import Tokens

#: capitals that are not shouting: acronyms of the trade, legal forms, roman numerals (L441-10 II)
ACRONYMS = frozenset("""
TVA TTC HT IBAN BIC RIB SEPA SIREN SIRET RCS APE NAF LRAR AR RAR BCE CGV CGU PDF RF EUR SAS SASU SARL EURL SA SCI
SNC SCOP SCP SELARL EI EIRL GIE PME TPE ETI URSSAF DGFIP FICP CNIL CPCE CMF JO JORF TJ TGI TC CA CE UE FR CB QR
OK SMS PS NB HTML URL CEO DAF RH BTP TP SAV CNAM CPAM CCI CMA INSEE BNP LCL CIC HSBC BPI ID USD GBP CHF VAT EU UK
USA LLC LTD PLC ECB INC CO II III IV VI VII VIII IX XI XII
""".split())

# Each entry: the pattern, and why a formal notice must not say it.
THREATS: tuple[tuple[str, str], ...] = (
    (r"\bmena(?:ce|ces|cer|çons|cez|çant)\b",
     "menacer n’est pas mettre en demeure : énoncez la conséquence légale (intérêts, indemnité, juge)"),
    (r"\bpoursuites? pénales?\b|\b(?:porter|porterons|déposer|déposerons|dépôt de) plainte\b|\bau pénal\b",
     "un impayé est une affaire civile : annoncer des poursuites pénales est faux et intimidant"),
    (r"\b(?:prison|emprisonnement|casier judiciaire|gendarmerie|commissariat)\b",
     "menace pénale sans fondement pour une dette civile"),
    (r"\bfich(?:er|é|ée|és|ées|erons|erez)\b|\bfichier\b|\bliste noire\b",
     "aucun créancier ne peut « ficher » un débiteur (pas de fichier privé des mauvais payeurs, CNIL)"),
    (r"\binscri(?:re|rons|t|te|ption) (?:au|dans un|sur un|sur le) fichier\b",
     "aucun créancier ne peut inscrire un débiteur à un fichier (le FICP relève de la Banque de France)"),
    (r"\binterdit(?:e|s)? bancaires?\b|\binterdiction bancaire\b",
     "l’interdiction bancaire ne dépend pas du créancier : menace trompeuse"),
    (r"\bsaisi(?:r|rons|e|es) (?:de )?(?:vos|tous vos|votre|vos) (?:biens|meubles|comptes?|salaires?|véhicules?)\b"
     r"|\bsaisie immédiate\b",
     "une saisie demande un titre exécutoire et un commissaire de justice (CPCE L111-2) : ne l’annoncez pas"),
    (r"\b(?:dernier|ultime) avertissement\b",
     "ton d’ultimatum : la mise en demeure suffit et se nomme ainsi"),
    (r"\bhuissiers?\b",
     "« huissier » : le terme est « commissaire de justice » depuis le 1er juillet 2022 (ordonnance 2016-728), "
     "et son passage ne s’annonce pas comme une menace"),
    (r"\bmauvais payeurs?\b|\bescro(?:c|cs|querie)\b|\bvoleurs?\b|\bmalhonnêtes?\b",
     "mot blessant ou accusation : un courrier de recouvrement reste courtois (injure, diffamation)"),
    (r"\bvotre (?:employeur|banquier|famille|entourage)\b|\bvos (?:voisins|proches)\b",
     "révéler la dette à des tiers ou les faire intervenir est une pression interdite"),
    (r"\bvous (?:allez|aller) le regretter\b|\bgare à vous\b|\bvous êtes prévenus?\b",
     "intimidation"),
    # regret promised: « vous le regretterez », « vous allez le regretter », « sous peine de le regretter »
    (r"\bvous (?:(?:risquez de|pourriez|pourrez|pourrez bien|devriez|ne tarderez pas à) )?(?:le |l’|l'|en )?"
     r"regrett(?:er|erez|eriez|erez amèrement)\b|\b(?:à|de) le regretter\b",
     "intimidation : promettre des regrets est une menace, pas une conséquence légale"),
    # mockery, contempt: « vous vous moquez de nous », « vous nous prenez pour des… »
    (r"\bmoqu(?:e|es|ez|er|ent|iez|erie|eries|é|ée|és|ées)\b|\bvous (?:vous )?(?:fichez|foutez)\b"
     r"|\bvous nous prenez pour\b|\bpayez notre tête\b|\bse payer notre tête\b|\bmépris\b",
     "mépris ou reproche personnel : un courrier de recouvrement reste courtois"),
    # exasperation: « nous en avons assez », « notre patience a des limites »
    (r"\b(?:nous )?en avons (?:assez|marre|ras le bol|plus qu’assez|par-dessus la tête)\b|\bras[- ]le[- ]bol\b"
     r"|\bmarre\b|\binadmissible\b|\bnotre patience (?:a des limites|est à bout|s’épuise|a atteint)"
     r"|\bà bout de patience\b|\btrop c’est trop\b|\bça suffit\b|\bcela suffit\b|\bexcédés?\b"
     r"|\bnous sommes (?:las|lassés|fatigués)\b|\bvos (?:excuses|prétextes) (?:ne|n’)",
     "exaspération : un courrier de recouvrement énonce les faits sans humeur"),
    # ruin, destruction: « avant de vous ruiner », « couler votre entreprise »
    (r"\bruin(?:e|er|é|ée|és|ées|erons|erez|era|erait)\b|\bsur la paille\b"
     r"|\b(?:couler|détruire|anéantir|briser|fermer) (?:votre|vos|votre petite) "
     r"(?:entreprise|société|commerce|boutique|réputation|vie|activité)\b"
     r"|\bvous allez voir ce qu|\bvous verrez ce qu",
     "menace de ruine : seule la conséquence légale d’un impayé s’annonce"),
)
_THREATS = [(re.compile(pattern, re.IGNORECASE), why) for pattern, why in THREATS]


def tone(tokens: Tokens, language: str, accepted: frozenset[str] = frozenset()) -> list[Problem]:
    text = tokens.text
    found: list[Problem] = []
    found += _capitals(tokens, accepted)
    for m in re.finditer(r"!(?:[ \u00a0\u202f]?[!?])+|\?!", text):
        found.append(problem_at(text, m.start(), m.end(), "ton", "plusieurs points d’exclamation : ton agressif",
                                ("!" if m.group().startswith("!") else "?",)))
    marks = [m.start() for m in re.finditer("!", text)]
    if len(marks) > 1 and not found:
        for start in marks[1:]:
            found.append(problem_at(text, start, start + 1, "ton",
                                    "plusieurs points d’exclamation dans le message : ton agressif"))
    if language == "fr":
        for pattern, why in _THREATS:
            for m in pattern.finditer(text):
                if not tokens.in_domain(m.start(), m.end()):
                    found.append(problem_at(text, m.start(), m.end(), "ton", why))
    return found


def _capitals(tokens: Tokens, accepted: frozenset[str]) -> list[Problem]:
    """Shouting: a word of four letters or more in capitals, or two words in capitals in a row."""
    text = tokens.text
    shouted = [w for w in tokens.words if len(w.text) >= 2 and w.text.isupper() and not _acronym(w.text, accepted)]
    found: list[Problem] = []
    run: list = []
    for word in [*shouted, None]:
        if word is not None and run and text[run[-1].end:word.start].strip(" \u00a0\u202f,’'-") == "":
            run.append(word)
            continue
        if run and (len(run) > 1 or len(run[0].text.replace("’", "").replace("'", "")) >= 4):
            found.append(problem_at(text, run[0].start, run[-1].end, "ton",
                                    "texte en capitales : cela se lit comme un cri",
                                    (text[run[0].start:run[-1].end].capitalize(),)))
        run = [word] if word is not None else []
    return found


def _acronym(word: str, accepted: frozenset[str]) -> bool:
    bare = word.replace("’", "'").split("'")[-1]
    return word in ACRONYMS or bare in ACRONYMS or word.lower() in accepted
