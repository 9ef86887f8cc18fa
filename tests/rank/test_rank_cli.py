"""``sseflows rank train|predict|evaluate|replay`` through typer's CliRunner on OBELiX.

OBELiX is read in place from ``../shared`` (the ``obelix_dir`` fixture skips without it).
``rank train`` reads the whole set from the shared folder; ``evaluate`` and ``replay`` use
the first 80 rows of its train.csv with their CIFs, copied to a scratch folder. The ensemble is made
small (4 members × 30 trees) by wrapping the estimator factory the use cases call, so the
commands' plumbing is what is tested, not the default model's fit time.
"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest
from pymatgen.core import Lattice, Structure
from pymatgen.io.cif import CifWriter
from typer.testing import CliRunner

import sseflows.campaign.rank as rank_use_cases
import sseflows.rank.model as rank_model
from sseflows.cli import app
from sseflows.rank.estimators import estimator_from_name
from tests.rank.conftest import SMALL_ENSEMBLE, is_one_sentence

RUNNER = CliRunner()
SUBSET_ROWS = 80


@pytest.fixture(scope="module")
def obelix_subset(obelix_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The first 80 rows of OBELiX train.csv and the CIFs they have."""
    folder = tmp_path_factory.mktemp("obelix") / "obelix"
    (folder / "cifs").mkdir(parents=True)
    lines = (obelix_dir / "train.csv").read_text(encoding="utf-8-sig").splitlines()
    (folder / "train.csv").write_text("\n".join(lines[: SUBSET_ROWS + 1]) + "\n")
    for line in lines[1 : SUBSET_ROWS + 1]:
        cif = obelix_dir / "cifs" / f"{line.split(',')[0]}.cif"
        if cif.is_file():
            shutil.copy(cif, folder / "cifs" / cif.name)
    return folder


