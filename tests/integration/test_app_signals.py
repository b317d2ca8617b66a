"""The apps below announce, the apps above act: the receivers that replace direct imports
(ledger -> dunning/profiles at an organisation's creation, dunning -> litigation at a hand-over)."""

from __future__ import annotations

import pytest

from relance.dunning.models import Scenario
from relance.dunning.signals import handover_due
from relance.ledger.services.organisations import create_organisation
from relance.ledger.signals import invoices_settled, organisation_created
from relance.profiles.models import PayerProfile

pytestmark = pytest.mark.django_db


def _names(signal: object) -> list[str]:
    refs = [entry[1] for entry in signal.receivers]  # type: ignore[attr-defined]  # (key, ref, is_async)
    return sorted(f"{ref().__module__}.{ref().__name__}" for ref in refs)


def test_a_new_organisation_gets_its_scenarios_and_profiles_through_the_signal():
    org = create_organisation("atelier", "Atelier Dubois SAS")
    assert Scenario.objects.filter(organisation=org, is_default=True, name="Standard").exists()
    assert Scenario.objects.filter(organisation=org).count() == 3  # standard, gentle, firm
    assert PayerProfile.objects.filter(organisation=org).count() == 3


def test_each_receiver_is_connected_once():
    assert _names(organisation_created) == [
        "relance.dunning.services.scenarios.install_for_new_organisation",
        "relance.profiles.services.install_for_new_organisation",
    ]
    assert _names(handover_due) == ["relance.litigation.services.cases.on_handover_due"]
    assert "relance.litigation.services.settlement.on_invoices_settled" in _names(invoices_settled)


def test_a_failing_receiver_leaves_no_organisation(monkeypatch):
    import relance.profiles.services as profiles

    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("profils")

    monkeypatch.setattr(profiles, "install_default_profiles", boom)
    with pytest.raises(RuntimeError):
        create_organisation("atelier", "Atelier Dubois SAS")
    from relance.ledger.models import Organisation

    assert not Organisation.objects.filter(slug="atelier").exists()
    assert not Scenario.objects.exists()
