from django.urls import path

from . import views, views_imports, views_law

app_name = "web"

urlpatterns = [
    path("", views.today, name="today"),
    path("clients/", views.customer_list, name="customers"),
    path("clients/<int:pk>/", views.customer_detail, name="customer"),
    path("relances/<int:pk>/", views.reminder_detail, name="reminder"),
    path("documents/relance/<int:pk>.pdf", views.reminder_pdf, name="reminder_pdf"),
    path("organisation/", views.switch, name="switch_organisation"),
    path("calculateur/", views_law.calculator, name="calculator"),
    path("taux/", views_law.rates, name="rates"),
    path("importer/", views_imports.imports, name="imports"),
]
