from django.urls import path

from . import views, views_bank, views_collector, views_dashboard, views_imports, views_law, views_members, views_scenarios
from . import views_approvals as approvals
from . import views_case_link as case_link
from . import views_litigation as litigation
from . import views_reminders as reminder_actions
from . import views_replies as replies

app_name = "web"

urlpatterns = [
    path("", views.today, name="today"),
    path("clients/", views.customer_list, name="customers"),
    path("clients/<int:pk>/", views.customer_detail, name="customer"),
    path("factures/<int:pk>/", views.invoice_detail, name="invoice"),
    path("factures/<int:pk>/mise-en-demeure/", views_collector.invoice_formal_notice, name="invoice_formal_notice"),
    path("relances/<int:pk>/", views.reminder_detail, name="reminder"),
    path("documents/relance/<int:pk>.pdf", views.reminder_pdf, name="reminder_pdf"),
    path("relances/<int:pk>/renvoyer/", reminder_actions.retry, name="reminder_retry"),
    path("relances/<int:pk>/partie/", reminder_actions.confirm_sent, name="reminder_confirm_sent"),
    path("relances/<int:pk>/a-renvoyer/", reminder_actions.resend, name="reminder_resend"),
    path("relances/<int:pk>/recommande/", reminder_actions.letter_delivery, name="letter_delivery"),
    path("a-valider/", approvals.queue, name="approvals"),
    path("a-valider/<int:pk>/", approvals.review, name="approval"),
    path("a-valider/<int:pk>/apercu.pdf", approvals.letter_pdf, name="approval_pdf"),
    path("organisation/", views.switch, name="switch_organisation"),
    path("calculateur/", views_law.calculator, name="calculator"),
    path("taux/", views_law.rates, name="rates"),
    path("importer/", views_imports.imports, name="imports"),
    path("tableau-de-bord/", views_dashboard.dashboard, name="dashboard"),
    path("utilisateurs/", views_members.members, name="members"),
    path("scenarios/", views_scenarios.scenario_list, name="scenarios"),
    path("scenarios/<int:pk>/", views_scenarios.scenario_detail, name="scenario"),
    path("modeles/", views_scenarios.template_list, name="templates"),
    path("modeles/<slug:key>/<str:language>/", views_scenarios.template_edit, name="template"),
    path("modeles/<slug:key>/<str:language>/apercu/", views_scenarios.template_preview, name="template_preview"),
    path("clients/<int:pk>/attribuer/", views_members.assign, name="assign_customer"),
    path("clients/<int:pk>/profil/", views_members.customer_profile, name="customer_profile"),
    path("clients/<int:pk>/suivi/<slug:action>/", views_collector.customer_action, name="customer_action"),
    path("suspensions/<int:pk>/<slug:action>/", views_collector.hold_action, name="hold_action"),
    path("echeanciers/<int:pk>/<slug:action>/", views_collector.plan_action, name="plan_action"),
    path("echeanciers/<int:pk>/accord.pdf", views_collector.plan_agreement, name="plan_agreement"),
    path("appels/", views_collector.call_list, name="calls"),
    path("appels/<int:pk>/resultat/", views_collector.call_outcome, name="call_outcome"),
    path("banque/", views_bank.statements, name="bank"),
    path("banque/a-verifier/", views_bank.review, name="bank_review"),
    path("banque/lignes/<int:pk>/rapprocher/", views_bank.apply, name="bank_apply"),
    path("banque/lignes/<int:pk>/ecarter/", views_bank.dismiss, name="bank_dismiss"),
    path("dossier/<str:token>/", case_link.case_link, name="case_download"),
    path("dossier/<str:token>/<int:doc>/", case_link.case_link_document, name="case_download_document"),
    path("contentieux/", litigation.case_list, name="litigation"),
    path("contentieux/export.csv", litigation.export_csv, name="litigation_export_csv"),
    path("contentieux/export.json", litigation.export_json, name="litigation_export_json"),
    path("contentieux/irrecouvrables.csv", litigation.writeoffs_csv, name="litigation_writeoffs_csv"),
    path("contentieux/irrecouvrables.fec.txt", litigation.writeoffs_fec, name="litigation_writeoffs_fec"),
    path("contentieux/destinataires/", litigation.recipients, name="litigation_recipients"),
    path("contentieux/<int:pk>/", litigation.case_detail, name="litigation_case"),
    path("contentieux/<int:pk>/documents/<int:doc_pk>/", litigation.case_document, name="litigation_document"),
    path("contentieux/<int:pk>/remises/<int:handover_pk>/dossier.zip", litigation.handover_bundle,
         name="litigation_handover_bundle"),
    path("contentieux/<int:pk>/<slug:action>/", litigation.case_action, name="litigation_action"),
    path("reponses/", replies.inbox, name="replies"),
    path("reponses/<int:pk>/", replies.reply_detail, name="reply"),
    path("reponses/<int:pk>/message.eml", replies.reply_eml, name="reply_eml"),
    path("reponses/<int:pk>/<slug:action>/", replies.reply_action, name="reply_action"),
]
