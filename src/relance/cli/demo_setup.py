"""Preparing the demo folder happens before Django starts (the database file lives there)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from relance.datadir import DEMO_DAY_FILE, DEMO_MARKER


def prepare_demo_dir(directory: Path) -> None:
    """Start the demo from a clean folder: a previous run's database and files are removed.
    With DATABASE_URL set, the database is the user's and is left alone."""
    directory.mkdir(parents=True, exist_ok=True)
    if not os.environ.get("DATABASE_URL"):
        for name in ("relance.sqlite3", "relance.sqlite3-wal", "relance.sqlite3-shm"):
            (directory / name).unlink(missing_ok=True)
    (directory / DEMO_DAY_FILE).unlink(missing_ok=True)
    for sub in ("emails", "fichiers", "import"):
        shutil.rmtree(directory / sub, ignore_errors=True)
    (directory / DEMO_MARKER).write_text("Dossier de démonstration de relance (données fictives).\n", encoding="utf-8")
