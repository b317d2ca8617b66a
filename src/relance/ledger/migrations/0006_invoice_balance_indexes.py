# Indexes that the list pages read instead of the invoice table (issue #5): the customer list's
# balances, the dashboard's aging and outstanding, the DSO window. The first one replaces
# ``invoice_customer_status`` (same leading columns, two more).

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("ledger", "0005_organisation_test_mode_email"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="invoice",
            name="invoice_customer_status",
        ),
        migrations.AddIndex(
            model_name="invoice",
            index=models.Index(fields=["organisation", "customer", "status", "due_date", "amount_due"],
                               name="invoice_customer_balance"),
        ),
        migrations.AddIndex(
            model_name="invoice",
            index=models.Index(fields=["organisation", "status", "due_date", "amount_due", "customer"],
                               name="invoice_open_due"),
        ),
        migrations.AddIndex(
            model_name="invoice",
            index=models.Index(fields=["organisation", "issue_date", "amount_incl_tax"], name="invoice_issued"),
        ),
    ]
