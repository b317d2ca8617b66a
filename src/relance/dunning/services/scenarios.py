"""Install the default French scenario (defined in ``relance.core.policy``) for an organisation."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from relance.core.policy import DEFAULT_FRENCH_SCENARIO
from relance.dunning.models import Scenario, Step
from relance.ledger.models import Organisation


def install_default_scenario(organisation: Organisation) -> Scenario:
    with transaction.atomic():
        scenario, created = Scenario.objects.get_or_create(
            organisation=organisation, name="Standard", defaults={"is_default": True},
        )
        if created:
            Step.objects.bulk_create([
                Step(scenario=scenario, position=d.spec.position, offset_days=d.spec.offset_days,
                     channel=d.spec.channel, tone=d.spec.tone, template=d.template, label=d.label,
                     call_task=d.spec.call_task, attach_invoices=d.attach_invoices)
                for d in DEFAULT_FRENCH_SCENARIO
            ])
    return scenario


def install_for_new_organisation(sender: Any, organisation: Organisation, **kwargs: Any) -> None:
    """Receiver of ``ledger.signals.organisation_created``."""
    install_default_scenario(organisation)
