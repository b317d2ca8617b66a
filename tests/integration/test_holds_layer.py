"""``relance.holds`` sits below ``relance.dunning``: it never imports it, and announces what its
services did through ``holds/signals.py``; dunning's receivers are connected once, in
``DunningConfig.ready``, and holds' own receivers of the ledger once, in ``HoldsConfig.ready``."""

from __future__ import annotations

import ast
import weakref
from pathlib import Path

from django.apps import apps
from django.dispatch import Signal

import relance.holds
from relance.holds.signals import hold_started, instalment_due, instalment_notice, plan_ended, promise_broken
from relance.ledger.signals import collective_holds, invoices_moved, invoices_settled

HOLDS = Path(relance.holds.__file__).parent


def _package_of(path: Path) -> str:
    package = "relance." + ".".join(path.relative_to(HOLDS.parent).with_suffix("").parts)
    return package if path.name == "__init__.py" else package.rsplit(".", 1)[0]


def _imported(source: str, package: str) -> list[str]:
    """Every module ``source`` imports (at the top or inside a function), relative ones resolved
    from ``package``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
            module = node.module or ""
            full = module if node.level == 0 else ".".join(x for x in (base, module) if x)
            found += [full, *(f"{full}.{alias.name}" for alias in node.names)]
    return found


def test_holds_imports_nothing_from_dunning():
    paths = sorted(HOLDS.rglob("*.py"))
    assert len(paths) > 10
    offenders = [f"{path.relative_to(HOLDS.parent)}: {name}" for path in paths
                 for name in _imported(path.read_text(encoding="utf-8"), _package_of(path))
                 if name == "relance.dunning" or name.startswith("relance.dunning.")]
    assert offenders == []


def test_holds_reads_no_reminder_through_its_relations():
    """Dunning's reminders point at holds' rows (``Reminder.instalment``, ``.promise``, ``.plan``,
    related name ``reminders``): holds never follows that relation back, it would read dunning's
    kinds and statuses. It asks instead (``signals.instalment_notice``)."""
    offenders = [f"{path.relative_to(HOLDS.parent)}:{node.lineno}" for path in sorted(HOLDS.rglob("*.py"))
                 for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
                 if isinstance(node, ast.Attribute) and node.attr == "reminders"]
    assert offenders == []


def test_the_walk_sees_relative_and_late_imports():
    sample = HOLDS / "services" / "holds.py"
    assert _package_of(sample) == "relance.holds.services"
    assert "relance.holds.models" in _imported(sample.read_text(encoding="utf-8"), _package_of(sample))
    probe = "from ...dunning import models\ndef f():\n    import relance.dunning.tasks\n"
    assert {"relance.dunning", "relance.dunning.models", "relance.dunning.tasks"} <= set(
        _imported(probe, "relance.holds.services"))


def _receivers(signal: Signal) -> list[str]:
    """The receivers of ``signal``, in the order they run (``(key, weak reference, is_async)``)."""
    names = []
    for _key, ref, _is_async in signal.receivers:
        receiver = ref() if isinstance(ref, weakref.ReferenceType) else ref
        names.append(f"{receiver.__module__}.{receiver.__qualname__}")
    return names


EXPECTED = {
    "invoices_settled": (invoices_settled, ["relance.holds.services.settlement.keep_promises_and_refresh_plans",
                                            "relance.dunning.handlers.stop_chasing_settled_invoices",
                                            "relance.litigation.services.settlement.on_invoices_settled"]),
    "invoices_moved": (invoices_moved, ["relance.dunning.handlers.cancel_reminders_of_moved_invoices"]),
    "collective_holds": (collective_holds, ["relance.holds.services.collective.pause_collective_accounts"]),
    "hold_started": (hold_started, ["relance.dunning.handlers.withdraw_held_from_approval"]),
    "plan_ended": (plan_ended, ["relance.dunning.handlers.cancel_messages_of_ended_plan"]),
    "promise_broken": (promise_broken, ["relance.dunning.handlers.plan_promise_broken_message"]),
    "instalment_due": (instalment_due, ["relance.dunning.handlers.plan_instalment_message"]),
    "instalment_notice": (instalment_notice, ["relance.dunning.handlers.answer_instalment_notice"]),
}


def test_each_receiver_is_connected_exactly_once_and_in_order():
    # the ready() of both apps again (as a second setup would): still once each
    apps.get_app_config("holds").ready()
    apps.get_app_config("dunning").ready()
    import relance.dunning.models  # noqa: F401  (importing the models connects nothing)
    for name, (signal, expected) in EXPECTED.items():
        connected = _receivers(signal)
        assert connected == expected, name  # holds before dunning on a settlement: promises, plans, then messages
