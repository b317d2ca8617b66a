"""The hour at which the worker's scheduler runs an organisation's day (its own time zone)."""

import datetime

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("ledger", "0008_recovery_costs_per_invoice"),
    ]

    operations = [
        migrations.AddField(
            model_name="organisation",
            name="run_at",
            field=models.TimeField(
                default=datetime.time(7, 0),
                help_text="heure locale (fuseau de l’organisation) à laquelle « relance worker » lance la journée : "
                          "planification puis envoi, les jours ouvrés",
                verbose_name="heure de la journée de relances",
            ),
        ),
    ]
