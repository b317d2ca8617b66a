"""The default French scenario, drawn from common practice (see docs/architecture.md)."""

from __future__ import annotations

from django.db import transaction

from relance.core.policy import Channel
from relance.dunning.models import Scenario, Step
from relance.ledger.models import Organisation

#: (position, offset, channel, tone, template, label, call task, attach invoices)
DEFAULT_FRENCH_STEPS = [
    (0, -7, Channel.EMAIL, 1, "avant_echeance", "Rappel avant échéance", False, False),
    (1, 7, Channel.EMAIL, 2, "relance_1", "Première relance", False, True),
    (2, 15, Channel.EMAIL, 3, "relance_2", "Deuxième relance", False, True),
    (3, 30, Channel.EMAIL, 4, "relance_3", "Troisième relance et appel", True, True),
    (4, 45, Channel.LETTER, 4, "courrier", "Lettre de relance", False, False),
    (5, 60, Channel.REGISTERED_LETTER, 5, "mise_en_demeure", "Mise en demeure (LRAR)", False, False),
    (6, 75, Channel.LITIGATION, 5, "contentieux", "Transmission au contentieux", False, False),
]


def install_default_scenario(organisation: Organisation) -> Scenario:
    with transaction.atomic():
        scenario, created = Scenario.objects.get_or_create(
            organisation=organisation, name="Standard", defaults={"is_default": True},
        )
        if created:
            Step.objects.bulk_create([
                Step(scenario=scenario, position=p, offset_days=o, channel=c.value, tone=t, template=tpl, label=lab,
                     call_task=call, attach_invoices=attach)
                for p, o, c, t, tpl, lab, call, attach in DEFAULT_FRENCH_STEPS
            ])
    return scenario
