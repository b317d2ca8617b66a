"""The injonction de payer (C. proc. civ. 1405 to 1425) and the procédure simplifiée de
recouvrement des petites créances (CPCE L125-1, R125-1 s.): which court, which mentions the
request must carry and which of them are still unknown, and whether a claim is small enough for
the commissaire de justice's procedure (pure, no Django).

**Court (art. 1406).** The request goes to the court that would hear the claim on the merits, of
the place where the debtor (or one of them) lives; the rule is of public order and a clause to the
contrary is void. Between merchants, for their commerce, that is the tribunal de commerce (C. com.
L721-3) — since 1 January 2025, in twelve cities, the *tribunal des activités économiques* (loi
2023-1059 art. 26, arrêté of 5 July 2024, an experiment of four years); otherwise the tribunal
judiciaire. A consumer is never brought before a commercial court. :func:`suggest_court` only
proposes the *kind* of court: its name and address are entered by the user, never guessed from
the debtor's address (the map of court districts is not ours to maintain).

**Mentions (art. 1407, 57 and 54).** The request carries, on pain of nullity, the court (54 1°),
the object of the request (54 2°), for the applicant — a natural person: name, first names,
profession, domicile, nationality, date and place of birth (54 3° a); a legal person: its form,
name, registered office and the body that legally represents it (54 3° b) —, the name and domicile
of the person the claim is against, or a legal person's name and registered office (57), the
documents the claim rests on (57), its date and signature (57); and, under 1407, the precise
amount claimed with the breakdown of its components and the basis of the claim, with the
bordereau of the documents produced. The SIREN of each company is not required by the code but
asked by the official forms (Cerfa 12946 and 12948), and the court needs it to identify the
company: its absence is reported too. :func:`missing_mentions` says, in French, what is still
unknown.

**Small claims (L125-1, R125-1 s.).** A claim with a contractual or statutory cause whose amount
*in principal and interest* does not exceed 5 000 € (4 000 € before 1 January 2020, décret
2019-1333). Choice: the late-payment penalties of C. com. L441-10 are interest (intérêts
moratoires) and are counted with it; the 40 € indemnity (D441-5) and justified collection costs
are neither principal nor interest and are not counted (see :func:`small_claim_check`).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from .formatting import money


class CourtKind(StrEnum):
    """The values of ``LitigationCase.Court``."""

    COMMERCE = "commerce"
    JUDICIAIRE = "judiciaire"


class PartyKind(StrEnum):
    COMPANY = "company"  # personne morale
    INDIVIDUAL_BUSINESS = "individual_business"  # entrepreneur individuel (a natural person)
    PERSON = "person"  # consumer, natural person


# --------------------------------------------------------------------------------------------
# Legal forms
# --------------------------------------------------------------------------------------------

#: Companies commercial by their form, whatever their object (C. com. L210-1 al. 2): SNC, SCS,
#: SARL (and EURL), SA, SAS (and SASU), SCA.
COMMERCIAL_FORMS = frozenset({"SNC", "SCS", "SARL", "EURL", "SA", "SAS", "SASU", "SCA", "SAU"})
#: Forms that are not commercial: civil companies, associations, farming groups.
CIVIL_FORMS = frozenset({"SC", "SCI", "SCP", "SCM", "SCEA", "SCCV", "GAEC", "EARL", "GFA", "ASSOCIATION"})
#: Sociétés d'exercice libéral: a commercial form with a civil object; the court depends on the
#: case, the user chooses.
LIBERAL_FORMS = frozenset({"SELARL", "SELAS", "SELASU", "SELAFA", "SELCA", "SELEURL", "SELARLU"})
#: An individual entrepreneur: a natural person, commercial only when the activity is.
INDIVIDUAL_FORMS = frozenset({"EI", "EIRL", "ME", "MICRO", "MICROENTREPRISE", "MICROENTREPRENEUR",
                              "AUTOENTREPRENEUR", "ENTREPRENEUR"})

_LONG_NAMES: tuple[tuple[str, str], ...] = (
    ("societe par actions simplifiee unipersonnelle", "SASU"),
    ("societe par actions simplifiee", "SAS"),
    ("societe a responsabilite limitee", "SARL"),
    ("entreprise unipersonnelle a responsabilite limitee", "EURL"),
    ("societe anonyme", "SA"),
    ("societe en nom collectif", "SNC"),
    ("societe en commandite par actions", "SCA"),
    ("societe en commandite simple", "SCS"),
    ("societe civile immobiliere", "SCI"),
    ("societe civile professionnelle", "SCP"),
    ("societe civile de moyens", "SCM"),
    ("societe civile", "SC"),
    ("societe d exercice liberal", "SELARL"),
    ("entrepreneur individuel", "EI"),
    ("entreprise individuelle", "EI"),
    ("micro entrepreneur", "MICRO"),
    ("micro entreprise", "MICRO"),
    ("auto entrepreneur", "MICRO"),
    ("association", "ASSOCIATION"),
)


def _plain(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def form_code(legal_form: str) -> str:
    """The short code of a legal form as written by a user: « SAS au capital de 10 000 € » →
    ``SAS``, « S.A.R.L. » → ``SARL``, « Société par actions simplifiée » → ``SAS``; ``""`` when
    blank, the first word in capitals when unknown."""
    plain = re.sub(r"[^a-z0-9]+", " ", _plain(legal_form)).strip()
    if not plain:
        return ""
    for name, code in _LONG_NAMES:
        if plain.startswith(name):
            return code
    # « S.A.R.L. », « s.a.s » : dotted initials first
    dotted = re.match(r"\s*([A-Za-z](?:\.\s?[A-Za-z])+)\.?(?![A-Za-z])", legal_form)
    if dotted:
        return re.sub(r"[^A-Za-z]", "", dotted.group(1)).upper()
    return plain.split()[0].upper()


def party_kind(business: bool, legal_form: str) -> PartyKind:
    """A consumer is a person; a business is a company unless its form says it is an individual
    entrepreneur (an unknown form is taken for a company: the mentions asked are then the
    company's, which is what the forms ask when in doubt)."""
    if not business:
        return PartyKind.PERSON
    return PartyKind.INDIVIDUAL_BUSINESS if form_code(legal_form) in INDIVIDUAL_FORMS else PartyKind.COMPANY


def is_commercial(business: bool, legal_form: str) -> bool | None:
    """Whether a party is a merchant for art. 1406: ``True`` for a company commercial by its form,
    ``False`` for a consumer or a civil form, ``None`` when it depends on the activity (individual
    entrepreneur, société d'exercice libéral) or the form is unknown."""
    if not business:
        return False
    code = form_code(legal_form)
    if code in COMMERCIAL_FORMS:
        return True
    if code in CIVIL_FORMS:
        return False
    return None


# --------------------------------------------------------------------------------------------
# Parties and court
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PartyFacts:
    """What is known of a party: ``address`` is its lines (street, complement, postal code and
    city), ``representative`` who signs or legally represents it (the creditor's)."""

    name: str
    business: bool
    legal_form: str = ""
    siren: str = ""
    address: tuple[str, ...] = ()
    representative: str = ""
    country: str = "FR"

    @property
    def kind(self) -> PartyKind:
        return party_kind(self.business, self.legal_form)

    @property
    def commercial(self) -> bool | None:
        return is_commercial(self.business, self.legal_form)


@dataclass(frozen=True)
class CourtFacts:
    kind: CourtKind | None
    name: str = ""
    address: str = ""


@dataclass(frozen=True)
class CourtAdvice:
    """The kind of court art. 1406 points to (``None``: the user must choose) and why, in French."""

    kind: CourtKind | None
    reason: str


COURT_LABELS: dict[CourtKind, str] = {CourtKind.COMMERCE: "tribunal de commerce",
                                      CourtKind.JUDICIAIRE: "tribunal judiciaire"}

#: The tribunaux de commerce renamed « tribunal des activités économiques » from 1 January 2025
#: for four years (arrêté of 5 July 2024): they keep the injonction de payer.
TAE_CITIES = frozenset({"Avignon", "Auxerre", "Le Havre", "Le Mans", "Limoges", "Lyon", "Marseille", "Nancy",
                        "Nanterre", "Paris", "Saint-Brieuc", "Versailles"})
TAE_FROM = date(2025, 1, 1)
TAE_UNTIL = date(2028, 12, 31)


def suggest_court(creditor: PartyFacts, debtor: PartyFacts) -> CourtAdvice:
    """The kind of court of art. 1406 (C. com. L721-3 between merchants): the tribunal de
    commerce when both parties are merchants, the tribunal judiciaire when one of them is not
    (always for a consumer), no answer when a party's status depends on its activity."""
    if debtor.kind is PartyKind.PERSON:
        return CourtAdvice(CourtKind.JUDICIAIRE, "le débiteur est un particulier : tribunal judiciaire de son domicile "
                                                 "(C. proc. civ. art. 1406)")
    parties = ((creditor, "le créancier"), (debtor, "le débiteur"))
    for party, who in parties:
        if party.commercial is False:
            return CourtAdvice(CourtKind.JUDICIAIRE, f"{who} n’est pas commerçant ({party.legal_form or 'particulier'}) : "
                                                     "tribunal judiciaire du domicile du débiteur (C. proc. civ. "
                                                     "art. 1406)")
    unknown = [who for party, who in parties if party.commercial is None]
    if unknown:
        who = unknown[0] + " est commerçant" if len(unknown) == 1 else "le créancier et le débiteur sont commerçants"
        return CourtAdvice(None, f"à choisir : la forme juridique ne dit pas si {who} ; tribunal de commerce entre "
                                 "commerçants, sinon tribunal judiciaire, du domicile du débiteur (C. proc. civ. "
                                 "art. 1406, C. com. L721-3)")
    return CourtAdvice(CourtKind.COMMERCE, "créance commerciale entre commerçants : tribunal de commerce (ou des "
                                           "activités économiques) du domicile du débiteur (C. proc. civ. art. 1406, "
                                           "C. com. L721-3)")


def court_label(kind: CourtKind | None, name: str = "") -> str:
    """How the court is named: its name as entered, else its kind."""
    if name.strip():
        return name.strip()
    return COURT_LABELS[kind] if kind is not None else "tribunal"


def court_problems(court: CourtFacts, debtor: PartyFacts, on: date) -> list[str]:
    """What is wrong with the chosen court, in French: a consumer before a commercial court (an
    error), a name that contradicts the kind, a tribunal de commerce since renamed."""
    problems: list[str] = []
    plain = _plain(court.name)
    if court.kind is CourtKind.COMMERCE and debtor.kind is PartyKind.PERSON:
        problems.append("Un particulier ne relève pas du tribunal de commerce : la requête va au tribunal judiciaire "
                        "de son domicile (C. proc. civ. art. 1406).")
    if court.kind is CourtKind.COMMERCE and "judiciaire" in plain:
        problems.append(f"Le nom de la juridiction (« {court.name} ») est celui d’un tribunal judiciaire, "
                        "mais le dossier vise le tribunal de commerce.")
    if court.kind is CourtKind.JUDICIAIRE and ("commerce" in plain or "activites economiques" in plain):
        problems.append(f"Le nom de la juridiction (« {court.name} ») est celui d’un tribunal de commerce, "
                        "mais le dossier vise le tribunal judiciaire.")
    if court.kind is CourtKind.COMMERCE and "tribunal de commerce" in plain and TAE_FROM <= on <= TAE_UNTIL:
        for city in TAE_CITIES:
            if re.search(r"\b" + re.escape(_plain(city)) + r"\b", plain):
                problems.append(f"Depuis le 1er janvier 2025, le tribunal de commerce de {city} est le « tribunal "
                                f"des activités économiques de {city} » (loi 2023-1059, art. 26).")
    return problems


# --------------------------------------------------------------------------------------------
# Mentions
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Mention:
    key: str
    label: str
    article: str


#: The mentions of the request, in the order of the official forms (Cerfa 12946 and 12948):
#: court, applicant, debtor, amount and its breakdown, basis, object, documents, date and signature.
REQUEST_MENTIONS: tuple[Mention, ...] = (
    Mention("court", "juridiction saisie", "C. proc. civ. art. 54 1° et 1406"),
    Mention("creditor", "créancier : forme, dénomination, siège social, SIREN, représentant légal "
                        "(personne physique : nom, prénoms, profession, domicile, nationalité, date et lieu "
                        "de naissance)", "C. proc. civ. art. 54 3°"),
    Mention("debtor", "débiteur : dénomination, forme, siège social, SIREN (personne physique : nom, prénoms, "
                      "domicile)", "C. proc. civ. art. 57"),
    Mention("amount", "montant précis de la somme réclamée et décompte de ses éléments", "C. proc. civ. art. 1407"),
    Mention("basis", "fondement de la créance", "C. proc. civ. art. 1407"),
    Mention("object", "objet de la demande : rendre une ordonnance portant injonction de payer",
            "C. proc. civ. art. 54 2° et 1405"),
    Mention("pieces", "bordereau des documents justificatifs", "C. proc. civ. art. 57 et 1407"),
    Mention("signature", "date et signature", "C. proc. civ. art. 57"),
)


def _party_missing(party: PartyFacts, who: str, *, applicant: bool, court_request: bool) -> list[str]:
    missing: list[str] = []
    if not party.name.strip():
        missing.append(f"{who} : nom ou dénomination inconnu.")
    kind = party.kind
    if kind is PartyKind.COMPANY:
        if not party.legal_form.strip():
            missing.append(f"{who} : forme juridique inconnue (C. proc. civ. art. 54 3° b)." if applicant
                           else f"{who} : forme juridique inconnue.")
        if not party.address:
            missing.append(f"{who} : adresse du siège social inconnue.")
        if not party.siren.strip():
            missing.append(f"{who} : numéro SIREN inconnu.")
        if applicant and not party.representative.strip():
            missing.append(f"{who} : représentant légal (signataire) non renseigné (C. proc. civ. art. 54 3° b).")
    else:
        if not party.address:
            missing.append(f"{who} : adresse du domicile inconnue.")
        if kind is PartyKind.INDIVIDUAL_BUSINESS and not party.siren.strip():
            missing.append(f"{who} : numéro SIREN inconnu.")
        if applicant and court_request:
            missing.append(f"{who} (personne physique) : profession, nationalité, date et lieu de naissance à "
                           "compléter (C. proc. civ. art. 54 3° a).")
    return missing


def missing_mentions(creditor: PartyFacts, debtor: PartyFacts, court: CourtFacts | None, *, pieces: int,
                     place: str, signatory: str) -> list[str]:
    """The mentions of :data:`REQUEST_MENTIONS` that cannot be filled from what is known, in
    French, in the order of the request (``court`` ``None``: a document without a court, the
    small-claims file, which does not need a natural person's birth, nationality and profession)."""
    missing: list[str] = []
    if court is not None:
        if court.kind is None:
            missing.append("Juridiction : choisissez le tribunal compétent (tribunal de commerce entre commerçants, "
                           "sinon tribunal judiciaire) du domicile du débiteur (C. proc. civ. art. 1406).")
        if not court.name.strip():
            missing.append("Juridiction : nom du tribunal du domicile du débiteur non renseigné "
                           "(C. proc. civ. art. 1406).")
        if not court.address.strip():
            missing.append("Juridiction : adresse du greffe non renseignée.")
    missing += _party_missing(creditor, "Créancier", applicant=True, court_request=court is not None)
    if not signatory.strip() and creditor.kind is not PartyKind.COMPANY:
        missing.append("Créancier : signataire non renseigné.")
    missing += _party_missing(debtor, "Débiteur", applicant=False, court_request=court is not None)
    if pieces <= 0:
        missing.append("Bordereau des pièces : aucune pièce n’est jointe (C. proc. civ. art. 1407).")
    if not place.strip():
        missing.append("Lieu de signature : ville du créancier non renseignée.")
    return missing


# --------------------------------------------------------------------------------------------
# Small claims (CPCE L125-1, R125-1 s.)
# --------------------------------------------------------------------------------------------

SMALL_CLAIM_LIMIT = Decimal("5000.00")
SMALL_CLAIM_LIMIT_SINCE = date(2020, 1, 1)
SMALL_CLAIM_LIMIT_BEFORE = Decimal("4000.00")
SMALL_CLAIM_BASIS = "art. L125-1 et R125-1 s. du Code des procédures civiles d’exécution"


def small_claim_limit(on: date) -> Decimal:
    """5 000 € in principal and interest from 1 January 2020 (décret 2019-1333), 4 000 € before."""
    return SMALL_CLAIM_LIMIT if on >= SMALL_CLAIM_LIMIT_SINCE else SMALL_CLAIM_LIMIT_BEFORE


@dataclass(frozen=True)
class SmallClaimCheck:
    eligible: bool
    #: principal + interest: what the limit applies to
    counted: Decimal
    limit: Decimal
    reason: str


def small_claim_check(principal: Decimal, interest: Decimal, on: date, currency: str = "EUR") -> SmallClaimCheck:
    """Whether a claim may go through the procédure simplifiée de recouvrement des petites
    créances: its amount in principal and interest (``interest``: late interest and L441-10
    penalties) does not exceed the limit of ``on``. The indemnity and the costs are not counted."""
    if principal < 0 or interest < 0:
        raise ValueError("a claim's principal and interest are never negative")
    limit = small_claim_limit(on)
    counted = principal + interest
    if currency != "EUR":
        return SmallClaimCheck(False, counted, limit, f"créance en {currency} : la procédure simplifiée vise "
                                                      "une créance en euros")
    if counted <= 0:
        return SmallClaimCheck(False, counted, limit, "aucune somme n’est due")
    if counted > limit:
        return SmallClaimCheck(False, counted, limit,
                               f"la créance ({money(counted)} en principal et intérêts) dépasse le plafond de "
                               f"{money(limit)} de la procédure simplifiée de recouvrement des petites créances "
                               "(C. proc. exéc. art. L125-1 et R125-1) : utilisez l’injonction de payer")
    return SmallClaimCheck(True, counted, limit,
                           f"{money(counted)} en principal et intérêts, dans la limite de {money(limit)} "
                           "(C. proc. exéc. art. L125-1 et R125-1)")
