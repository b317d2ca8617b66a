"""The late-entry step of a scenario, and the escalation facts of the invoices already chased
(``ledger.0007``) filled in from the messages they received before the upgrade."""

from datetime import date
from typing import Any

from django.db import migrations, models

from relance.core.escalation import Stage, rank, stage
from relance.core.policy import StepSpec


def fill_facts(apps: Any, schema_editor: Any) -> None:
    Invoice = apps.get_model("ledger", "Invoice")
    ReminderLine = apps.get_model("dunning", "ReminderLine")
    facts: dict[int, dict[str, Any]] = {}
    lines = (ReminderLine.objects.filter(reminder__status="sent", reminder__kind="reminder",
                                         reminder__step__isnull=False)
             .select_related("reminder__step").order_by("reminder__sent_at", "pk"))
    for line in lines.iterator(chunk_size=2000):
        st = line.reminder.step
        spec = StepSpec(st.position, st.offset_days, st.channel, st.tone, st.call_task, st.template)
        sent: date = line.reminder.planned_for
        if line.reminder.sent_at is not None:
            sent = max(sent, line.reminder.sent_at.date())
        f = facts.setdefault(line.invoice_id, {"escalation_rank": -1, "last_step_on": None,
                                               "reminders_received": 0, "formal_notice_on": None,
                                               "notice_received_on": None})
        f["escalation_rank"] = max(f["escalation_rank"], rank(spec))
        f["last_step_on"] = sent
        kind = stage(spec)
        if kind in (Stage.REMINDER, Stage.FORMAL_NOTICE):
            f["reminders_received"] += 1
        if kind == Stage.FORMAL_NOTICE and f["formal_notice_on"] is None:
            f["formal_notice_on"] = sent
            f["notice_received_on"] = line.reminder.received_on
    for invoice_id, values in facts.items():
        Invoice.objects.filter(pk=invoice_id).update(**values)


class Migration(migrations.Migration):

    dependencies = [
        ('dunning', '0006_plan_agreement_email'),
        ('ledger', '0007_invoice_escalation_facts'),
    ]

    operations = [
        migrations.AddField(
            model_name='scenario',
            name='late_entry_position',
            field=models.PositiveSmallIntegerField(blank=True, null=True, verbose_name='étape d’entrée des factures en retard'),
        ),
        migrations.RunPython(fill_facts, migrations.RunPython.noop),
    ]
