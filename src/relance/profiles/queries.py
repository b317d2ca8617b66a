"""What the customer page shows of the payer profile: the figures today, the profile they call
for, the profile imposed by a collector if any, and the scenario in force."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from relance.clock import today_for
from relance.core.profiles import PaymentHistory, choose
from relance.dunning.models import Scenario
from relance.errors import NotFound
from relance.ledger.models import Customer, Organisation

from .models import CustomerProfile, PayerProfile, ProfileOverride
from .services import history_of


@dataclass(frozen=True)
class ProfileCard:
    configured: bool  # the organisation has payer profiles
    history: PaymentHistory  # the figures as of ``history.day``
    computed: PayerProfile | None  # what the figures call for today
    assignment: CustomerProfile | None  # what the last run gave (profile, since, figures then)
    override: ProfileOverride | None  # a collector's choice, which wins
    scenario: Scenario | None  # the scenario in force (the customer's, else the default)
    profiles: list[PayerProfile]  # the organisation's profiles, in order (for the override form)

    @property
    def profile(self) -> PayerProfile | None:
        """The profile that applies: the imposed one, else the one the figures call for."""
        return self.override.profile if self.override else self.computed

    @property
    def expected_scenario_id(self) -> int | None:
        return self.profile.scenario_id if self.profile else None

    @property
    def pending(self) -> bool:
        """The scenario in force is not yet the profile's: the next daily run will switch it."""
        return self.profile is not None and (self.scenario is None or self.scenario.pk != self.profile.scenario_id)

    @property
    def share_late_percent(self) -> Decimal:
        return (self.history.share_late * 100).quantize(Decimal(1))


def customer_profile(organisation: Organisation, customer: Customer, day: date | None = None) -> ProfileCard:
    if customer.organisation_id != organisation.pk:
        raise NotFound(f"client {customer.code} introuvable")
    day = day or today_for(organisation)
    profiles = list(PayerProfile.objects.filter(organisation=organisation).select_related("scenario")
                    .order_by("position", "pk"))
    history = history_of(organisation, customer, day)
    rule = choose([p.rule() for p in profiles], customer.is_business, history)
    computed = next((p for p in profiles if rule is not None and p.pk == rule.key), None)
    assignment = CustomerProfile.objects.filter(customer=customer).select_related("profile").first()
    override = ProfileOverride.objects.filter(customer=customer).select_related("profile__scenario").first()
    scenario_id = Customer.objects.filter(pk=customer.pk).values_list("scenario_id", flat=True).first()
    scenarios = Scenario.objects.filter(organisation=organisation)
    scenario = (scenarios.filter(pk=scenario_id).first() if scenario_id else None) \
        or scenarios.filter(is_default=True).first() or scenarios.order_by("pk").first()
    return ProfileCard(bool(profiles), history, computed, assignment, override, scenario, profiles)
