import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "relance.settings")
application = get_wsgi_application()

from relance.security import check_secret_key  # noqa: E402  (needs the settings loaded)

check_secret_key()  # never serve with the public default key (docs/security.md)
