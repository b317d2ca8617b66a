"""The legal calculator from the command line: figures, JSON, exit codes."""

from __future__ import annotations

import json

import pytest

from tests.integration.test_cli import (
    own,
    pytestmark,  # noqa: F401  (SQLite pass only)
)


def law(tmp_path, *args: str):
    return own(tmp_path / "d", "law", *args)


def test_penalties_json_matches_the_worked_example(tmp_path):
    result = law(tmp_path, "penalties", "--amount", "12000", "--due", "2024-05-31", "--paid", "2024-08-14",
                 "--payment", "2024-06-10:3000", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["principal"] == "12000.00" and data["days_late"] == 75
    assert data["penalties"] == "277.29" and data["indemnity"] == "40.00"
    assert [(p["from"], p["to"], p["days"], p["base"], p["rate"], p["amount"]) for p in data["periods"]] == [
        ("2024-06-01", "2024-06-10", 10, "12000.00", "14.50", "47.67"),
        ("2024-06-11", "2024-06-30", 20, "9000.00", "14.50", "71.51"),
        ("2024-07-01", "2024-08-14", 45, "9000.00", "14.25", "158.12"),
    ]


def test_contractual_rate_under_the_floor_is_raised_with_a_warning(tmp_path):
    data = json.loads(law(tmp_path, "penalties", "--amount", "10000", "--due", "2024-01-31", "--paid",
                          "2024-03-31", "--rate", "5", "--json").stdout)
    assert {p["rate"] for p in data["periods"]} == {"15.21"}
    assert data["warnings"] and "15,21" in data["warnings"][0]


def test_consumer_debtor_owes_no_penalties_nor_indemnity(tmp_path):
    data = json.loads(law(tmp_path, "penalties", "--amount", "800", "--due", "2024-01-31", "--paid", "2024-03-31",
                          "--debtor", "consumer", "--json").stdout)
    assert data["penalties"] == "0.00" and data["indemnity"] == "0.00"


def test_interest_terms_prescription(tmp_path):
    interest = json.loads(law(tmp_path, "interest", "--amount", "1500", "--from", "2025-02-10", "--to", "2025-09-15",
                              "--judgment", "2025-03-01", "--json").stdout)
    assert interest["interest"] == "58.23" and [p["rate"] for p in interest["periods"]] == ["3.71", "8.71", "7.76"]
    terms = json.loads(law(tmp_path, "terms", "--issued", "2025-01-15", "--due", "2025-03-31", "--json").stdout)
    assert terms["exceeds"] is True and terms["legal_max"] == "2025-03-17" and terms["days_over"] == 14
    presc = json.loads(law(tmp_path, "prescription", "--due", "2021-06-30", "--debtor", "business", "--as-of",
                           "2026-11-23", "--json").stdout)
    assert presc["deadline"] == "2026-06-30" and presc["expired"] is True
    restarted = json.loads(law(tmp_path, "prescription", "--due", "2021-06-30", "--debtor", "business",
                               "--interruption", "2023-03-01", "--as-of", "2026-11-23", "--json").stdout)
    assert restarted["deadline"] == "2028-03-01" and restarted["expired"] is False


@pytest.mark.parametrize(("args", "code", "message"), [
    (["penalties", "--amount", "0", "--due", "2024-01-01", "--paid", "2024-02-01"], 2, "strictement positif"),
    (["penalties", "--amount", "100", "--due", "2024-06-30", "--paid", "2024-08-01", "--rate", "abc"], 2,
     "n’est pas un montant"),
    (["penalties", "--amount", "100", "--due", "2024-06-30", "--paid", "2024-08-01", "--payment",
      "2024-07-01:500"], 2, "dépassent"),
    (["penalties", "--amount", "100", "--due", "2026-06-30", "--paid", "2026-08-01"], 7,
     "relance rates add --semestre 2026-S2"),
    (["interest", "--amount", "100", "--from", "2026-07-10", "--to", "2026-09-01"], 7, "2026-S2"),
    (["penalties", "--amount", "100", "--due", "2024-13-01"], 2, "date invalide"),
])
def test_bad_input_gives_a_clear_error_and_no_figure(tmp_path, args, code, message):
    result = law(tmp_path, *args)
    assert result.returncode == code
    assert message in result.stderr
    assert result.stdout == ""


def test_rates_show_and_add(tmp_path):
    data_dir = tmp_path / "d"
    assert own(data_dir, "migrate").returncode == 0
    shown = json.loads(own(data_dir, "rates", "show", "--json").stdout)["semesters"]
    by_sem = {r["semester"]: r for r in shown}
    assert by_sem["2025-S2"]["individual"] == "6.65" and by_sem["2025-S2"]["other"] == "2.76"
    assert by_sem["2024-S1"]["default_penalty"] == "14.50"
    assert by_sem["2026-S2"]["other"] is None
    added = own(data_dir, "rates", "add", "--semestre", "2026-S2", "--bce", "2.15", "--source",
                "décision BCE (test)", "--json")
    assert added.returncode == 0, added.stderr
    data = json.loads(own(data_dir, "law", "penalties", "--amount", "1000", "--due", "2026-06-30", "--paid",
                          "2026-08-01", "--json").stdout)
    assert data["penalties"] == "10.65"  # 1000 × 12.15 % × 32/365 = 10.6520…
    refused = own(data_dir, "rates", "add", "--semestre", "2025-S1", "--particuliers", "1", "--autres", "1",
                  "--source", "x")
    assert refused.returncode == 6 and "tables livrées" in refused.stderr


def test_consumer_clause_runs_from_the_formal_notice(tmp_path):
    """C. civ. 1231-5 al. 5: 1 000 € at 10 % from the notice of 15/07/2024 to 14/08/2024, 30 days -> 8,22 €."""
    base = ("penalties", "--amount", "1000", "--due", "2024-06-15", "--paid", "2024-08-14", "--rate", "10",
            "--debtor", "consumer")
    without = json.loads(law(tmp_path, *base, "--json").stdout)
    assert without["penalties"] == "0.00" and without["periods"] == []
    data = json.loads(law(tmp_path, *base, "--notice", "2024-07-15", "--json").stdout)
    assert data["penalties"] == "8.22" and data["indemnity"] == "0.00" and data["periods"][0]["from"] == "2024-07-16"
    text = law(tmp_path, *base, "--notice", "2024-07-15").stdout
    assert "Intérêts de retard (clause pénale) : 8,22" in text and "Pénalités" not in text