@pytest.fixture(autouse=True)
def small_models(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Small ensembles and a scratch descriptor cache for every command of this module."""

    def small(name: str, **settings):
        if name == "ensemble":
            settings = {**SMALL_ENSEMBLE, **settings}
        return estimator_from_name(name, **settings)

    monkeypatch.setattr(rank_model, "estimator_from_name", small)
    monkeypatch.setattr(rank_use_cases, "estimator_from_name", small)
    monkeypatch.setattr(rank_use_cases, "REPLAY_MODEL_SETTINGS", dict(SMALL_ENSEMBLE))
    monkeypatch.setenv("SSEFLOWS_DESCRIPTOR_CACHE", str(tmp_path / "descriptors"))
    monkeypatch.setenv("COLUMNS", "200")


def invoke(*args: str, code: int = 0):
    result = RUNNER.invoke(app, [str(a) for a in args])
    assert result.exit_code == code, result.output
    return result


def candidates_csv(folder: Path) -> Path:
    """A composition-only row, a CIF row and a row whose features cannot be computed."""
    li2o = Structure.from_spacegroup(
        "Fm-3m", Lattice.cubic(4.61), ["O", "Li"], [[0, 0, 0], [0.25, 0.25, 0.25]]
    )
    CifWriter(li2o).write_file(folder / "li2o.cif")
    path = folder / "candidates.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "composition", "path"])
        writer.writerow(["argyrodite", "Li6PS5Cl", ""])
        writer.writerow(["li2o", "", "li2o.cif"])
        writer.writerow(["mystery", "Li2X", ""])  # X: a dummy species, no Magpie data
        writer.writerow(["sodium", "NaCl", ""])  # no Li: refused when read
    return path


def test_train_on_obelix_in_place_then_predict_a_csv(obelix_dir: Path, tmp_path: Path) -> None:
    """The whole OBELiX train split (478 entries, 254 CIFs; about 10 s to read and merge)."""
    model = tmp_path / "M.skops"
    out = invoke(
        "rank", "train", "--labels-source", "obelix", "--labels-path", obelix_dir,
        "--out", model,
    ).output  # fmt: skip
    assert "Trained ensemble on" in out
    assert model.is_file()
    provenance = json.loads(model.with_suffix(".json").read_text())
    assert provenance["label_source"] == f"obelix:{obelix_dir}"
    assert 400 < provenance["n_rows"] <= 478  # duplicates merged
    assert len(provenance["label_ids"]) >= provenance["n_rows"]
    assert "obelix:jqc" in provenance["label_ids"]
    assert all(label_id.startswith("obelix:") for label_id in provenance["label_ids"])
    assert provenance["representation"]["name"] == "magpie"
    assert provenance["estimator"]["n_members"] == SMALL_ENSEMBLE["n_members"]

    records_path = tmp_path / "out.json"
    result = invoke(
        "rank", "predict", model, "--candidates", candidates_csv(tmp_path), "--json",
        records_path,
    )  # fmt: skip
    records = {r["candidate_id"]: r for r in json.loads(records_path.read_text())}
    assert set(records) == {"argyrodite", "li2o", "mystery", "sodium"}
    for ranked in ("argyrodite", "li2o"):
        record = records[ranked]
        assert record["status"] == "completed"
        assert 0 <= record["p_superionic"] <= 1
        assert record["log10_sigma_lo"] <= record["log10_sigma"] <= record["log10_sigma_hi"]
        assert record["novelty"] >= 0
    assert sorted(records[r]["rank"] for r in ("argyrodite", "li2o")) == [1, 2]
    assert records["li2o"]["formula"] == "Li2O"
    for failed in ("mystery", "sodium"):
        record = records[failed]
        assert record["status"] == "failed" and record["rank"] is None
        assert failed in record["reason"]
        assert is_one_sentence(record["reason"]), record["reason"]
    assert "failed: Candidate 'mystery'" in result.output


def test_evaluate_grouped_writes_model_and_control(obelix_subset: Path, tmp_path: Path) -> None:
    report_path = tmp_path / "evaluate.json"
    out = invoke(
        "rank", "evaluate", "--split", "grouped", "--n-splits", "3", "--labels-source",
        "obelix", "--labels-path", obelix_subset, "--json", report_path,
    ).output  # fmt: skip
    assert "shuffled control" in out
    report = json.loads(report_path.read_text())
    assert report["split"] == "grouped" and report["n_splits"] == 3
    assert report["estimator"] == "ensemble"
    metrics = {"mae", "mae_uncensored", "spearman", "auc_pr", "mcc", "interval_coverage"}
    assert metrics | {"top10_hit_rate", "mae_cif", "n"} <= set(report["model"])
    assert set(report["control"]) == set(report["model"])
    assert report["model"]["n"] == report["n"] <= SUBSET_ROWS
    assert report["model"]["mae"] > 0 and report["control"]["mae"] > 0


def test_replay_writes_the_documented_shape(obelix_subset: Path, tmp_path: Path) -> None:
    report_path = tmp_path / "replay.json"
    invoke(
        "rank", "replay", "--labels-source", "obelix", "--labels-path", obelix_subset,
        "--seeds", "2", "--budget", "10", "--json", report_path,
    )  # fmt: skip
    report = json.loads(report_path.read_text())
    strategies = report["strategies"]
    assert "random" in strategies
    assert set(strategies) == {"exploit", "explore", "ucb", "random"}
    for figures in strategies.values():
        assert {"measurements_to_3_targets", "targets_found", "families_found"} <= set(figures)
        to_three = figures["measurements_to_3_targets"]  # null when the budget ran out
        assert to_three is None or 0 <= to_three <= 10
        assert 0 <= figures["targets_found"] <= report["n_targets"]
    assert report["settings"]["budget"] == 10 and report["settings"]["n_seeds"] == 2


def test_missing_labels_path_is_a_one_sentence_configuration_error(tmp_path: Path) -> None:
    result = invoke(
        "rank", "train", "--labels-source", "obelix", "--out", tmp_path / "M.skops", code=2
    )
    message = result.output.strip().removeprefix("Configuration error: ")
    assert "--labels-path" in message
    assert is_one_sentence(message), message
    assert not (tmp_path / "M.skops").exists()
    absent = invoke(
        "rank", "evaluate", "--labels-source", "obelix", "--labels-path", tmp_path / "none",
        code=2,
    )  # fmt: skip
    assert "does not exist" in absent.output


def test_model_options_parse_json_values_and_refuse_other_text() -> None:
    from sseflows.campaign.rank import model_options
    from sseflows.core.errors import ConfigurationError

    assert model_options(["n_runs=20", "learner=rf", "coverage=0.8", "flag=true"]) == {
        "n_runs": 20,
        "learner": "rf",
        "coverage": 0.8,
        "flag": True,
    }
    with pytest.raises(ConfigurationError, match="'n_runs' is not KEY=VALUE"):
        model_options(["n_runs"])
