"""Template context of every page: the demo's day, when the process is pinned on one."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from relance import clock
from relance.core.formatting import long_date


def demo_day(request: HttpRequest) -> dict[str, Any]:
    from django.utils.translation import get_language

    day = clock.pinned_day()
    language = "en" if (get_language() or "fr").startswith("en") else "fr"
    return {"demo_day": day, "demo_day_label": long_date(day, language) if day else ""}
