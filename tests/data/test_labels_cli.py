"""``sseflows labels import`` and ``sseflows labels list`` through typer's CliRunner."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sseflows.cli import app
from sseflows.data.label_sources import import_laskowski

RUNNER = CliRunner()
ENV = {"COLUMNS": "200"}


@pytest.fixture
def small_obelix(obelix_dir: Path, tmp_path: Path) -> Path:
    """Three rows of the real train.csv (jqc with its CIF, 47i '<1E-10', and one whose CIF
    is absent), copied to a scratch folder so the test stays fast."""
    lines = (obelix_dir / "train.csv").read_text(encoding="utf-8-sig").splitlines()
    rows = [lines[0]] + [line for line in lines[1:] if line.split(",")[0] in {"jqc", "47i"}]
    without_cif = next(
        line
        for line in lines[1:]
        if not (obelix_dir / "cifs" / f"{line.split(',')[0]}.cif").is_file()
    )
    folder = tmp_path / "obelix"
    (folder / "cifs").mkdir(parents=True)
    (folder / "train.csv").write_text("\n".join([*rows, without_cif]) + "\n")
    shutil.copy(obelix_dir / "cifs" / "jqc.cif", folder / "cifs" / "jqc.cif")
    return folder


def invoke(*args: str):
    result = RUNNER.invoke(app, list(args), env=ENV)
    assert result.exit_code == 0, result.output
    return result


def test_import_and_list(small_obelix: Path, shared_dir: Path, tmp_path: Path) -> None:
    store = str(tmp_path / "db")
    out = invoke("labels", "import", "obelix", str(small_obelix), "--store", store).output
    assert "Imported 3 obelix labels (1 with a structure)" in out
    assert "skipped 0" in out

    laskowski_csv = shared_dir / "data" / "laskowski2023" / "digitized_data_for_SSEs.csv"
    expected = import_laskowski(laskowski_csv)
    out = invoke("labels", "import", "laskowski", str(laskowski_csv), "--store", store).output
    assert f"Imported {len(expected.labels)} laskowski labels" in out
    assert f"skipped {len(expected.skipped)}" in out
    assert f"now holds {len(expected.labels) + 3} labels" in out
    assert "skipped: Laskowski line 31 (Li3.5Si0.5P05S4)" in " ".join(out.split())

    json_out = tmp_path / "obelix.json"
    out = invoke("labels", "list", "--source", "obelix", "--json", str(json_out), "--store", store)
    assert "obelix:jqc" in out.output
    records = {r["label_id"]: r for r in json.loads(json_out.read_text())}
    assert set(records) >= {"obelix:jqc", "obelix:47i"} and len(records) == 3
    assert records["obelix:jqc"]["sigma_rt_s_per_cm"] == pytest.approx(1.58489e-06)
    assert records["obelix:jqc"]["has_structure"] is True
    assert records["obelix:47i"]["sigma_upper_bound"] is True
    assert "structure" not in records["obelix:47i"]

    json_out = tmp_path / "li7bio6.json"
    out = invoke(
        "labels", "list", "--formula", "Li7BiO6", "--limit", "1", "--json", str(json_out),
        "--store", store,
    ).output  # fmt: skip
    (record,) = json.loads(json_out.read_text())
    assert record["formula"] == "Li7BiO6"
    assert "1 of 2 matching labels" in out  # obelix:jqc and laskowski2023:4
