"""The event log and the lock order are a base layer: they import no domain app (issue 14).

Every app writes to the event log and takes its locks through ``relance.locks``; if either
imported ``ledger``, ``dunning``… the layers would loop. The source is read with ``ast``, so an
import hidden in a function or behind ``TYPE_CHECKING`` counts too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import relance

SRC = Path(relance.__file__).parent
BASE_LAYER = [*sorted((SRC / "events").glob("*.py")), SRC / "locks.py"]
DOMAIN_APPS = ("ledger", "dunning", "holds", "banking", "channels", "rates", "profiles", "documents", "litigation",
               "operations", "web", "api", "cli", "demo")


def _imported(source: str, package: tuple[str, ...]) -> list[str]:
    """Every module this source imports, relative imports resolved against its package."""
    names = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = list(package[:len(package) - node.level + 1]) if node.level else []
            module = ".".join([*base, *(node.module.split(".") if node.module else [])])
            names.append(module)
            names.extend(f"{module}.{alias.name}" for alias in node.names)
    return names


def _domain(module: str) -> bool:
    parts = module.split(".")
    return len(parts) > 1 and parts[0] == "relance" and parts[1] in DOMAIN_APPS


@pytest.mark.parametrize("path", BASE_LAYER, ids=lambda p: str(p.relative_to(SRC)))
def test_base_layer_imports_no_domain_app(path: Path) -> None:
    package = path.relative_to(SRC.parent).with_suffix("").parts[:-1]
    assert not [m for m in _imported(path.read_text(encoding="utf-8"), package) if _domain(m)]


def test_the_check_sees_a_domain_import() -> None:
    source = ("from relance.ledger.models import Organisation\nfrom ..dunning import models\n"
              "def f():\n    import relance.banking.services\n")
    found = [m for m in _imported(source, ("relance", "events")) if _domain(m)]
    assert {"relance.ledger.models", "relance.dunning", "relance.banking.services"} <= set(found)
