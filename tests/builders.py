"""Small builders for integration tests: an organisation and CSV files to import."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from relance.dunning.services.scenarios import install_default_scenario
from relance.ledger.models import Organisation

CUSTOMERS_CSV = """Code client;Raison sociale;Type;SIREN;Adresse;Code postal;Ville;Contact;Fonction;Email;Téléphone
C001;Boulangerie Martin SARL;entreprise;732829320;12 rue des Lilas;69003;Lyon;Mme Claire Martin;Gérante;\
claire.martin@boulangerie-martin.test;04 72 00 00 01
C002;Garage du Centre;entreprise;;3 avenue Jean Jaurès;69007;Lyon;M. Paul Durand;Comptable;compta@garageducentre.test;
C003;Jean Petit;particulier;;8 impasse des Roses;69100;Villeurbanne;M. Jean Petit;;;
"""


def make_org(slug: str = "atelier", **fields: object) -> Organisation:
    values: dict[str, object] = dict(
        legal_name="Atelier Dubois SAS", legal_form="SAS au capital de 10 000 €", siren="552100554",
        address1="5 place Bellecour", postal_code="69002", city="Lyon", iban="FR7630006000011234567890189",
        bic="AGRIFRPP", sender_name="Atelier Dubois — Comptabilité", sender_email="compta@atelier-dubois.test",
        reply_to_email="recouvrement@atelier-dubois.test", phone="04 78 00 00 00",
        signature_name="Sophie Laurent", signature_title="Responsable comptable",
    )
    values.update(fields)
    org = Organisation.objects.create(slug=slug, **values)
    install_default_scenario(org)
    return org


def write(tmp_path: Path, name: str, content: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_text(content, encoding=encoding)
    return path


def invoices_csv(rows: list[tuple[str, str, str, str, str]]) -> str:
    """rows of (number, customer, issue date, due date, amount TTC)."""
    lines = ["Numéro facture;Code client;Date;Échéance;Montant TTC;Libellé"]
    lines += [f"{n};{c};{d};{e};{a};Prestation {n}" for n, c, d, e, a in rows]
    return "\n".join(lines) + "\n"


def one_planned_reminder(tmp_path: Path, settings: Any, day: date) -> tuple[Organisation, Any]:
    """An organisation with customer C001, one invoice F-1 of 900 € due 31 October 2026, and the
    one reminder planned for it on ``day`` (documents written under ``tmp_path``)."""
    from relance.dunning.models import Reminder
    from relance.dunning.services.planner import plan_day
    from relance.ledger.services.imports import import_file

    settings.MEDIA_ROOT = tmp_path / "media"
    org = make_org()
    import_file(org, write(tmp_path, "clients.csv", CUSTOMERS_CSV))
    import_file(org, write(tmp_path, "factures.csv", invoices_csv([("F-1", "C001", "2026-10-01", "2026-10-31", "900")])))
    plan_day(org, day)
    return org, Reminder.objects.get()
