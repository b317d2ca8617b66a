"""What every command shares to read its arguments and print its result (text, or ``--json``)."""

from __future__ import annotations

import argparse
import json
from datetime import date
from typing import Any

from relance.errors import InvalidInput


def emit(args: argparse.Namespace, data: Any, text: str) -> None:
    """Print ``data`` as JSON when the command was given ``--json``, else ``text``."""
    if getattr(args, "json", False):
        print(json.dumps(data, ensure_ascii=False, indent=2, default=str))
    else:
        print(text)


def parse_date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise InvalidInput(f"date invalide « {value} » : attendu AAAA-MM-JJ") from exc
