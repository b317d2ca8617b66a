"""A small chaos run in CI (bench/chaos.py, issue 12): 30 reminders, 4 worker processes, 5 kill -9,
payment files imported meanwhile, an SMTP sink that fails on purpose. After recovery: no reminder
delivered twice, none lost, no deadlock, no refused file, none stuck, every uncertain one listed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def test_small_chaos_run_loses_nothing_and_sends_nothing_twice() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the chaos run needs PostgreSQL (its workers are separate processes)")
    settings = connection.settings_dict
    server = f"postgres://{settings['USER']}@{settings['HOST'] or '127.0.0.1'}:{settings['PORT'] or 5432}"
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    run = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "chaos.py"), "--reminders", "30", "--kills", "5", "--pace", "0.8",
         "--pg", server, "--db", f"{settings['NAME']}_chaos", "--json"],
        capture_output=True, text=True, timeout=120, env=env, cwd=ROOT)
    assert run.stdout, run.stderr[-2000:]
    result = json.loads(run.stdout)
    assert result["planned"] == 30 and result["kills"] == 5
    assert (result["duplicates"], result["lost"], result["deadlocks"], result["rejected_files"],
            result["stuck"]) == (0, 0, 0, 0, 0), result
    assert result["delivered"] + result["failed"] + result["uncertain"] >= 30 - result["statuses"].get("cancelled", 0)
    assert len(result["uncertain_list"]) == result["uncertain"]  # every uncertain one is shown
    assert run.returncode == 0
