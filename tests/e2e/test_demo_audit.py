"""``relance demo`` replays months of collection; ``relance audit`` then finds no broken rule in
its history, and the history shows the whole range of steps (issue #10)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from relance.cli.main import main
from relance.demo.run import DEMO_DATE, run_demo
from relance.dunning.models import Reminder
from relance.litigation.models import LitigationCase

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_demo_history_breaks_no_escalation_rule(tmp_path: Path, settings: Any,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    settings.MEDIA_ROOT = tmp_path / "fichiers"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    summary = run_demo(tmp_path / "demo")
    assert main(["audit", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["violations"] == 0
    assert report["organisations"][0]["messages"] > 100
    sent = Reminder.objects.filter(status=Reminder.Status.SENT, kind=Reminder.Kind.REMINDER)
    channels = set(sent.values_list("channel", flat=True))
    assert {"email", "letter", "registered_letter"} <= channels  # reminders, a letter, formal notices
    assert LitigationCase.objects.exists()  # and cases handed over
    # the demo day itself shows a formal notice and a hand-over, as the README says
    today = {r["channel"] for r in summary.today}
    assert {"email", "registered_letter"} <= today
    assert LitigationCase.objects.filter(opened_on=DEMO_DATE).exists()
    # the inbox of the demo day: five replies, three waiting for a person (a contested amount, an invoice never
    # received, an unknown sender), the promise and the out-of-office applied
    from relance.replies.models import Reply

    assert sorted(Reply.objects.values_list("category", "state")) == [
        ("absence", "traitee"), ("autre", "a_rattacher"), ("litige", "a_traiter"), ("non_recu", "a_traiter"),
        ("promesse", "traitee")]
    assert (summary.replies, summary.replies_waiting) == (5, 3)
