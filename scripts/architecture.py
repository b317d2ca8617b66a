"""Measures of the architecture, for the notes of issue #14 and for anyone changing the layers.

``python scripts/architecture.py imports [--json]``
    The import graph of ``relance`` (grimp, the library under import-linter): modules, import
    lines, the cycles between modules (strongly connected components), the graph between the
    top-level packages (« apps ») and its back-edges — imports that go up the layer order of
    ``.importlinter``.

``python scripts/architecture.py walk [--json]``
    The walk of one reminder: a fresh SQLite database, an organisation, one overdue invoice,
    then ``plan_day`` and ``send_reminder`` (the locmem mail backend) down to the event log,
    traced with ``sys.setprofile``. A *room* is a module of ``relance``. The report counts the
    rooms visited, the calls from one room into another (all, and distinct pairs), the
    *climbs* (calls into a higher layer, or within an app from models up to services) and the
    *returns to a room left earlier* (a call into a room visited before and no longer on the
    stack).

Both measures run unchanged on any revision: ``PYTHONPATH=<checkout>/src python
scripts/architecture.py …`` measures that checkout.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any


# The layers, highest first: those of the import contract in pyproject.toml, so that the report and
# `lint-imports` read one list. (A revision without the contract is measured against this one.)
def _layers() -> list[list[str]]:
    import tomllib

    config = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text(encoding="utf-8"))
    contract = next(c for c in config["tool"]["importlinter"]["contracts"] if c["type"] == "layers")
    return [[n.strip().removeprefix("relance.") for n in layer.split("|")] for layer in contract["layers"]]


LAYERS: list[list[str]] = _layers()
TOP_LEVEL = {"settings", "urls", "wsgi", "__init__"}


def rank(module: str) -> int | None:
    parts = module.split(".")
    if len(parts) < 2 or parts[1] in TOP_LEVEL:
        return None
    for i, layer in enumerate(LAYERS):
        if parts[1] in layer:
            return len(LAYERS) - i
    return None


def app_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def _sccs(graph: dict[str, set[str]]) -> list[list[str]]:
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = [0]
    sys.setrecursionlimit(10000)

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in list(graph):
        if v not in index:
            visit(v)
    return sorted(out, key=len, reverse=True)


def imports_report() -> dict[str, Any]:
    import grimp

    graph = grimp.build_graph("relance", include_external_packages=False, exclude_type_checking_imports=True)
    modules = sorted(m for m in graph.modules if ".migrations" not in m)
    edges: dict[str, set[str]] = {m: set() for m in modules}
    lines = 0
    for m in modules:
        for target in graph.find_modules_directly_imported_by(m):
            if ".migrations" in target or target == m:
                continue
            edges[m].add(target)
            lines += len(graph.get_import_details(importer=m, imported=target)) or 1
    cycles = _sccs(edges)
    apps: dict[tuple[str, str], int] = Counter()
    back: list[dict[str, Any]] = []
    for m, targets in edges.items():
        for t in targets:
            a, b = app_of(m), app_of(t)
            if a != b:
                apps[(a, b)] += 1
            ra, rb = rank(m), rank(t)
            if a != b and ra is not None and rb is not None and rb > ra:
                back.append({"importer": m, "imported": t})
    app_graph: dict[str, set[str]] = {}
    for (a, b) in apps:
        app_graph.setdefault(a, set()).add(b)
    sizes = {}
    import relance

    root = Path(relance.__file__ or "").parent
    for m in modules:
        rel = Path(*m.split(".")[1:])
        path = root / rel / "__init__.py" if (root / rel).is_dir() else root / f"{rel}.py"
        if path.exists():
            sizes[m] = sum(1 for _ in path.open(encoding="utf-8"))
    per_app: Counter[str] = Counter()
    for m, n in sizes.items():
        per_app[app_of(m)] += n
    return {
        "modules": len(modules),
        "import_edges": sum(len(t) for t in edges.values()),
        "import_statements": lines,
        "module_cycles": [{"size": len(c), "modules": c} for c in cycles],
        "app_cycles": [c for c in _sccs(app_graph)],
        "back_edges": sorted(back, key=lambda e: (e["importer"], e["imported"])),
        "app_edges": sorted(f"{a} -> {b} ({n})" for (a, b), n in apps.items()),
        "lines_per_app": dict(per_app.most_common()),
        "largest_modules": sorted(sizes.items(), key=lambda kv: -kv[1])[:15],
    }


def _setup_django(workdir: Path) -> None:
    os.environ["RELANCE_DATA_DIR"] = str(workdir / "data")
    os.environ["RELANCE_SQLITE_PATH"] = str(workdir / "walk.sqlite3")
    os.environ.pop("DATABASE_URL", None)
    os.environ["DJANGO_SETTINGS_MODULE"] = "relance.settings"
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.MEDIA_ROOT = str(workdir / "media")
    call_command("migrate", verbosity=0)


CUSTOMERS = ("Code client;Raison sociale;Type;SIREN;Adresse;Code postal;Ville;Contact;Fonction;Email\n"
             "C001;Boulangerie Martin SARL;entreprise;732829320;12 rue des Lilas;69003;Lyon;Mme Claire Martin;"
             "Gérante;claire.martin@boulangerie-martin.test\n")
INVOICES = ("Numéro facture;Code client;Date;Échéance;Montant TTC;Libellé\n"
            "F-1;C001;2026-10-01;2026-10-31;900;Prestation F-1\n")


def sub_rank(module: str) -> int:
    """Within an app: models (0) under services (1) under the rest (tasks, handlers, queries…)."""
    parts = module.split(".")
    if len(parts) > 2 and parts[2] in {"models", "signals", "apps"}:
        return 0
    if len(parts) > 2 and parts[2] == "services":
        return 1
    return 2


def climbs(caller: str, callee: str) -> bool:
    """A call that goes up: into a higher layer, or within an app from models to services and up."""
    a, b = rank(caller), rank(callee)
    if a is None or b is None:
        return False
    if app_of(caller) != app_of(callee):
        return b > a
    return sub_rank(callee) > sub_rank(caller)


class Tracer:
    """Follows the innermost ``relance`` frame. Each call from one room into another is a move;
    it climbs when ``climbs()``; it returns to a room left earlier when that room was visited
    before and is no longer on the stack (its work was done and the walk comes back to it)."""

    def __init__(self) -> None:
        self.stack: list[str] = []
        self.rooms: list[str] = []
        self.seen: set[str] = set()
        self.moves = 0
        self.climbs = 0
        self.returns = 0
        self.edges: set[tuple[str, str]] = set()
        self.climb_edges: set[tuple[str, str]] = set()
        self.return_edges: set[tuple[str, str]] = set()

    def _room(self) -> str:
        for m in reversed(self.stack):
            if m:
                return m
        return ""

    def __call__(self, frame: Any, event: str, arg: Any) -> None:
        if event == "call":
            name = frame.f_globals.get("__name__", "")
            module = name if name.startswith("relance.") and ".migrations" not in name else ""
            caller = self._room()
            on_stack = module in self.stack
            self.stack.append(module)
            if not module or module == caller:
                return
            if module not in self.seen:
                self.rooms.append(module)
            elif not on_stack:
                self.returns += 1
                self.return_edges.add((caller, module))
            self.seen.add(module)
            if caller:
                self.moves += 1
                self.edges.add((caller, module))
                if climbs(caller, module):
                    self.climbs += 1
                    self.climb_edges.add((caller, module))
        elif event == "return" and self.stack:
            self.stack.pop()


def walk_report() -> dict[str, Any]:
    from datetime import date, datetime
    from zoneinfo import ZoneInfo

    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        _setup_django(workdir)
        from relance import clock
        from relance.dunning.models import Reminder
        from relance.dunning.services.dispatcher import send_reminder
        from relance.dunning.services.planner import plan_day
        from relance.dunning.services.scenarios import install_default_scenario
        from relance.ledger.models import Organisation
        from relance.ledger.services.imports import import_file

        org = Organisation.objects.create(
            slug="atelier", legal_name="Atelier Dubois SAS", legal_form="SAS au capital de 10 000 €",
            siren="552100554", address1="5 place Bellecour", postal_code="69002", city="Lyon",
            iban="FR7630006000011234567890189", bic="AGRIFRPP", sender_name="Atelier Dubois",
            sender_email="compta@atelier-dubois.test", signature_name="Sophie Laurent",
            signature_title="Responsable comptable")
        install_default_scenario(org)
        (workdir / "clients.csv").write_text(CUSTOMERS, encoding="utf-8")
        (workdir / "factures.csv").write_text(INVOICES, encoding="utf-8")
        import_file(org, workdir / "clients.csv")  # the file gives each customer's kind (« Type »)
        import_file(org, workdir / "factures.csv")
        day = date(2026, 11, 9)
        now = datetime(2026, 11, 9, 9, 0, tzinfo=ZoneInfo("Europe/Paris"))
        # the services were imported above, before the trace starts (a function-level import still counts)
        with clock.frozen(now):
            tracer = Tracer()
            sys.setprofile(tracer)
            try:
                plan_day(org, day)
                reminder = Reminder.objects.get()
                outcome = send_reminder(reminder.id, now)
            finally:
                sys.setprofile(None)
        from relance.events.models import Event

        kinds = list(Event.objects.filter(organisation=org).order_by("seq").values_list("kind", flat=True))
        by_app: Counter[str] = Counter(app_of(m) for m in tracer.rooms)
        return {
            "outcome": outcome,
            "rooms": len(tracer.rooms),
            "rooms_per_app": dict(by_app.most_common()),
            "calls_between_rooms": tracer.moves,
            "distinct_room_to_room_calls": len(tracer.edges),
            "climbs": tracer.climbs,
            "distinct_climbs": sorted(f"{a} -> {b}" for a, b in tracer.climb_edges),
            "returns_to_a_room_left": tracer.returns,
            "distinct_returns": len(tracer.return_edges),
            "room_list": tracer.rooms,
            "events": kinds,
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("what", choices=["imports", "walk"])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    report = imports_report() if args.what == "imports" else walk_report()
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
        return
    for key, value in report.items():
        if isinstance(value, list) and len(value) > 12:
            print(f"{key}: {len(value)}")
            for item in value[:40]:
                print(f"   {item}")
        else:
            print(f"{key}: {value}")


if __name__ == "__main__":
    main()
