"""Every invoice and customer gets its payment reference (« RF… ») now.

Until now a reference missing on an old invoice or customer was assigned while a reminder was
being composed; references are assigned when invoices and customers are created
(``ledger.services.references``) and composing only reads them. This gives one to those created
before, by the same rule: from the invoice number (``C`` + the code for a customer), or from the
database id when that is impossible or already used in the organisation.
"""

from django.db import migrations

from relance.core.references import PaymentReferenceError, make_rf, make_rf_lenient


def _pick(preferred: str, fallback: str, used: set[str]) -> str:
    try:
        rf = make_rf_lenient(preferred)
    except PaymentReferenceError:
        rf = ""
    if not rf or rf in used:
        rf = make_rf(fallback)
    used.add(rf)
    return rf


def fill(apps, schema_editor) -> None:  # type: ignore[no-untyped-def]
    Invoice = apps.get_model("ledger", "Invoice")
    Customer = apps.get_model("ledger", "Customer")
    db = schema_editor.connection.alias
    organisations = (set(Invoice.objects.using(db).filter(payment_reference="").values_list("organisation_id", flat=True))
                     | set(Customer.objects.using(db).filter(payment_reference="")
                           .values_list("organisation_id", flat=True)))
    for org_id in sorted(organisations):
        invoices = Invoice.objects.using(db).filter(organisation_id=org_id)
        customers = Customer.objects.using(db).filter(organisation_id=org_id)
        used = set(invoices.exclude(payment_reference="").values_list("payment_reference", flat=True))
        used |= set(customers.exclude(payment_reference="").values_list("payment_reference", flat=True))
        todo_invoices = list(invoices.filter(payment_reference="").only("id", "number").order_by("id"))
        todo_customers = list(customers.filter(payment_reference="").only("id", "code").order_by("id"))
        for invoice in todo_invoices:
            invoice.payment_reference = _pick(invoice.number, f"F{invoice.id}", used)
        for customer in todo_customers:
            customer.payment_reference = _pick(f"C{customer.code}", f"K{customer.id}", used)
        Invoice.objects.using(db).bulk_update(todo_invoices, ["payment_reference"], batch_size=1000)
        Customer.objects.using(db).bulk_update(todo_customers, ["payment_reference"], batch_size=1000)


class Migration(migrations.Migration):
    dependencies = [
        ("ledger", "0009_organisation_run_at"),
    ]

    operations = [
        migrations.RunPython(fill, migrations.RunPython.noop, elidable=True),
    ]
