"""The interface is translated (French source, English in ``locale/en``), the records are not.

Choice labels are lazy translations: a page shows them in its language. What the services store
(a hold's reason, a call's outcome) or put into a French message to a customer is French, whatever
the language of the page that triggered it: :func:`french`.
"""

from __future__ import annotations

from typing import Any

from django.utils import translation


def french(text: Any) -> str:
    """``text`` (a lazy translation, typically a choice label) in French."""
    with translation.override("fr"):
        return str(text)
