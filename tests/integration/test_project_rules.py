"""Rules of the house that a test can hold."""

from __future__ import annotations

import ast
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

CORE = Path(__file__).resolve().parents[2] / "src" / "relance" / "core"
APPS = {"django", "relance.ledger", "relance.dunning", "relance.events", "relance.channels", "relance.documents",
        "relance.web", "relance.api", "relance.cli", "relance.settings"}


def test_core_imports_no_django_and_no_app():
    offenders = []
    for path in CORE.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            offenders += [f"{path.name}: {n}" for n in names if any(n == a or n.startswith(a + ".") for a in APPS)]
    assert offenders == []


@pytest.mark.django_db
def test_every_model_change_has_its_migration():
    out = StringIO()
    try:
        call_command("makemigrations", "--check", "--dry-run", stdout=out, stderr=out)
    except SystemExit as exc:  # makemigrations --check exits 1 when a migration is missing
        pytest.fail(f"model changes without a migration:\n{out.getvalue()} (exit {exc.code})")
