"""An organisation's scenarios read once: their steps and escalation rules, by scenario."""

from __future__ import annotations

from dataclasses import dataclass, field

from relance.core.escalation import Rules
from relance.core.policy import StepSpec
from relance.dunning.models import Scenario, Step
from relance.ledger.models import Organisation


def rules_of(organisation: Organisation, scenario: Scenario | None) -> Rules:
    """The escalation settings of a scenario (``core.escalation.Rules``)."""
    return Rules(min_gap_days=organisation.min_gap_days,
                 entry_position=scenario.late_entry_position if scenario is not None else None)


@dataclass
class ScenarioBook:
    default_id: int | None
    specs: dict[int, list[StepSpec]] = field(default_factory=dict)
    steps: dict[tuple[int, int], Step] = field(default_factory=dict)
    rules: dict[int, Rules] = field(default_factory=dict)

    @classmethod
    def load(cls, organisation: Organisation) -> ScenarioBook:
        scenarios = list(Scenario.objects.filter(organisation=organisation).prefetch_related("steps"))
        default = next((s for s in scenarios if s.is_default), scenarios[0] if scenarios else None)
        book = cls(default.id if default else None)
        for s in scenarios:
            steps = list(s.steps.all())
            book.specs[s.id] = [st.spec() for st in steps]
            book.rules[s.id] = rules_of(organisation, s)
            for st in steps:
                book.steps[(s.id, st.position)] = st
        return book

    def scenario_of(self, scenario_id: int | None) -> int | None:
        return scenario_id if scenario_id in self.specs else self.default_id
