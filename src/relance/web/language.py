"""The language of the page being rendered, for the formatting functions of ``relance.core.formatting``.

French is the source and the default; English is the one translation (``locale/en``). Any ``en-*``
variant counts as English, anything else as French.
"""

from __future__ import annotations

from django.utils import translation


def current_language() -> str:
    """``"en"`` when the active language is English, else ``"fr"``."""
    return "en" if (translation.get_language() or "").lower().startswith("en") else "fr"
