"""Workers' signs of life. The database task backend records when a task ran, not that a
worker is waiting for one: an idle worker and a dead one look the same. Each worker calls
:func:`beat` from its loop; ``relance doctor`` reads :func:`live_workers`.

A beat is a small JSON file per worker in ``RELANCE_HEARTBEAT_DIR`` (default
``DATA_DIR/workers``), replaced atomically: no table, no lock, nothing in the event log, and a
worker that cannot write it keeps working (the failure is logged). Workers on other machines
(PostgreSQL shared by several hosts) write to their own folder: the doctor then also counts
recent task activity in the queue as a sign of life (:mod:`relance.operations.doctor`)."""

from __future__ import annotations

import json
import logging
import os
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings

from relance import clock

logger = logging.getLogger(__name__)

#: a worker that has not beaten for this long is not counted as alive
LIVE_WITHIN = timedelta(minutes=2)
#: beats older than this are removed when read (workers gone for good)
FORGET_AFTER = timedelta(days=7)


@dataclass(frozen=True)
class Beat:
    worker: str
    host: str
    pid: int
    at: datetime


def heartbeat_dir() -> Path:
    configured = getattr(settings, "RELANCE_HEARTBEAT_DIR", None) or os.environ.get("RELANCE_HEARTBEAT_DIR")
    return Path(configured) if configured else Path(settings.DATA_DIR) / "workers"


def default_worker_id() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


def _file(worker: str) -> Path:
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in worker)[:100] or "worker"
    return heartbeat_dir() / f"{safe}.json"


def beat(worker_id: str | None = None, now: datetime | None = None) -> Path | None:
    """Record that this worker is alive now. Never raises: returns the file, or ``None`` when it
    could not be written."""
    worker = worker_id or default_worker_id()
    at = now or clock.now()
    target = _file(worker)
    data = {"worker": worker, "host": socket.gethostname(), "pid": os.getpid(), "at": at.isoformat()}
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(data), encoding="utf-8")
        os.replace(tmp, target)
    except OSError as exc:
        logger.warning("battement du worker %s non enregistré dans %s : %s", worker, target, exc)
        return None
    return target


def stop(worker_id: str | None = None) -> None:
    """A worker leaving cleanly removes its beat."""
    try:
        _file(worker_id or default_worker_id()).unlink(missing_ok=True)
    except OSError:  # pragma: no cover - read-only folder
        pass


def beats(now: datetime | None = None) -> list[Beat]:
    """Every recorded beat, most recent first (beats older than :data:`FORGET_AFTER` are removed)."""
    folder = heartbeat_dir()
    if not folder.is_dir():
        return []
    now = now or clock.now()
    found = []
    for path in folder.glob("*.json"):
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            item = Beat(str(raw["worker"]), str(raw.get("host", "")), int(raw.get("pid", 0)),
                        datetime.fromisoformat(raw["at"]))
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if now - item.at > FORGET_AFTER:
            path.unlink(missing_ok=True)
            continue
        found.append(item)
    return sorted(found, key=lambda b: b.at, reverse=True)


def live_workers(now: datetime | None = None, within: timedelta = LIVE_WITHIN) -> list[Beat]:
    now = now or clock.now()
    return [b for b in beats(now) if now - b.at <= within]
