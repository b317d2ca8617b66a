"""The 40 € indemnity is owed per invoice (C. com. D441-5) and is never replaced: the organisation's
flat « frais de recouvrement » (which replaced it in the documents) is removed, and collection costs
above 40 € are recorded per invoice with their proof (``RecoveryCost``, L441-10 II « sur
justification »). A flat amount set before cannot be turned into justified costs: it is dropped.
Organisations also get the rate of their consumer contracts' late-interest clause (C. civ. 1231-5)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("ledger", "0007_invoice_escalation_facts"),
    ]

    operations = [
        migrations.RemoveField(
            model_name="organisation",
            name="recovery_costs",
        ),
        migrations.AddField(
            model_name="organisation",
            name="consumer_penalty_rate",
            field=models.DecimalField(
                blank=True,
                decimal_places=2,
                help_text="clause pénale de vos conditions générales (C. civ. 1231-5) : elle ne court qu’à compter "
                "de la mise en demeure ; vide = intérêts au taux légal à compter de la mise en demeure",
                max_digits=6,
                null=True,
                verbose_name="taux de la clause d’intérêts de retard des contrats avec les particuliers (%)",
            ),
        ),
        migrations.CreateModel(
            name="RecoveryCost",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("incurred_on", models.DateField(verbose_name="date des frais")),
                (
                    "amount",
                    models.DecimalField(
                        decimal_places=2, max_digits=14, verbose_name="montant des frais (€)"
                    ),
                ),
                (
                    "description",
                    models.CharField(
                        help_text="p. ex. « honoraires du commissaire de justice, facture n° 2026-118 »",
                        max_length=200,
                        verbose_name="nature des frais",
                    ),
                ),
                ("proof", models.FileField(upload_to="recovery_costs/", verbose_name="justificatif")),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "invoice",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="recovery_costs",
                        to="ledger.invoice",
                        verbose_name="facture",
                    ),
                ),
                (
                    "organisation",
                    models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, to="ledger.organisation"),
                ),
            ],
            options={
                "verbose_name": "frais de recouvrement justifiés (au-delà de 40 €)",
                "verbose_name_plural": "frais de recouvrement justifiés (au-delà de 40 €)",
                "ordering": ["incurred_on", "pk"],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("amount__gt", 0)), name="recovery_cost_positive"
                    )
                ],
            },
        ),
    ]
