"""The template editor's bounds (issue #11, docs/security.md): render time, output size, sizes of the values
a template builds, one text (no include/import/extends); every template error is the editor's own message
(400, or the JSON ``error`` of the live preview), never HTTP 500."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from relance.dunning.models import MessageTemplate
from relance.dunning.services import sandbox
from relance.dunning.services.messages import TemplateProblem, validate_template
from relance.ledger.models import Membership, Organisation
from tests.builders import make_org, make_user

pytestmark = pytest.mark.django_db

HOSTILE = {
    "include": ('{% include "relance_1" %}', "un seul texte"),
    "import": ('{% import "x" as m %}{{ m.a }}', "un seul texte"),
    "from": ('{% from "x" import a %}', "un seul texte"),
    "extends": ('{% extends "base" %}', "un seul texte"),
    "nested loops": ("{% for a in range(10000) %}{% for b in range(10000) %}{% for c in range(10000) %}"
                     "{% endfor %}{% endfor %}{% endfor %}", "rendu trop long"),
    "huge range": ("{% for i in range(10**9) %}{{ i }}{% endfor %}", "range() trop long"),
    "output": ("{% for a in range(10000) %}{% for b in range(100) %}xxxxxxxxxx{% endfor %}{% endfor %}",
               "texte produit trop long"),
    "string repeat": ('{{ "x" * 1000000000 }}', "trop grand"),
    "list repeat": ("{{ ([1] * 100000000)|length }}", "trop grand"),
    "power": ("{{ 9 ** 999999999 }}", "nombre trop grand"),
    "big int to text": ("{% set a = 2 ** 3999 %}{{ a * a * a }}", "trop grand"),
    "big int product": ("{% set a = 2 ** 3999 %}{{ a * a * a * a * a }}", "trop grand"),
    "printf width": ('{{ "%0999999999d" % 1 }}', "largeur"),
    "printf star": ('{{ "%*d" % (999999999, 1) }}', "largeur"),
    "format filter": ('{{ "%999999999s"|format("a") }}', "largeur"),
    "str.format width": ('{{ "{:>999999999}".format("a") }}', "largeur"),
    "ljust": ('{{ "a".ljust(999999999) }}', "trop grand"),
    "center filter": ('{{ "a"|center(999999999) }}', "trop grand"),
    "indent filter": ('{{ "a\nb"|indent(999999999) }}', "trop grand"),
    "concatenation": ('{% set s = "x" * 90000 %}{{ s + s }}', "trop grand"),
    "recursion": ("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}", "récursion"),
    "division": ("{{ 1 / 0 }}", "division par zéro"),
    "float overflow": ("{{ (10 ** 400) / 3 }}", "trop grand"),
    "int filter": ('{{ "1e999999"|float|int }}', "erreur pendant le rendu"),  # Jinja folds it to `inf`
    "attribute": ("{{ client.__class__ }}", "modèle"),
    "syntax": ("{% for %}", "erreur de syntaxe"),
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_templates_are_the_editors_own_error(name: str) -> None:
    body, expected = HOSTILE[name]
    started = time.monotonic()
    with pytest.raises(TemplateProblem) as err:
        validate_template("Objet", body)
    assert expected in err.value.message, err.value.message
    assert time.monotonic() - started < 3 * sandbox.RENDER_SECONDS + 2  # three renders at most


def test_ordinary_templates_still_render() -> None:
    rendered = validate_template("Facture {{ factures[0].numero }}",
                                 "{{ salutation }}\n\n{{ tableau_factures }}\n\n{{ '%.2f' % 3.14159 }} "
                                 "{{ '{:>5}'.format('a') }} {{ 'ab' * 3 }} {{ 2 ** 10 }} {{ 'x'|center(9) }}")
    assert "3.14" in rendered.text and "    a" in rendered.text and "ababab" in rendered.text and "1024" in rendered.text


def test_tracing_is_restored_after_a_render() -> None:
    import sys

    before = sys.gettrace()
    validate_template("Objet", "{{ salutation }}")
    with pytest.raises(TemplateProblem):
        validate_template("Objet", "{{ 1 / 0 }}")
    assert sys.gettrace() is before


@pytest.fixture
def admin_client(client: Client) -> tuple[Client, Organisation]:
    org = make_org()
    client.force_login(make_user("boss", org, role=Membership.Role.ADMIN))
    return client, org


@pytest.mark.parametrize("name", ["include", "extends", "nested loops", "output", "string repeat", "power",
                                  "recursion", "division", "printf width", "big int to text"])
def test_web_editor_and_preview_answer_with_the_problem(admin_client: tuple[Client, Organisation], name: str,
                                                        settings: Any) -> None:
    client, org = admin_client
    settings.DEBUG_PROPAGATE_EXCEPTIONS = False
    body, expected = HOSTILE[name]
    preview = client.post(reverse("web:template_preview", kwargs={"key": "relance_1", "language": "fr"}),
                          {"subject": "Objet", "body": body})
    assert preview.status_code == 200  # the live preview's JSON carries the problem for the page's script
    assert expected in json.loads(preview.content)["error"]
    page = client.post(reverse("web:template", kwargs={"key": "relance_1", "language": "fr"}),
                       {"subject": "Objet", "body": body, "action": "save"})
    assert page.status_code == 400
    assert expected in page.content.decode().replace("&#x27;", "'").replace("&quot;", '"')
    assert not MessageTemplate.objects.filter(organisation=org, key="relance_1").exists()
