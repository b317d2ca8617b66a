"""The daily job of an organisation: payer profiles, then planning, then sending. One function
for the CLI, the scheduler, the demo and tests; it sits above dunning and profiles because it
drives both (and checks the « déjà payé » replies whose wait for the bank statement is over)."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from django.db import transaction

from relance import clock
from relance.clock import today_for, zone_of
from relance.dunning.services.dispatcher import DispatchReport, dispatch_now, enqueue_due, outcome_report
from relance.dunning.services.planner import PlanReport, plan_day
from relance.ledger.models import Organisation
from relance.profiles.services import AssignReport, assign_profiles
from relance.replies.services.follow_up import follow_paid_claims


@dataclass
class DayReport:
    plan: PlanReport
    dispatch: DispatchReport | None
    profiles: AssignReport | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"plan": self.plan.as_dict(), "dispatch": self.dispatch.as_dict() if self.dispatch else None,
                "profiles": self.profiles.as_dict() if self.profiles else None}


def moment_of(organisation: Organisation, day: date) -> datetime:
    """The instant the day's work happens: now for today, local noon for another day."""
    if day == today_for(organisation):
        return clock.now()
    return datetime.combine(day, time(12, 0), tzinfo=zone_of(organisation))


def run_day(organisation: Organisation, day: date, *, dry_run: bool = False, queue: bool = True,
            skip_channels: Sequence[str] = ()) -> DayReport:
    """``skip_channels``: channels the pre-flight checks hold back (no SMTP server, no letterhead):
    their reminders are planned but not sent (``relance.operations.doctor.preflight``)."""
    now = moment_of(organisation, day)
    # another day is simulated: the clock shows it; today the clock runs, so that each message is
    # stamped with the moment it left (dispatcher: sent_at)
    with clock.frozen(now) if day != today_for(organisation) else nullcontext():
        if dry_run:
            # the profiles of the day are applied, the plan shown, and everything rolled back
            with transaction.atomic():
                profiles = assign_profiles(organisation, day)
                plan = plan_day(organisation, day, dry_run=True)
                transaction.set_rollback(True)
            return DayReport(plan, None, profiles)
        profiles = assign_profiles(organisation, day)
        follow_paid_claims(organisation, day)
        plan = plan_day(organisation, day)
        if not queue:
            return DayReport(plan, dispatch_now(organisation, now, skip_channels), profiles)
        ids = enqueue_due(organisation, now, skip_channels)
    from django.core.management import call_command

    call_command("db_worker", batch=True, startup_delay=False, reload=False, verbosity=0)
    return DayReport(plan, outcome_report(ids), profiles)
