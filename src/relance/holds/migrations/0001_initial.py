"""Promises, disputes, pauses, stops and payment plans, moved from ``dunning`` with their
tables (``db_table = "dunning_…"``): created in Django's state only, the tables are those of
``dunning`` 0004/0006 and keep their rows. The content types (and so the permissions and the
admin's history) follow the models to the ``holds`` label."""

import django.db.models.deletion
from django.db import migrations, models

MOVED = ("disputereason", "promise", "paymentplan", "planinvoice", "instalment", "hold")


def content_types_to_holds(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    taken = set(ContentType.objects.filter(app_label="holds", model__in=MOVED).values_list("model", flat=True))
    ContentType.objects.filter(app_label="dunning", model__in=[m for m in MOVED if m not in taken]).update(
        app_label="holds")


def content_types_to_dunning(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    taken = set(ContentType.objects.filter(app_label="dunning", model__in=MOVED).values_list("model", flat=True))
    ContentType.objects.filter(app_label="holds", model__in=[m for m in MOVED if m not in taken]).update(
        app_label="dunning")


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("ledger", "0009_organisation_run_at"),
        ("dunning", "0010_sending_before_handover_mark"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name='DisputeReason',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('code', models.SlugField(max_length=40, verbose_name='code')),
                        ('label', models.CharField(max_length=120, verbose_name='motif')),
                        ('position', models.PositiveSmallIntegerField(default=0, verbose_name='ordre')),
                        ('is_active', models.BooleanField(default=True, verbose_name='proposé')),
                        ('organisation', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='dispute_reasons', to='ledger.organisation')),
                    ],
                    options={
                        'verbose_name': 'motif de litige',
                        'verbose_name_plural': 'motifs de litige',
                        'db_table': 'dunning_disputereason',
                        'ordering': ['organisation', 'position', 'label'],
                    },
                ),
                migrations.CreateModel(
                    name='PaymentPlan',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('state', models.CharField(choices=[('proposed', 'Proposé'), ('active', 'En cours'), ('completed', 'Soldé'), ('broken', 'Rompu'), ('cancelled', 'Annulé')], default='proposed', max_length=12, verbose_name='état')),
                        ('total', models.DecimalField(decimal_places=2, max_digits=14, verbose_name='montant échelonné')),
                        ('currency', models.CharField(default='EUR', max_length=3, verbose_name='devise')),
                        ('waive_penalties', models.BooleanField(default=False, verbose_name='renonce aux pénalités si l’échéancier est respecté')),
                        ('grace_days', models.PositiveSmallIntegerField(default=8, verbose_name='délai après l’avis d’échéance impayée (jours)')),
                        ('proposed_on', models.DateField(verbose_name='proposé le')),
                        ('accepted_on', models.DateField(blank=True, null=True, verbose_name='accepté le')),
                        ('ended_on', models.DateField(blank=True, null=True, verbose_name='terminé le')),
                        ('created_by', models.CharField(blank=True, max_length=150, verbose_name='créé par')),
                        ('note', models.TextField(blank=True, verbose_name='note')),
                        ('allocation_watermark', models.BigIntegerField(default=0)),
                        ('agreement', models.FileField(blank=True, upload_to='plans/', verbose_name='lettre d’accord (PDF)')),
                        ('agreement_sha256', models.CharField(blank=True, max_length=64)),
                        ('signed_copy', models.FileField(blank=True, upload_to='plans/signed/', verbose_name='accord signé')),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('customer', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='payment_plans', to='ledger.customer')),
                        ('organisation', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='payment_plans', to='ledger.organisation')),
                    ],
                    options={
                        'verbose_name': 'échéancier',
                        'db_table': 'dunning_paymentplan',
                        'ordering': ['-proposed_on', '-pk'],
                    },
                ),
                migrations.CreateModel(
                    name='Instalment',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('position', models.PositiveSmallIntegerField(verbose_name='n°')),
                        ('due_on', models.DateField(verbose_name='échéance')),
                        ('amount', models.DecimalField(decimal_places=2, max_digits=14, verbose_name='montant')),
                        ('paid_amount', models.DecimalField(decimal_places=2, default=0, max_digits=14, verbose_name='payé')),
                        ('credited_amount', models.DecimalField(decimal_places=2, default=0, max_digits=14, verbose_name='réduit par avoir')),
                        ('paid_on', models.DateField(blank=True, null=True, verbose_name='soldée le')),
                        ('reminded_on', models.DateField(blank=True, null=True, verbose_name='rappel J−3 planifié le')),
                        ('missed_on', models.DateField(blank=True, null=True, verbose_name='avis d’impayé planifié le')),
                        ('plan', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='instalments', to='holds.paymentplan')),
                    ],
                    options={
                        'verbose_name': 'échéance',
                        'db_table': 'dunning_instalment',
                        'ordering': ['plan', 'position'],
                    },
                ),
                migrations.CreateModel(
                    name='PlanInvoice',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('amount_due_at_start', models.DecimalField(decimal_places=2, max_digits=14, verbose_name='reste dû à la proposition')),
                        ('invoice', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='plan_lines', to='ledger.invoice')),
                        ('plan', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='lines', to='holds.paymentplan')),
                    ],
                    options={
                        'verbose_name': 'facture de l’échéancier',
                        'db_table': 'dunning_planinvoice',
                    },
                ),
                migrations.AddField(
                    model_name='paymentplan',
                    name='invoices',
                    field=models.ManyToManyField(related_name='payment_plans', through='holds.PlanInvoice', to='ledger.invoice'),
                ),
                migrations.CreateModel(
                    name='Promise',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('promised_on', models.DateField(verbose_name='date promise')),
                        ('amount', models.DecimalField(decimal_places=2, max_digits=14, verbose_name='montant promis')),
                        ('currency', models.CharField(default='EUR', max_length=3, verbose_name='devise')),
                        ('obtained_via', models.CharField(choices=[('phone', 'par téléphone'), ('email', 'par email'), ('letter', 'par courrier'), ('portal', 'sur le portail client')], max_length=10, verbose_name='obtenue')),
                        ('obtained_by', models.CharField(max_length=150, verbose_name='obtenue par')),
                        ('obtained_on', models.DateField(verbose_name='obtenue le')),
                        ('note', models.TextField(blank=True, verbose_name='note')),
                        ('covered_due', models.DecimalField(decimal_places=2, max_digits=14, verbose_name='reste dû des factures couvertes lors de la promesse')),
                        ('grace_until', models.DateField(verbose_name='relances suspendues jusqu’au')),
                        ('state', models.CharField(choices=[('active', 'En cours'), ('kept', 'Tenue'), ('broken', 'Non tenue'), ('cancelled', 'Annulée')], default='active', max_length=12, verbose_name='état')),
                        ('closed_on', models.DateField(blank=True, null=True, verbose_name='close le')),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('customer', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='promises', to='ledger.customer')),
                        ('organisation', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='promises', to='ledger.organisation')),
                    ],
                    options={
                        'verbose_name': 'promesse de règlement',
                        'verbose_name_plural': 'promesses de règlement',
                        'db_table': 'dunning_promise',
                        'ordering': ['-promised_on', '-pk'],
                    },
                ),
                migrations.CreateModel(
                    name='Hold',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('kind', models.CharField(choices=[('promise', 'Promesse de règlement'), ('dispute', 'Litige'), ('pause', 'Pause'), ('stop', 'Arrêt des relances'), ('plan', 'Échéancier')], max_length=10)),
                        ('state', models.CharField(choices=[('active', 'Active'), ('ended', 'Terminée'), ('resolved', 'Litige résolu'), ('credited', 'Réglé par avoir'), ('written_off', 'Passée en perte'), ('lifted', 'Levée'), ('expired', 'Échue')], default='active', max_length=12)),
                        ('until', models.DateField(blank=True, null=True, verbose_name='jusqu’au')),
                        ('reason', models.CharField(blank=True, max_length=300, verbose_name='motif')),
                        ('stop_cause', models.CharField(blank=True, choices=[('insolvency', 'Procédure collective'), ('litigation', 'Contentieux en cours'), ('other', 'Autre')], max_length=12, verbose_name='cause de l’arrêt')),
                        ('note', models.TextField(blank=True, verbose_name='note')),
                        ('attachment', models.FileField(blank=True, upload_to='holds/', verbose_name='pièce jointe')),
                        ('created_by', models.CharField(blank=True, max_length=150, verbose_name='créée par')),
                        ('ended_on', models.DateField(blank=True, null=True, verbose_name='terminée le')),
                        ('ended_by', models.CharField(blank=True, max_length=150, verbose_name='terminée par')),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('customer', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='holds', to='ledger.customer')),
                        ('dispute_reason', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, to='holds.disputereason', verbose_name='motif du litige')),
                        ('invoice', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='holds', to='ledger.invoice')),
                        ('organisation', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, to='ledger.organisation')),
                        ('plan', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='holds', to='holds.paymentplan')),
                        ('promise', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='holds', to='holds.promise')),
                    ],
                    options={
                        'verbose_name': 'suspension',
                        'db_table': 'dunning_hold',
                    },
                ),
                migrations.AddConstraint(
                    model_name='disputereason',
                    constraint=models.UniqueConstraint(fields=('organisation', 'code'), name='dispute_reason_unique'),
                ),
                migrations.AddConstraint(
                    model_name='instalment',
                    constraint=models.UniqueConstraint(fields=('plan', 'position'), name='instalment_position_unique'),
                ),
                migrations.AddConstraint(
                    model_name='planinvoice',
                    constraint=models.UniqueConstraint(fields=('plan', 'invoice'), name='plan_invoice_unique'),
                ),
                migrations.AddIndex(
                    model_name='paymentplan',
                    index=models.Index(fields=['organisation', 'state'], name='plan_state'),
                ),
                migrations.AddIndex(
                    model_name='promise',
                    index=models.Index(fields=['organisation', 'state'], name='promise_state'),
                ),
                migrations.AddIndex(
                    model_name='hold',
                    index=models.Index(fields=['organisation', 'state'], name='hold_state'),
                ),
    
            ],
        ),
        migrations.RunPython(content_types_to_holds, content_types_to_dunning),
    ]
