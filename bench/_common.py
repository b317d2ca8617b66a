"""What the benchmark scripts share: logging, peak memory, a fresh database (a SQLite file
in the work folder, or a PostgreSQL database dropped and created again), and a counter of
the SQL statements grouped by verb and table. The scripts run as ``python bench/x.py``, so
this folder is on ``sys.path``."""

from __future__ import annotations

import os
import resource
import sys
import time
from pathlib import Path
from typing import Any


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


def fresh_database(database: str, workdir: Path, pg_server: str, pg_db: str) -> str:
    """Point Django at a new, empty database and return where it is: ``workdir/bench.sqlite3``
    for ``sqlite``, else ``pg_db`` on ``pg_server`` (``postgres://user@host:port``), dropped
    and created again."""
    os.environ["RELANCE_DATA_DIR"] = str(workdir / "data")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "relance.settings")
    if database == "sqlite":
        os.environ.pop("DATABASE_URL", None)
        path = workdir / "bench.sqlite3"
        os.environ["RELANCE_SQLITE_PATH"] = str(path)
        return str(path)
    import psycopg

    with psycopg.connect(f"{pg_server}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {pg_db} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {pg_db}")
    url = f"{pg_server}/{pg_db}"
    os.environ["DATABASE_URL"] = url
    return url


def statement_kind(sql: str, many: bool = False) -> str:
    """« SELECT ledger_invoice », « INSERT events_event (executemany) »…"""
    words = sql.split(None, 1)
    verb = words[0].upper() if words else "?"
    marker = {"SELECT": ' FROM "', "INSERT": 'INTO "', "UPDATE": 'UPDATE "', "DELETE": 'FROM "'}.get(verb)
    kind = f"{verb} {sql.split(marker, 1)[1].split(chr(34), 1)[0]}" if marker and marker in sql else verb
    return kind + (" (executemany)" if many else "")


class QueryCounter:
    """A cheap ``connection.execute_wrapper``: counts and times the statements, by kind."""

    def __init__(self) -> None:
        self.count = 0
        self.seconds = 0.0
        self.by_kind: dict[str, list[float]] = {}

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            elapsed = time.perf_counter() - start
            self.count += 1
            self.seconds += elapsed
            entry = self.by_kind.setdefault(statement_kind(sql, many), [0, 0.0])
            entry[0] += 1
            entry[1] += elapsed

    def top(self, n: int = 6) -> list[tuple[str, int, float]]:
        rows = sorted(self.by_kind.items(), key=lambda kv: -kv[1][1])[:n]
        return [(kind, int(count), seconds) for kind, (count, seconds) in rows]

    def summary(self, top: int = 8) -> list[dict[str, Any]]:
        return [{"statement": k, "count": n, "seconds": round(t, 3)} for k, n, t in self.top(top)]
