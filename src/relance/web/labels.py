"""Labels for what the pages show: event kinds of the journal. They live beside each kind, in
``relance.events.kinds``; the French text is the msgid (English in ``locale/en``), translated
when it is read, in the active language."""

from __future__ import annotations

from relance.events import kinds


def event_label(kind: str) -> str:
    """The label of an event kind in the active language, or the code itself when it has none."""
    return kinds.label(kind)
