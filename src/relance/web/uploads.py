"""Files sent with a form (a dispute's attachment, a scanned receipt): read whole, refused
above a size, with the name the service stores them under."""

from __future__ import annotations

from django.http import HttpRequest

from relance.errors import InvalidInput


def read_upload(request: HttpRequest, field: str, limit: int, default_name: str, too_big: str) -> tuple[str, bytes] | None:
    """``(name, content)`` of the file sent in ``field``, ``None`` without one; ``InvalidInput``
    (with the message ``too_big``) above ``limit`` bytes."""
    upload = request.FILES.get(field)
    if upload is None:
        return None
    if upload.size and upload.size > limit:
        raise InvalidInput(too_big)
    return upload.name or default_name, upload.read()
