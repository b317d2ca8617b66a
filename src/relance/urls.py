from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/", include("relance.api.urls")),
    path("i18n/", include("django.conf.urls.i18n")),  # set_language: the interface language
    path("", include("relance.web.urls")),
]
