"""Dunning's receiver of ``rates.signals.rate_added`` (connected in ``DunningConfig.ready``).

A formal notice must state its figures: without the rate of a semester it fails, its
``last_error`` starting with ``RATE_MISSING_PREFIX`` (``compose._charges``). When a rate is
added, those reminders go back to ``PLANNED``, due at once; the next run sends them (one still
missing another semester's rate fails again, saying which). ``rates`` writes no reminder itself.
"""

from __future__ import annotations

from typing import Any

from relance.core.law import Semester
from relance.rates.services import RATE_MISSING_PREFIX

from .models import Reminder


def requeue_rate_blocked(sender: Any, *, semester: Semester, **kwargs: Any) -> int:
    """Reminders that failed only because a rate was missing go back to the queue."""
    return Reminder.objects.filter(status=Reminder.Status.FAILED, last_error__startswith=RATE_MISSING_PREFIX).update(
        status=Reminder.Status.PLANNED, next_attempt_at=None, last_error="")
