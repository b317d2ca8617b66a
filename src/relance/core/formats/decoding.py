"""Bytes of an imported file to text: the first of a list of encodings that decodes them.

Every reader (bank statements, CSV, FEC) decodes the same way: UTF-8 (a BOM is dropped), else
Windows-1252 — what French accounting and banking exports write. The differences are
parameters: the encodings tried (a FEC falls back on ISO-8859-15, which decodes every byte; an
OFX file that declares Windows-1252 is read so first), the reader's own error for a file none
fits (located by its name), and the set where a FEC's statistics note the encodings met.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from .problems import Problem

UTF8_THEN_WINDOWS = ("utf-8-sig", "cp1252")
_NAMES = {"utf-8-sig": "UTF-8", "utf-8": "UTF-8", "cp1252": "Windows-1252", "iso-8859-15": "ISO-8859-15"}


def decode(raw: bytes, filename: str, error: Callable[[Problem], Exception], *,
           encodings: Sequence[str] = UTF8_THEN_WINDOWS, seen: set[str] | None = None) -> str:
    """``raw`` decoded with the first of ``encodings`` that fits; ``seen`` receives its name when the
    bytes are not plain ASCII. None fits: ``error`` (the reader's exception) of a :class:`Problem`
    naming ``filename``, « encodage illisible (ni UTF-8 ni Windows-1252) »."""
    for encoding in encodings:
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            continue
        if seen is not None and not raw.isascii():
            seen.add(encoding)
        return text
    raise error(Problem(filename, None, None, f"encodage illisible (ni {_tried(encodings)})"))


def _tried(encodings: Iterable[str]) -> str:
    """The names of the encodings tried, in a fixed order (UTF-8 first) whatever the order tried."""
    order = list(dict.fromkeys(_NAMES.values()))
    names = {_NAMES.get(e, e) for e in encodings}
    return " ni ".join(sorted(names, key=lambda n: order.index(n) if n in order else len(order)))
