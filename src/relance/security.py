"""Production defaults checked before the web server starts (docs/security.md).

The default ``SECRET_KEY`` is published with the source: anyone could forge a session with it. The web
server (``relance serve`` and the WSGI application) refuses it, except in the demo's folder (marked by
``relance demo``) or in debug mode (``RELANCE_DEBUG=1``, never on a server).
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings

from relance.datadir import DEMO_MARKER
from relance.errors import InvalidInput


def check_secret_key() -> None:
    """Raise :class:`InvalidInput` when the web server would run on the public default key."""
    if settings.SECRET_KEY != settings.DEMO_SECRET_KEY or settings.DEBUG:
        return
    if (Path(settings.DATA_DIR) / DEMO_MARKER).exists():
        return
    raise InvalidInput(
        "la clé secrète par défaut est publique : définissez RELANCE_SECRET_KEY (par exemple "
        "« python -c 'import secrets; print(secrets.token_urlsafe(50))' ») avant de lancer l’application web ; "
        "seul le dossier de démonstration (relance demo) ou RELANCE_DEBUG=1 l’acceptent")
