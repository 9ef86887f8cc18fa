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
