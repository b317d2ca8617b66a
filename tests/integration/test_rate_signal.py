"""Apps do not write each other's tables: ``rates`` announces a new rate (``rates.signals.rate_added``)
and dunning's receiver puts back the reminders that waited for it."""

from __future__ import annotations

import ast
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from relance.core.law import Semester
from relance.dunning.models import Reminder
from relance.rates.models import AddedRate
from relance.rates.services import RATE_MISSING_PREFIX, add_rate
from relance.rates.signals import rate_added
from tests.builders import one_planned_reminder

RATES = Path(__file__).resolve().parents[2] / "src" / "relance" / "rates"
DAY = date(2026, 11, 19)


def _rate_blocked(tmp_path: Path, settings: Any) -> Reminder:
    _, reminder = one_planned_reminder(tmp_path, settings, DAY)
    Reminder.objects.filter(pk=reminder.pk).update(
        status=Reminder.Status.FAILED, last_error=f"{RATE_MISSING_PREFIX} : Taux manquant pour le semestre 2026-S2")
    return reminder


@pytest.mark.django_db
def test_the_signal_alone_requeues_what_waited_for_a_rate(tmp_path, settings) -> None:
    reminder = _rate_blocked(tmp_path, settings)
    other = Reminder.objects.create(organisation=reminder.organisation, customer=reminder.customer, channel="email",
                                    planned_for=DAY, idempotency_key="other", status=Reminder.Status.FAILED,
                                    last_error="550 boîte inconnue")
    rate_added.send(sender=AddedRate, semester=Semester.parse("2026-S2"), legal=False, ecb=True)
    reminder.refresh_from_db()
    other.refresh_from_db()
    assert reminder.status == Reminder.Status.PLANNED and reminder.last_error == "" and reminder.next_attempt_at is None
    assert other.status == Reminder.Status.FAILED  # another failure waits for a person


@pytest.mark.django_db
def test_adding_a_rate_sends_the_signal_with_its_semester(tmp_path, settings) -> None:
    reminder = _rate_blocked(tmp_path, settings)
    heard: list[dict[str, Any]] = []

    def listen(sender: Any, **kwargs: Any) -> None:
        heard.append(kwargs)

    rate_added.connect(listen)
    try:
        add_rate("2026-S2", ecb="2.15", source="décision BCE (test)")
    finally:
        rate_added.disconnect(listen)
    assert [(str(h["semester"]), h["legal"], h["ecb"]) for h in heard] == [("2026-S2", False, True)]
    reminder.refresh_from_db()
    assert reminder.status == Reminder.Status.PLANNED  # through dunning's receiver


def test_the_rates_app_imports_nothing_of_dunning() -> None:
    offenders = []
    for path in RATES.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module] if isinstance(node, ast.ImportFrom) and node.module else [])
            offenders += [f"{path.name}: {n}" for n in names if n.startswith("relance.dunning")]
    assert offenders == []
