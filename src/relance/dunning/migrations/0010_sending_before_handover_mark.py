"""Reminders left SENDING by a version without the hand-over mark: whether they were handed over is
unknown, so they count as handed over (recovery makes them « à vérifier », never resends them)."""

from django.db import migrations
from django.db.models import F
from django.db.models.functions import Coalesce


def mark_unknown_as_handed_over(apps, schema_editor):
    Reminder = apps.get_model("dunning", "Reminder")
    Reminder.objects.filter(status="sending", handed_over_at__isnull=True).update(
        handed_over_at=Coalesce(F("claimed_at"), F("created_at")))


class Migration(migrations.Migration):
    dependencies = [("dunning", "0009_reminder_handover")]

    operations = [migrations.RunPython(mark_unknown_as_handed_over, migrations.RunPython.noop)]
