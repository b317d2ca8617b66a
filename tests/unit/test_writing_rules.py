"""The writing check rule by rule (relance.core.writing and relance.writing): each rule finds its
slip, and nothing of the trade — amounts as relance writes them, invoice numbers, dates, IBAN, legal
references, e-mail addresses, template placeholders — is ever flagged."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from relance.core.formatting import long_date, money, short_date
from relance.core.writing import tokenise, visible_text
from relance.writing import Problem, check_text, spelling_problems

NB = "\u00a0"


def kinds(text: str, **kwargs) -> list[tuple[str, str]]:
    return [(p.kind, p.text) for p in check_text(text, **kwargs)]


def test_the_problem_and_its_dict():
    problem = check_text("La facure est jointe.")[0]
    assert problem == Problem("facure", 3, 6, "orthographe", problem.message, problem.suggestions)
    assert problem.as_dict()["suggestions"][0] == "facture"
    assert set(problem.as_dict()) == {"text", "offset", "length", "kind", "message", "suggestions"}
    assert spelling_problems([problem]) == [problem]


@pytest.mark.parametrize("text, expected", [
    ("Cordialemment, le service comptable.", ("orthographe", "Cordialemment")),
    ("La date d’échéanse est passée.", ("orthographe", "échéanse")),
    ("Nous vous adressons la la copie.", ("grammaire", "la la")),
    ("Vos factures restent impayé.", ("grammaire", "impayé")),
    ("La facture n’a pas été réglé.", ("grammaire", "réglé")),
    ("Les factures reste impayées.", ("grammaire", "reste")),
    ("Le montant de la facture reste due.", ("grammaire", "due")),
    ("Quelque soit le motif, appelez-nous.", ("grammaire", "Quelque soit")),
    ("Montant dû : 40,00" + NB + "€.", ("typographie", " :")),
    ("Montant dû" + NB + ": 40 €.", ("typographie", "40 €")),
    ("Votre facture n° 12 reste due.", ("typographie", "n° ")),
    ("La mention «bon pour accord" + NB + "» suffit.", ("typographie", "«")),
    ("Nous restons à l'écoute.", ("typographie", "'")),
    ("Le solde de 12345,00" + NB + "€ reste dû.", ("typographie", "12345,00" + NB + "€")),
    ("Le solde de 1 234.56" + NB + "€ reste dû.", ("typographie", "1 234.56" + NB + "€")),
    ("URGENT" + NB + ": la facture reste due.", ("ton", "URGENT")),
    ("PAYEZ IMMÉDIATEMENT la facture.", ("ton", "PAYEZ IMMÉDIATEMENT")),
    ("Payez" + NB + "!!", ("ton", "!!")),
    ("Nous engagerons des poursuites pénales.", ("ton", "poursuites pénales")),
    ("Nous allons vous inscrire au fichier des mauvais clients.", ("ton", "inscrire au fichier")),
    ("Ceci est notre dernier avertissement.", ("ton", "dernier avertissement")),
])
def test_each_rule_finds_its_slip(text: str, expected: tuple[str, str]):
    assert expected in kinds(text)


@pytest.mark.parametrize("text", [
    "Nous nous permettons de vous rappeler la facture F-2026-0042.",  # « nous nous »: a pronominal verb
    "Les pénalités (articles L441-10 II et D441-5 du Code de commerce) et l’indemnité sont dues.",
    "Intérêts au taux légal (articles 1231-6 et 1344-1 du Code civil, art. 1344-1).",
    "IBAN FR76 3000 6000 0112 3456 7890 189 — BIC AGRIFRPP, référence RF18 5390 0754 7034.",
    "SIREN 732 829 320, SIRET 73282932000074, TVA FR40732829320, RCS Lyon.",
    "Factures F-2026-0042, FA2026/001 et AV-2026-0007 du 23/11/2026, échéance 2026-11-23.",
    "Le 23 novembre 2026 à 14:30, écrivez à compta@atelier-dubois.fr ou sur https://example.fr/a?b=1.",
    "Le solde de 1\u202f234,56\u00a0€ TTC, soit 1\u202f028,80\u00a0€ HT, reste dû au 1er décembre 2026.",
    "{{ salutation }}\n\n{% if nombre_factures == 1 %}La facture reste due{% else %}Les factures restent dues"
    "{% endif %}" + NB + ": {{ total_du }}.",
    "Le règlement des factures suivantes, arrivées à échéance, ne nous est pas parvenu.",
    "La facture est échue et le montant reste dû.",
    "Une lettre recommandée avec accusé de réception (LRAR) de la SAS, conformément au CPCE.",
    "Veuillez agréer, Madame, l’expression de nos salutations distinguées.",
])
def test_the_trade_is_not_flagged(text: str):
    assert check_text(text) == []


def test_english_uses_its_dictionary_and_its_typography():
    assert check_text("Dear Sir or Madam, your invoice INV-2026-0042 of €1,234.56 is overdue: please pay it.",
                      language="en") == []
    assert kinds("Please pay by 23 November 2026 ; thank you.", language="en") == [("typographie", " ;")]
    assert ("orthographe", "recieved") in kinds("We have not recieved your payment.", language="en")
    assert kinds("Organisation, cheque, colour.", language="en") == []  # British spelling


def test_accepted_words_and_html():
    assert kinds("Le brossage Vitrolux est prêt.", extra_words=["Vitrolux"]) == []
    html = "<p>Madame,</p><p>la <b>facure</b> reste&nbsp;due&#8239;: merci.</p>"
    problems = check_text(html, html=True)
    visible = visible_text(html)
    assert [(p.kind, p.text) for p in problems] == [("orthographe", "facure")]
    assert visible[problems[0].offset:problems[0].offset + problems[0].length] == "facure"
    assert "<" not in visible and "\u202f:" in visible


@settings(max_examples=200, deadline=None)
@given(st.decimals(min_value=Decimal("-99999999.99"), max_value=Decimal("999999999.99"), places=2))
def test_amounts_written_by_relance_are_never_flagged(amount: Decimal):
    assert check_text(f"Le solde de {money(amount)} reste dû.") == []


@settings(max_examples=100, deadline=None)
@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31)))
def test_dates_are_never_flagged(day: date):
    assert check_text(f"Échéance du {long_date(day)}, soit le {short_date(day)} ({day.isoformat()}).") == []


_token = st.one_of(
    st.from_regex(r"\A(F|FA|FAC|INV|AV)-?20[0-9]{2}[-/][0-9]{3,5}\Z"),  # invoice numbers
    st.from_regex(r"\A[LRD]?[1-9][0-9]{2,3}-[0-9]{1,2}\Z"),  # legal references
    st.from_regex(r"\AFR[0-9]{2}( [0-9]{4}){5} [0-9]{3}\Z"),  # IBAN
    st.from_regex(r"\ARF[0-9]{2}( [0-9A-Z]{4}){1,3}\Z"),  # RF references
    st.from_regex(r"\A[0-9]{3} [0-9]{3} [0-9]{3}\Z"),  # SIREN
    st.from_regex(r"\A[a-z]{2,8}\.[a-z]{2,8}@[a-z]{3,10}\.(fr|com)\Z"),  # e-mail addresses
    st.from_regex(r"\A\{\{ [a-z_]{1,12}(\.[a-z_]{1,8})? \}\}\Z"),  # placeholders
)


@settings(max_examples=300, deadline=None)
@given(_token)
def test_domain_tokens_are_never_flagged(token: str):
    text = f"Merci de rappeler {token} lors du règlement."
    assert check_text(text) == [], text
    start = text.index(token)
    spans = tokenise(text).domain
    assert all(any(s <= i < e for s, e, _ in spans) for i in range(start, start + len(token)) if text[i] != " ")


def test_a_formal_notice_of_a_customer_by_name_and_the_slow_path_bounded():
    # a capitalised unknown word (a name) gets no slow hunspell guess: the check stays quick
    problems = check_text("Madame Zyxwvutsrq, la facture reste due.")
    assert [(p.kind, p.text, p.suggestions) for p in problems] == [("orthographe", "Zyxwvutsrq", ())]


# The families of slips a blind held-out corpus revealed: each rule by its hits and its non-hits.
@pytest.mark.parametrize("text, expected", [
    # an infinitive is required after « vouloir », « veuillez », « merci de », « pouvez-vous »…
    ("Nous vous prions de bien vouloir régularisé votre situation.", ("grammaire", "régularisé")),
    ("Veuillez contacté notre service comptable.", ("grammaire", "contacté")),
    ("Merci de nous retournez le formulaire.", ("grammaire", "retournez")),
    ("Pourriez-vous nous envoyé le justificatif ?", ("grammaire", "envoyé")),
    # a participle, not an infinitive, after a noun of the trade
    ("Merci de nous renvoyer le mandat signer.", ("grammaire", "signer")),
    # être + participle against the subject
    ("Les intérêts de retard sont calculé au taux légal.", ("grammaire", "calculé")),
    ("La relance a été envoyé le 3 mai.", ("grammaire", "envoyé")),
    ("Votre virement sera encaissée demain.", ("grammaire", "encaissée")),
    # noun + participle
    ("Les sommes versé seront déduites.", ("grammaire", "versé")),
    ("Les frais de dossier facturé restent dus.", ("grammaire", "facturé")),
    # avoir + participle, no object before it
    ("Vous n’avez toujours pas réglés la facture.", ("grammaire", "réglés")),
    ("Nous avons reçus votre courrier.", ("grammaire", "reçus")),
    # avoir + participle, the object « que » before it
    ("Voici les relances que nous vous avons adressé.", ("grammaire", "adressé")),
    # the verb against its subject
    ("Nous espérons que ce calendrier vous conviendras.", ("grammaire", "conviendras")),
    ("Les pénalités s’ajoute au principal.", ("grammaire", "ajoute")),
    ("Les échéances prévues doit être respectées.", ("grammaire", "doit")),
    # typography
    ("Nous vous remercions  de votre règlement.", ("typographie", "  ")),
    ("Monsieur , nous vous écrivons.", ("typographie", " ,")),
    ("La facture est jointe .", ("typographie", " .")),
    ('La mention "bon pour accord" suffit.', ("typographie", '"bon pour accord"')),
    ("Le taux est de 10,57 % par an.", ("typographie", " %")),
    ("Le taux est de 3%.", ("typographie", "3%")),
    # tone: regret, mockery, exasperation, ruin
    ("Payez, sinon vous le regretterez.", ("ton", "vous le regretterez")),
    ("Vous risquez de le regretter.", ("ton", "Vous risquez de le regretter")),
    ("Vous vous moquez de nous.", ("ton", "moquez")),
    ("Vous nous prenez pour des imbéciles.", ("ton", "Vous nous prenez pour")),
    ("Nous en avons assez de vos promesses.", ("ton", "Nous en avons assez")),
    ("Notre patience a des limites.", ("ton", "Notre patience a des limites")),
    ("Nous ferons tout pour couler votre entreprise.", ("ton", "couler votre entreprise")),
    ("Réglez avant que cela ne vous ruine.", ("ton", "ruine")),
])
def test_each_family_of_slips_is_found(text: str, expected: tuple[str, str]):
    found = kinds(text)
    assert any(expected[1] in token or token in expected[1] for kind, token in found if kind == expected[0]), found


@pytest.mark.parametrize("text", [
    "La mention «\u00a0paiement à réception\u00a0» est indiquée sur chacune de nos factures.",
    "Nous vous remercions de bien vouloir nous adresser le règlement.",
    "Merci de nous retourner l’échéancier signé avant le 18 décembre 2026.",
    "Veuillez nous faire parvenir le document complété.",
    "Nous ne pouvons laisser cette dette perdurer.",
    "Nous regrettons de constater que la facture demeure impayée.",
    "Les sommes que vous nous avez versées ont été déduites.",
    "La facture que vous nous avez demandé de renvoyer est jointe.",
    "Nous vous avons adressé deux relances restées sans réponse.",
    "Vous avez été relancée à deux reprises.",
    "Nous les avons reçus le 3 mai.",
    "Les frais engagés pour le recouvrement restent à votre charge.",
    "La procédure de recouvrement engagée sera suspendue.",
    "Les pénalités de retard sont calculées au taux de 10,57\u00a0% par an.",
    "Les montants que vous nous devez s’élèvent à 5\u202f200,00\u00a0€.",
    "Le montant des factures échues s’élève à 300\u00a0€.",
    "Cette solution vous conviendra-t-elle\u00a0?",
    "Votre paiement a été reçu le 10 décembre 2026.",
    "Sans règlement sous huit jours, nous vous mettrons en demeure, puis engagerons une procédure judiciaire.",
    "Nous saisirons le tribunal d’une requête en injonction de payer, signifiée par un commissaire de justice.",
    "Nous vous mettons en demeure de régler la somme due de 1\u202f250,00\u00a0€.",
    "Le dossier sera transmis au service contentieux, ce que nous aurions souhaité éviter.",
])
def test_correct_collection_french_is_not_flagged(text: str):
    assert check_text(text) == []


def test_the_rules_without_a_dictionary_keep_to_the_words_of_the_trade():
    from relance.core.writing import check_rules

    assert check_rules(tokenise("Les intérêts sont calculé au taux légal.")) == []
    assert [p.text for p in check_rules(tokenise("Les factures sont réglé."))] == ["réglé"]
