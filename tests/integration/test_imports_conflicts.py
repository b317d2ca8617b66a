"""An import tells « déjà enregistré » (nothing to do) from a real conflict (review of issue
#12): a payment or credit note refused by the ledger is the file's error, naming its line —
never counted « déjà connu » and silently dropped."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from relance.errors import AlreadyRecorded, Conflict, ImportRejected
from relance.ledger.models import CreditNote, Invoice, Payment
from relance.ledger.services.imports import import_file
from relance.ledger.services.payments import record_payment
from tests.builders import CUSTOMERS_CSV, invoices_csv, make_org, write

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def ledger(tmp_path):
    org = make_org()
    import_file(org, write(tmp_path, "clients.csv", CUSTOMERS_CSV))
    import_file(org, write(tmp_path, "factures.csv", invoices_csv([
        ("F-1", "C001", "2026-10-01", "2026-10-31", "900"), ("F-2", "C002", "2026-10-01", "2026-10-31", "500")])))
    import_file(org, write(tmp_path, "p0.csv", "Référence;Code client;Date;Montant;Facture\n"
                                              "VIR-0;C001;05/11/2026;500,00;F-1\n"))
    # F-1 corrected to less than it already received (an edit made outside relance): any new
    # settlement of it exceeds its amount
    Invoice.objects.filter(number="F-1").update(amount_incl_tax=D("300"))
    return org


def test_a_payment_refused_by_the_ledger_is_the_files_error_naming_its_line(ledger, tmp_path):
    path = write(tmp_path, "paiements.csv", "Référence;Code client;Date;Montant;Facture\n"
                                            "VIR-0;C001;05/11/2026;500,00;F-1\n"
                                            "VIR-1;C002;06/11/2026;100,00;F-2\n"
                                            "VIR-2;C001;07/11/2026;100,00;F-1\n")
    with pytest.raises(ImportRejected) as caught:
        import_file(ledger, path)
    (problem,) = caught.value.problems
    assert problem.line == 4
    assert "VIR-2" in problem.message and "dépassent son montant" in problem.message
    assert "lignes précédentes sont enregistrées" in caught.value.message
    assert caught.value.exit_code == 4
    assert sorted(Payment.objects.values_list("reference", flat=True)) == ["VIR-0", "VIR-1"]


def test_a_credit_note_refused_by_the_ledger_is_the_files_error(ledger, tmp_path):
    path = write(tmp_path, "avoirs.csv", "Numéro avoir;Code client;Date;Montant TTC;Facture\n"
                                         "AV-1;C001;07/11/2026;50,00;F-1\n")
    with pytest.raises(ImportRejected) as caught:
        import_file(ledger, path, kind="credit_notes")
    assert caught.value.problems[0].line == 2 and "AV-1" in caught.value.problems[0].message
    assert not CreditNote.objects.exists()


def test_already_recorded_is_a_conflict_of_its_own(ledger):
    customer = Payment.objects.get(reference="VIR-0").customer
    with pytest.raises(AlreadyRecorded) as caught:
        record_payment(ledger, customer, "VIR-0", Payment.objects.get().date, D("10"))
    assert isinstance(caught.value, Conflict) and caught.value.exit_code == 6
