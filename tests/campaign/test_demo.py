"""`sseflows demo` screens the shipped demo campaign; bad inputs fail, the rest finishes."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from sseflows.campaign.demo import default_demo_spec, load_demo_spec
from sseflows.cli import app


def test_demo_spec_names_the_shipped_structures() -> None:
    spec = load_demo_spec(default_demo_spec())
    assert {"Li2O", "LiFePO4", "Li10GeP2S12"} <= set(spec.pymatgen)
    assert spec.mp_snapshot is not None and spec.mp_snapshot.is_file()
    assert spec.neb is not None and spec.neb.engine == "chgnet"


def test_demo_screening(tmp_path: Path, monkeypatch) -> None:
    """The demo runs from any directory: its spec and snapshot are package data."""
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "demo.json"
    result = CliRunner().invoke(
        app,
        [
            "demo",
            "--store",
            str(tmp_path / "db"),
            "--workdir",
            str(tmp_path / "w"),
            "--workers",
            "2",
            "--json",
            str(out),
            "--no-neb",
            "--no-rank",
        ],
    )
    assert result.exit_code == 0, result.output
    records = {r["id"]: r for r in json.loads(out.read_text())}
    assert len(records) == 12  # 5 pymatgen structures, 6 prototypes, 1 broken CIF
    assert records["NaCl"]["status"] == "failed"
    assert records["not_a_cif"]["status"] == "failed"
    assert records["LiFePO4"]["status"] == "passed"
    assert records["LiFePO4"]["bvse_e1d_ev"] < records["LiFePO4"]["bvse_e3d_ev"]
    assert sum(r["status"] == "passed" for r in records.values()) >= 5


def test_demo_starts_with_the_ranking_stage(tmp_path: Path, obelix_dir: Path) -> None:
    """With the OBELiX labels present the demo ranks first; the dropped never reach a gate."""
    from sseflows.campaign.results import query_tier_docs
    from sseflows.stores import build_job_store

    spec = load_demo_spec(default_demo_spec())
    assert spec.rank is not None and spec.rank.top_n == 8
    out = tmp_path / "demo.json"
    args = ["demo", "--store", str(tmp_path / "db"), "--workdir", str(tmp_path / "w")]
    result = CliRunner().invoke(app, [*args, "--workers", "1", "--json", str(out), "--no-neb"])
    assert result.exit_code == 0, result.output
    assert "ranking (model" in result.output and "8 of 10 go on" in result.output
    store = build_job_store(str(tmp_path / "db"))
    store.connect()
    ranked = query_tier_docs(store, tier="rank")
    assert len(ranked) == 10
    screened = {r["id"] for r in json.loads(out.read_text())}
    dropped = {d["candidate_id"] for d in ranked} - screened
    assert len(dropped) == 2 and not dropped & {
        r["candidate_id"] for r in query_tier_docs(store, tier="mp")
    }
