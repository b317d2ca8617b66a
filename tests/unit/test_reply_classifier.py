"""The reply classifier: categories, evidence quoted as written, our quoted reminder ignored, the
traps (a promise inside a complaint, an out-of-office in English), and what it never does."""

from __future__ import annotations

import subprocess
import sys
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from relance.core.replies import CATEGORIES, classify
from relance.core.replies.text import fold, own_words

MONDAY = date(2026, 12, 7)
OUR_REMINDER = ("Le lun. 30 nov. 2026 à 09:12, Menuiserie Laurent <factures@menuiserie-laurent.fr> a\nécrit :\n"
                "> Sauf erreur de notre part, la facture F-2026-104 reste impayée.\n"
                "> Si vous avez déjà réglé, ne tenez pas compte de ce message. Merci de nous régler avant le 15/12.\n")


def test_the_categories_are_exactly_those_of_the_issue():
    assert CATEGORIES == ("deja_paye", "non_recu", "litige", "promesse", "echeancier", "absence",
                          "mauvais_contact", "autre")


@pytest.mark.parametrize(("text", "category"), [
    ("Cette facture a déjà été réglée le 30 novembre.", "deja_paye"),
    ("Je n'ai jamais reçu cette facture, pouvez-vous me la renvoyer ?", "non_recu"),
    ("Le montant ne correspond pas au devis, nous contestons.", "litige"),
    ("Je vous règle vendredi.", "promesse"),
    ("Pouvons-nous payer en trois fois ?", "echeancier"),
    ("Je ne m'occupe plus de la comptabilité, écrivez à marie@client.fr", "mauvais_contact"),
    ("Merci, bonne journée.", "autre"),
])
def test_each_category(text, category):
    assert classify(text, received_on=MONDAY).category == category


def test_the_promised_date_and_the_evidence_as_written():
    result = classify("Bonjour, je vous règle le vendredi 11 décembre, désolé.", received_on=MONDAY)
    assert result.category == "promesse"
    assert result.promised_date == date(2026, 12, 11)
    assert any("règle" in words for words in result.evidence)  # accents as written, though matched folded
    assert any("11 décembre" in words for words in result.evidence)
    assert 0.0 <= result.confidence <= 1.0


def test_our_quoted_reminder_never_decides():
    # our own words say « déjà réglé » and « avant le 15/12 »: the customer's only say thanks
    assert classify("Merci pour votre message.\n\n" + OUR_REMINDER, received_on=MONDAY).category == "autre"
    outlook = ("Bien reçu.\n\n________________________________\nDe : Menuiserie Laurent\nEnvoyé : lundi 30 novembre\n"
               "Objet : Facture\n\nSi vous avez déjà réglé, ne tenez pas compte de ce message.")
    assert classify(outlook, received_on=MONDAY).category == "autre"
    english = "Thanks.\n\nOn Mon, Nov 30, 2026 at 9:12 AM Menuiserie <f@m.fr> wrote:\n> already paid? ignore this."
    assert classify(english, received_on=MONDAY).category == "autre"


def test_own_words_cut_quotes_signatures_and_forwarded_history():
    body = "Je vous paie demain.\n\nCordialement,\nJean\nTél. 01 23 45 67 89\n\n" + OUR_REMINDER
    assert own_words(body) == "Je vous paie demain."
    assert own_words("Ok\n-- \nMarc, Boulangerie, 12/14 rue X") == "Ok"
    assert own_words("Ok\n-----Message d'origine-----\nDe : x") == "Ok"
    assert own_words("> quoted\nMine") == "Mine"


def test_a_promise_inside_a_complaint_about_the_goods_is_a_dispute():
    text = "Je vous paierai le 15 décembre, mais seulement la partie livrée : la deuxième livraison était abîmée."
    assert classify(text, received_on=MONDAY).category == "litige"


def test_a_promise_inside_a_complaint_about_the_reminders_stays_a_promise():
    text = "Vos relances sont pénibles et agressives, mais je vous paierai le 17 décembre."
    result = classify(text, received_on=MONDAY)
    assert (result.category, result.promised_date) == ("promesse", date(2026, 12, 17))


def test_an_out_of_office_in_english_with_its_return_date():
    text = "I am out of the office until Monday 14 December. For urgent matters please contact ap@corp.com."
    result = classify(text, received_on=MONDAY, subject="Automatic reply: Facture F-2026-1")
    assert (result.category, result.return_date) == ("absence", date(2026, 12, 14))


def test_an_automatic_reply_is_an_absence_whatever_it_says():
    text = "Votre message a bien été reçu. Pour un changement de contact, écrivez à compta@client.fr."
    assert classify(text, received_on=MONDAY, auto_submitted=True).category == "absence"


def test_a_past_date_is_never_a_promise():
    result = classify("Je vous ai réglé le 3/12.", received_on=MONDAY)
    assert result.category == "deja_paye" and result.promised_date is None


def test_typos_and_missing_accents():
    assert classify("bjr jai pas recu la facture, vous pouvez me la renvoyer", received_on=MONDAY).category == "non_recu"
    assert classify("c deja payer depuis longtemps", received_on=MONDAY).category == "deja_paye"


def test_fold_keeps_a_map_to_the_text_as_written():
    folded = fold("Réglée l’été ŒUVRE")
    assert folded.text == "reglee l'ete oeuvre"
    start = folded.text.index("ete")
    assert folded.quote(start, start + 3) == "été"
    start = folded.text.index("oeuvre")
    assert folded.quote(start, start + 6) == "ŒUVRE"


@given(text=st.text(max_size=400), subject=st.text(max_size=60), auto=st.booleans(),
       received=st.dates(min_value=date(2001, 1, 1), max_value=date(2098, 12, 31)))
def test_any_text_gets_a_category_never_a_crash(text, subject, auto, received):
    result = classify(text, received_on=received, subject=subject, auto_submitted=auto)
    assert result.category in CATEGORIES
    assert 0.0 <= result.confidence <= 1.0
    for day in (result.promised_date, result.return_date):
        assert day is None or day >= received
    for words in result.evidence:
        assert words in text or words in subject


def test_a_huge_message_is_classified_quickly_enough():
    text = "Je vous règle vendredi.\n" + ("bla " * 20 + "\n") * 5000
    assert classify(text, received_on=MONDAY).category == "promesse"


def test_the_package_imports_no_django():
    code = ("import sys, relance.core.replies, relance.core.replies.message, relance.core.replies.measure; "
            "assert not any(m == 'django' or m.startswith('django.') for m in sys.modules), 'django imported'")
    subprocess.run([sys.executable, "-c", code], check=True)
