"""Rules of the house that a test can hold."""

from __future__ import annotations

import ast
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

CORE = Path(__file__).resolve().parents[2] / "src" / "relance" / "core"
APPS = {"django", "relance.settings"} | {f"relance.{p.name}" for p in CORE.parent.iterdir()
                                          if (p / "__init__.py").exists() and p.name != "core"}


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


SRC = Path(__file__).resolve().parents[2] / "src" / "relance"
PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"


def _packages() -> list[str]:
    """Every package and top-level module of relance, as the contract names them."""
    names = [p.name for p in SRC.iterdir() if p.is_dir() and (p / "__init__.py").exists() and p.name != "locale"]
    names += [p.stem for p in SRC.glob("*.py") if p.stem not in {"__init__", "settings", "urls", "wsgi"}]
    return sorted(names)


def _contract_layers() -> list[list[str]]:
    import tomllib

    config = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["tool"]["importlinter"]
    layers = next(c for c in config["contracts"] if c["type"] == "layers")["layers"]
    return [[name.strip().removeprefix("relance.") for name in layer.split("|")] for layer in layers]


def test_every_app_has_its_place_in_the_layers():
    placed = [name for layer in _contract_layers() for name in layer]
    assert sorted(set(placed)) == sorted(placed), "a package is named twice in the layers"
    assert sorted(placed) == _packages(), "each package of src/relance is in exactly one layer of [tool.importlinter]"


def test_every_app_says_what_it_is_for():
    """Each app opens with a short note: what it is for and how data flows through it."""
    missing = []
    for name in _packages():
        init = SRC / name / "__init__.py"
        if not init.exists():
            continue
        doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8"))) or ""
        if len(doc.split()) < 15:
            missing.append(name)
    assert missing == []


def test_the_import_contracts_hold():
    """The layers of pyproject.toml, checked as `make lint` checks them (import-linter)."""
    import subprocess
    import sys

    lint = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run([str(lint), "--no-cache"], cwd=PYPROJECT.parent, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
