"""The injonction de payer's court (C. proc. civ. 1406), its mentions (1407, 57, 54) and the
small-claims limit (CPCE L125-1, R125-1): core.injonction."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from relance.core.injonction import (
    REQUEST_MENTIONS,
    SMALL_CLAIM_LIMIT,
    CourtAdvice,
    CourtFacts,
    CourtKind,
    PartyFacts,
    PartyKind,
    court_label,
    court_problems,
    form_code,
    is_commercial,
    missing_mentions,
    party_kind,
    small_claim_check,
    small_claim_limit,
    suggest_court,
)

DAY = date(2026, 11, 23)
ADDRESS = ("5 place Bellecour", "69002 Lyon")
CREDITOR = PartyFacts("Atelier Dubois SAS", True, "SAS au capital de 10 000 €", "552100554", ADDRESS,
                      "Sophie Laurent, Responsable comptable")
DEBTOR = PartyFacts("Boulangerie Martin", True, "SARL", "732829320", ("12 rue des Lilas", "69003 Lyon"))
CONSUMER = PartyFacts("Jean Petit", False, address=("8 impasse des Roses", "69100 Villeurbanne"))
COURT = CourtFacts(CourtKind.COMMERCE, "Tribunal des activités économiques de Lyon", "44 rue de Bonnel, 69003 Lyon")

# ------------------------------------------------------------------ legal forms


@pytest.mark.parametrize(("written", "code"), [
    ("SAS au capital de 10 000 €", "SAS"), ("S.A.R.L.", "SARL"), ("s.a.r.l", "SARL"), ("S. A. R. L.", "SARL"),
    ("E.U.R.L", "EURL"), ("Société par actions simplifiée", "SAS"), ("société anonyme à conseil", "SA"),
    ("SASU", "SASU"), ("Société civile immobilière", "SCI"), ("Entrepreneur individuel", "EI"),
    ("micro-entrepreneur", "MICRO"), ("", ""), ("   ", ""),
])
def test_a_legal_form_is_read_as_its_code(written: str, code: str) -> None:
    assert form_code(written) == code


@pytest.mark.parametrize(("form", "commercial"), [
    ("SAS", True), ("SARL", True), ("SNC", True), ("SA", True), ("SCA", True), ("EURL", True),
    ("SCI", False), ("SCP", False), ("Association loi 1901", False), ("GAEC", False),
    ("SELARL", None), ("EI", None), ("", None), ("Coopérative", None),
])
def test_commercial_by_form_civil_or_unknown(form: str, commercial: bool | None) -> None:
    assert is_commercial(True, form) is commercial


def test_a_consumer_is_never_commercial_and_is_a_person() -> None:
    assert is_commercial(False, "SAS") is False
    assert party_kind(False, "SAS") is PartyKind.PERSON
    assert party_kind(True, "EI") is PartyKind.INDIVIDUAL_BUSINESS
    assert party_kind(True, "") is PartyKind.COMPANY


# ------------------------------------------------------------------ court (art. 1406)


def test_between_merchants_the_tribunal_de_commerce() -> None:
    advice = suggest_court(CREDITOR, DEBTOR)
    assert advice.kind is CourtKind.COMMERCE and "1406" in advice.reason


def test_a_consumer_goes_to_the_tribunal_judiciaire() -> None:
    advice = suggest_court(CREDITOR, CONSUMER)
    assert advice == CourtAdvice(CourtKind.JUDICIAIRE, advice.reason) and "particulier" in advice.reason


def test_a_civil_party_means_the_tribunal_judiciaire() -> None:
    sci = PartyFacts("SCI du Parc", True, "SCI", "404833048", ADDRESS)
    assert suggest_court(CREDITOR, sci).kind is CourtKind.JUDICIAIRE
    assert suggest_court(sci, DEBTOR).kind is CourtKind.JUDICIAIRE


def test_an_unknown_status_is_left_to_the_user() -> None:
    ei = PartyFacts("Paul Durand", True, "EI", "443121975", ADDRESS)
    advice = suggest_court(CREDITOR, ei)
    assert advice.kind is None and "à choisir" in advice.reason and "le débiteur est commerçant" in advice.reason
    both = suggest_court(PartyFacts("X", True), PartyFacts("Y", True))
    assert both.kind is None and "le créancier et le débiteur sont commerçants" in both.reason


parties = st.builds(PartyFacts, name=st.just("X"), business=st.booleans(),
                    legal_form=st.sampled_from(["SAS", "SARL", "SCI", "EI", "SELARL", "", "Association"]))


@given(parties, parties)
def test_the_court_rule_holds_for_any_pair(creditor: PartyFacts, debtor: PartyFacts) -> None:
    kind = suggest_court(creditor, debtor).kind
    if not debtor.business:
        assert kind is CourtKind.JUDICIAIRE
    if kind is CourtKind.COMMERCE:  # only ever between two merchants
        assert creditor.commercial is True and debtor.commercial is True
    if creditor.commercial is True and debtor.commercial is True:
        assert kind is CourtKind.COMMERCE


def test_court_label_is_the_name_entered_else_the_kind() -> None:
    assert court_label(CourtKind.COMMERCE, " Tribunal de commerce de Bourg-en-Bresse ") == \
        "Tribunal de commerce de Bourg-en-Bresse"
    assert court_label(CourtKind.JUDICIAIRE) == "tribunal judiciaire"
    assert court_label(None) == "tribunal"


def test_court_problems() -> None:
    assert court_problems(COURT, DEBTOR, DAY) == []
    (consumer,) = court_problems(COURT, CONSUMER, DAY)
    assert "particulier" in consumer
    (wrong,) = court_problems(CourtFacts(CourtKind.JUDICIAIRE, "Tribunal de commerce de Bourg"), DEBTOR, DAY)
    assert "tribunal de commerce" in wrong
    (renamed,) = court_problems(CourtFacts(CourtKind.COMMERCE, "Tribunal de commerce de Lyon"), DEBTOR, DAY)
    assert "tribunal des activités économiques de Lyon" in renamed
    # before the experiment, and in a city outside it, the name is right
    assert court_problems(CourtFacts(CourtKind.COMMERCE, "Tribunal de commerce de Lyon"), DEBTOR, date(2024, 6, 1)) == []
    assert court_problems(CourtFacts(CourtKind.COMMERCE, "Tribunal de commerce de Bourg-en-Bresse"), DEBTOR, DAY) == []


# ------------------------------------------------------------------ mentions (1407, 57, 54)


def test_the_mentions_follow_the_forms_order() -> None:
    assert [m.key for m in REQUEST_MENTIONS] == ["court", "creditor", "debtor", "amount", "basis", "object", "pieces",
                                                 "signature"]
    assert all("C. proc. civ." in m.article for m in REQUEST_MENTIONS)


def test_nothing_missing_when_all_is_known() -> None:
    assert missing_mentions(CREDITOR, DEBTOR, COURT, pieces=3, place="Lyon", signatory="Sophie Laurent") == []
    assert missing_mentions(CREDITOR, CONSUMER, CourtFacts(CourtKind.JUDICIAIRE, "Tribunal judiciaire de Lyon", "x"),
                            pieces=1, place="Lyon", signatory="Sophie Laurent") == []


def test_what_is_missing_is_said_in_french() -> None:
    debtor = PartyFacts("Garage du Centre", True)
    creditor = PartyFacts("Atelier Dubois", True, "SAS")
    missing = missing_mentions(creditor, debtor, CourtFacts(None), pieces=0, place="", signatory="")
    assert missing == [
        "Juridiction : choisissez le tribunal compétent (tribunal de commerce entre commerçants, sinon tribunal "
        "judiciaire) du domicile du débiteur (C. proc. civ. art. 1406).",
        "Juridiction : nom du tribunal du domicile du débiteur non renseigné (C. proc. civ. art. 1406).",
        "Juridiction : adresse du greffe non renseignée.",
        "Créancier : adresse du siège social inconnue.",
        "Créancier : numéro SIREN inconnu.",
        "Créancier : représentant légal (signataire) non renseigné (C. proc. civ. art. 54 3° b).",
        "Débiteur : forme juridique inconnue.",
        "Débiteur : adresse du siège social inconnue.",
        "Débiteur : numéro SIREN inconnu.",
        "Bordereau des pièces : aucune pièce n’est jointe (C. proc. civ. art. 1407).",
        "Lieu de signature : ville du créancier non renseignée.",
    ]


def test_a_person_debtor_needs_no_form_nor_siren_but_a_person_creditor_needs_more() -> None:
    assert missing_mentions(CREDITOR, PartyFacts("Jean Petit", False), None, pieces=1, place="Lyon",
                            signatory="S") == ["Débiteur : adresse du domicile inconnue."]
    ei = PartyFacts("Paul Durand", True, "Entrepreneur individuel", "443121975", ADDRESS)
    (more,) = missing_mentions(ei, DEBTOR, COURT, pieces=1, place="Lyon", signatory="Paul Durand")
    assert "nationalité, date et lieu de naissance" in more and "54 3° a" in more
    # not asked outside a court request (the small-claims file)
    assert missing_mentions(ei, DEBTOR, None, pieces=1, place="Lyon", signatory="Paul Durand") == []


@given(st.booleans(), st.booleans(), st.booleans(), st.booleans(), st.integers(0, 3))
def test_each_unknown_fact_is_reported_once(form: bool, siren: bool, address: bool, court_name: bool,
                                            pieces: int) -> None:
    debtor = PartyFacts("Boulangerie Martin", True, "SARL" if form else "", "732829320" if siren else "",
                        ADDRESS if address else ())
    court = CourtFacts(CourtKind.COMMERCE, "Tribunal de commerce de Bourg" if court_name else "", "1 rue X")
    missing = missing_mentions(CREDITOR, debtor, court, pieces=pieces, place="Lyon", signatory="S")
    expected = (not form) + (not siren) + (not address) + (not court_name) + (pieces == 0)
    assert len(missing) == len(set(missing)) == expected


# ------------------------------------------------------------------ small claims (L125-1, R125-1)


def test_the_small_claims_limit() -> None:
    assert SMALL_CLAIM_LIMIT == Decimal("5000.00")
    assert small_claim_limit(date(2020, 1, 1)) == Decimal("5000.00")
    assert small_claim_limit(date(2019, 12, 31)) == Decimal("4000.00")


def test_the_limit_itself_is_eligible_a_cent_more_is_not() -> None:
    assert small_claim_check(Decimal("4900.00"), Decimal("100.00"), DAY).eligible
    refused = small_claim_check(Decimal("4900.00"), Decimal("100.01"), DAY)
    assert not refused.eligible and "5\u202f000,00\xa0€" in refused.reason and "injonction de payer" in refused.reason


def test_nothing_owed_or_another_currency_is_not_eligible() -> None:
    assert not small_claim_check(Decimal(0), Decimal(0), DAY).eligible
    assert not small_claim_check(Decimal(10), Decimal(0), DAY, "CHF").eligible
    with pytest.raises(ValueError):
        small_claim_check(Decimal(-1), Decimal(0), DAY)


cents = st.decimals(min_value=0, max_value=20_000, places=2, allow_nan=False, allow_infinity=False)


@given(cents, cents, st.dates(min_value=date(2016, 1, 1), max_value=date(2030, 12, 31)))
def test_eligible_exactly_when_principal_and_interest_fit(principal: Decimal, interest: Decimal, on: date) -> None:
    check = small_claim_check(principal, interest, on)
    assert check.counted == principal + interest and check.limit == small_claim_limit(on)
    assert check.eligible == (Decimal(0) < principal + interest <= small_claim_limit(on))
    assert check.reason
