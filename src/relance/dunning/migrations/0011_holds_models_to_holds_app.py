"""The promises, disputes, pauses, stops and payment plans moved to the ``holds`` app
(``relance.holds.models``), keeping their tables: they leave dunning's state only, and the
reminder's links to them now point at ``holds`` (the columns and constraints do not change).
Nothing is done to the database."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("dunning", "0010_sending_before_handover_mark"),
        ("holds", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.RemoveField(
                    model_name='disputereason',
                    name='organisation',
                ),
                migrations.RemoveField(
                    model_name='hold',
                    name='dispute_reason',
                ),
                migrations.RemoveField(
                    model_name='hold',
                    name='customer',
                ),
                migrations.RemoveField(
                    model_name='hold',
                    name='invoice',
                ),
                migrations.RemoveField(
                    model_name='hold',
                    name='organisation',
                ),
                migrations.RemoveField(
                    model_name='hold',
                    name='plan',
                ),
                migrations.RemoveField(
                    model_name='hold',
                    name='promise',
                ),
                migrations.RemoveField(
                    model_name='instalment',
                    name='plan',
                ),
    
                migrations.AlterField(
                    model_name='reminder',
                    name='instalment',
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='reminders', to='holds.instalment'),
                ),
                migrations.RemoveField(
                    model_name='paymentplan',
                    name='customer',
                ),
                migrations.RemoveField(
                    model_name='paymentplan',
                    name='invoices',
                ),
                migrations.RemoveField(
                    model_name='paymentplan',
                    name='organisation',
                ),
                migrations.RemoveField(
                    model_name='planinvoice',
                    name='plan',
                ),
                migrations.AlterField(
                    model_name='reminder',
                    name='plan',
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='reminders', to='holds.paymentplan'),
                ),
                migrations.RemoveField(
                    model_name='planinvoice',
                    name='invoice',
                ),
                migrations.RemoveField(
                    model_name='promise',
                    name='customer',
                ),
                migrations.RemoveField(
                    model_name='promise',
                    name='organisation',
                ),
                migrations.AlterField(
                    model_name='reminder',
                    name='promise',
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='reminders', to='holds.promise'),
                ),
                migrations.DeleteModel(
                    name='DisputeReason',
                ),
                migrations.DeleteModel(
                    name='Hold',
                ),
                migrations.DeleteModel(
                    name='Instalment',
                ),
                migrations.DeleteModel(
                    name='PaymentPlan',
                ),
                migrations.DeleteModel(
                    name='PlanInvoice',
                ),
                migrations.DeleteModel(
                    name='Promise',
                ),
    
            ],
        ),
    ]
