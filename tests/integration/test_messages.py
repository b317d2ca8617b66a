"""Message rendering: French wording and formats, the sandbox, template errors."""

from __future__ import annotations

import pytest

from relance.dunning.models import MessageTemplate
from relance.dunning.services.editing import save_template
from relance.dunning.services.messages import (
    TEMPLATE_DIR,
    TemplateProblem,
    render_source,
    sample_context,
    template_source,
    validate_template,
)
from tests.builders import bare_org

KEYS = ["avant_echeance", "relance_1", "relance_2", "relance_3", "courrier", "mise_en_demeure", "remerciement"]


@pytest.mark.parametrize("language", ["fr", "en"])
@pytest.mark.parametrize("key", KEYS)
def test_every_shipped_template_renders(key, language):
    subject, _, body = (TEMPLATE_DIR / language / f"{key}.txt").read_text(encoding="utf-8").partition("\n")
    message = render_source(subject, body, sample_context(language), key)
    assert message.subject and "{{" not in message.text and "{%" not in message.text
    assert "\n\n\n" not in message.text


def test_french_wording_and_formats():
    subject, _, body = (TEMPLATE_DIR / "fr" / "relance_1.txt").read_text(encoding="utf-8").partition("\n")
    message = render_source(subject, body, sample_context("fr"))
    assert message.subject == "Factures impayées n°\u00a0F-2026-0101 et F-2026-0117"
    assert message.text.startswith("Bonjour Madame Martin,\n\nSauf erreur ou omission de notre part")
    assert "Montant total restant dû\xa0: 1\u202f480,50\xa0€." in message.text
    assert "Règlement par virement\u00a0:\n  Bénéficiaire\u00a0: Atelier Exemple SAS\n" in message.text
    assert "Référence à indiquer\u00a0: «\u00a0RF91 CC00 1\u00a0»" in message.text
    assert '<table class="payment" data-relance="paiement"' in message.html  # not wrapped in <p>
    assert '<p><table class="payment"' not in message.html
    assert "'" not in message.text  # typographic apostrophes only
    assert '<table class="invoices">' in message.html and "<p>Bonjour Madame Martin,</p>" in message.html


def test_html_output_escapes_data():
    context = sample_context("fr")
    context["client"]["nom"] = "<script>alert(1)</script>"
    message = render_source("Objet", "Bonjour {{ client.nom }}", context)
    assert "<script>" not in message.html and "&lt;script&gt;" in message.html
    assert message.text == "Bonjour <script>alert(1)</script>"  # the text part is plain text


@pytest.mark.parametrize("body", [
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ factures.__class__ }}",
    "{{ cycler.__init__.__globals__ }}",
    "{% set _ = paiement.update({'iban': 'FR76 1111'}) %}{{ bloc_paiement }}",
    "{% set _ = factures.append({}) %}",
])
def test_sandbox_refuses_to_reach_code(body):
    with pytest.raises(TemplateProblem, match=r"accès interdit|variable inconnue"):
        validate_template("Objet", body)


def test_unknown_variable_and_syntax_error_are_reported_with_the_line():
    with pytest.raises(TemplateProblem, match="variable inconnue"):
        validate_template("Objet", "Bonjour {{ cliente.nom }}")
    with pytest.raises(TemplateProblem, match="ligne 2"):
        validate_template("Objet", "Bonjour\n{% if client.professionnel %}sans fin")


@pytest.mark.django_db
def test_an_organisation_template_replaces_the_shipped_one_and_is_validated():
    org = bare_org("o", "O")
    assert template_source(org, "relance_1", "fr")[0].startswith("{% if nombre_factures == 1 %}Facture")
    # the one service that saves a template validates it (the model does not call up into the services)
    own = save_template(org, "relance_1", "fr", "Rappel {{ client.nom }}", "{{ salutation }}\n\n{{ tableau_factures }}",
                        actor="test")
    assert template_source(org, "relance_1", "fr") == ("Rappel {{ client.nom }}", own.body)
    with pytest.raises(TemplateProblem):
        save_template(org, "relance_2", "fr", "x", "{{ ''.__class__.__mro__ }}", actor="test")
    assert not MessageTemplate.objects.filter(organisation=org, key="relance_2").exists()
