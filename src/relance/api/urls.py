from django.urls import path

from . import views

app_name = "api"

urlpatterns = [
    path("customers", views.customers, name="customers"),
    path("customers/<int:pk>", views.customer, name="customer"),
]
