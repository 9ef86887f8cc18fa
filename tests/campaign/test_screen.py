"""`sseflows screen` end to end: JSON contract, bad inputs, resume without recomputation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sseflows.cli import app
from sseflows.stores import build_job_store
from tests.conftest import DEMO_SNAPSHOT as SNAPSHOT
from tests.conftest import write_pool

KEYS = [
    "id",
    "formula",
    "status",
    "reason",
    "e_hull_ev_per_atom",
    "band_gap_ev",
    "bvse_ea_ev",
    "bvse_e1d_ev",
    "bvse_e2d_ev",
    "bvse_e3d_ev",
]


@pytest.fixture()
def pool(tmp_path: Path) -> Path:
    folder = write_pool(tmp_path / "pool", ["Li2O", "LiCl", "NaCl"])
    (folder / "garbage.cif").write_text("data_x\nnot a cif\n")
    return folder


def _screen(pool: Path, db: Path, out: Path, *extra: str):
    args = [
        "screen",
        str(pool),
        "--store",
        str(db),
        "--mp-snapshot",
        str(SNAPSHOT),
        "--workers",
        "1",
        "--json",
        str(out),
        *extra,
    ]
    return CliRunner().invoke(app, args)


def test_json_contract_and_bad_inputs(pool: Path, tmp_path: Path) -> None:
    result = _screen(pool, tmp_path / "db", tmp_path / "out.json")
    assert result.exit_code == 0, result.output
    records = {r["id"]: r for r in json.loads((tmp_path / "out.json").read_text())}
    assert all(list(r) == KEYS for r in records.values())
    assert set(records) == {"Li2O", "LiCl", "NaCl", "garbage"}
    assert records["Li2O"]["status"] == "passed"
    assert records["Li2O"]["e_hull_ev_per_atom"] == 0.0
    assert records["Li2O"]["bvse_ea_ev"] < 0.6
    assert records["NaCl"]["status"] == "failed"
    assert records["NaCl"]["reason"] == "Candidate 'NaCl': NaCl contains no lithium."
    assert records["garbage"]["status"] == "failed"
    assert records["garbage"]["reason"].startswith("Candidate 'garbage': ")
    # survivors are ranked first, by ascending barrier
    ids = [r["id"] for r in json.loads((tmp_path / "out.json").read_text())]
    assert ids.index("Li2O") < ids.index("NaCl")
    assert "Screening funnel" in result.output


def test_rerun_reuses_results_and_a_new_threshold_recomputes(pool: Path, tmp_path: Path) -> None:
    db = tmp_path / "db"
    assert _screen(pool, db, tmp_path / "a.json").exit_code == 0
    store = build_job_store(str(db))
    store.connect()
    n_jobs = store.docs_store.count()
    store.close()

    again = _screen(pool, db, tmp_path / "b.json")
    assert again.exit_code == 0
    assert "reused stored results for 4 candidate(s)" in again.output
    store.connect()
    assert store.docs_store.count() == n_jobs  # nothing recomputed
    store.close()
    assert json.loads((tmp_path / "a.json").read_text()) == json.loads(
        (tmp_path / "b.json").read_text()
    )

    strict = _screen(pool, db, tmp_path / "c.json", "--ea", "0.05")
    assert strict.exit_code == 0
    records = {r["id"]: r for r in json.loads((tmp_path / "c.json").read_text())}
    assert records["Li2O"]["status"] == "dropped"
    store.connect()
    assert store.docs_store.count() > n_jobs


def test_configuration_error_exits_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["screen", str(tmp_path / "missing"), "--store", "memory"])
    assert result.exit_code == 2
    assert "does not exist" in result.output
