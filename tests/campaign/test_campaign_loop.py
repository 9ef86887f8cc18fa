"""The closed loop: each round retrains on the labels so far, picks what is not computed,
runs a (fake, instant) MD tier, feeds its σ_RT back; rounds are stored and listed."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from jobflow import job

from sseflows.campaign.loop import (
    list_rounds,
    loop_labels,
    open_rounds_store,
    round_model,
    round_rows,
    run_loop,
)
from sseflows.campaign.run import CampaignMakers
from sseflows.campaign.spec import load_campaign_spec
from sseflows.core.candidate import Candidate
from sseflows.core.errors import ConfigurationError
from sseflows.core.label import Label
from sseflows.core.maker import TierMaker
from sseflows.data.label_store import open_label_store
from sseflows.data.prototypes import PROTOTYPES
from sseflows.data.readers import read_candidates
from sseflows.md.schemas import ConductivityDoc
from sseflows.rank.maker import candidate_input
from sseflows.rank.persistence import load_rank_model
from sseflows.stores import build_job_store
from tests.conftest import DEMO_SNAPSHOT, write_pool
from tests.rank.conftest import SMALL_ENSEMBLE, toy_labels

POOL = ["Li2O", "LiCl", "LiF", "Li2S", "Li3N", "Li3OCl"]


@job
def fake_md(candidate_id: str, formula: str, sigma_s_per_cm: float) -> ConductivityDoc:
    """An MD tier document with a given σ_RT (no MD run)."""
    return ConductivityDoc(
        candidate_id=candidate_id, formula=formula, status="completed", engine="fake",
        sigma_rt_s_per_cm=sigma_s_per_cm, ea_ev=0.3, n_fitted=3,
    )  # fmt: skip


@dataclass
class FakeMDMaker(TierMaker):
    """An instant MD tier: σ_RT from ``sigma`` by formula (``default`` otherwise)."""

    name: str = "fake md"
    sigma: dict[str, float] = field(default_factory=dict)
    default: float = 1e-9

    def make(self, candidate: Candidate, **seeds):
        return fake_md(
            candidate.id, candidate.formula, self.sigma.get(candidate.formula, self.default)
        )


def _spec(tmp_path: Path, loop: str) -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    spec = tmp_path / "spec.yaml"
    settings = ", ".join(f"{k}: {v}" for k, v in SMALL_ENSEMBLE.items())
    spec.write_text(
        "name: looped\n"
        f"rank:\n  train: {{source: store, model_settings: {{{settings}}}}}\n"
        "gates:\n  mp: {band_gap_min_ev: 1.0}\n  bvse: null\n"
        f"loop: {loop}\n"
    )
    return spec


def _run(tmp_path: Path, loop: str, md: FakeMDMaker, rounds: int | None = None):
    spec = load_campaign_spec(_spec(tmp_path, loop))
    assert spec.loop is not None
    loop_spec = spec.loop if rounds is None else spec.loop.model_copy(update={"rounds": rounds})
    makers = CampaignMakers.from_spec(spec, snapshot=str(DEMO_SNAPSHOT))
    makers.md, makers.md_top_k, makers.md_ranker = md, 5, "lowest_e_hull"
    db = str(tmp_path / "db")
    pool = read_candidates([write_pool(tmp_path / "pool", POOL)])
    store = build_job_store(db)
    store.connect()
    rounds_store = open_rounds_store(db)
    rounds_store.connect()
    with open_label_store(db) as labels:
        if labels.count() == 0:
            labels.add(toy_labels())
        report = run_loop(
            makers, loop_spec, pool, store, labels, rounds_store, spec.name,
            models_dir=tmp_path / "models",
        )  # fmt: skip
    n_docs = store.docs_store.count()
    rounds_store.close()
    store.close()
    return report, n_docs


def test_two_rounds_learn_from_round_one_and_never_recompute(tmp_path: Path) -> None:
    md = FakeMDMaker(sigma={"Li3N": 1e-3, "LiF": 1e-5})
    report, n_docs = _run(tmp_path, "{rounds: 2, batch_size: 2}", md)
    assert report.ran == [1, 2] and report.stop_reason == "2 round(s) are done."
    first, second = report.rounds
    assert first["model"]["version"] != second["model"]["version"]
    assert first["model"]["computed_label_ids"] == []
    assert first["labels"]  # the fake MD results became computed labels
    assert set(first["labels"]) <= set(second["model"]["label_ids"])
    assert set(first["labels"]) == set(second["model"]["computed_label_ids"])
    picked_1 = {p["candidate_id"] for p in first["picks"]}
    picked_2 = {p["candidate_id"] for p in second["picks"]}
    assert len(picked_1) == 2 and picked_2 and not picked_1 & picked_2
    assert picked_1 <= set(second["skipped_computed"])
    assert all(p["score"] is not None for p in first["picks"] + second["picks"])
    for doc in report.rounds:  # results carry their result keys and job uuids
        assert all(r["result_key"] and r["job_uuid"] for r in doc["results"].get("md", []))
    assert Path(second["model"]["path"]).is_file()

    stored = list_rounds("looped", str(tmp_path / "db"))
    assert [d["round"] for d in stored] == [1, 2]
    assert stored[1]["stop_reason"] == "2 round(s) are done."
    rows = round_rows(stored)
    assert rows[0]["model"] == first["model"]["version"] and rows[1]["computed"] >= 1

    again, n_again = _run(tmp_path, "{rounds: 2, batch_size: 2}", md)
    assert again.ran == [] and n_again == n_docs  # nothing rerun, nothing recomputed
    more, _ = _run(tmp_path, "{rounds: 2, batch_size: 2}", md, rounds=3)
    assert more.ran == [3]
    picked_3 = {p["candidate_id"] for p in more.rounds[-1]["picks"]}
    assert picked_3 and not picked_3 & (picked_1 | picked_2)


def test_loop_stops_after_rounds_without_a_hit(tmp_path: Path) -> None:
    loop = "{rounds: 3, batch_size: 1, stop_after_rounds_without_hit: 1}"
    report, _ = _run(tmp_path, loop, FakeMDMaker(default=1e-9))
    assert report.ran == [1] and report.rounds[0]["hits"] == []
    assert report.stop_reason == "No new hit in the last 1 round(s)."
    hit, _ = _run(tmp_path / "hit", loop, FakeMDMaker(default=1e-2))
    assert hit.ran == [1, 2, 3] and all(d["hits"] for d in hit.rounds)


def test_loop_ends_when_the_pool_is_exhausted(tmp_path: Path) -> None:
    report, _ = _run(tmp_path, "{rounds: 10, batch_size: 4}", FakeMDMaker())
    assert len(report.ran) < 10 and report.stop_reason.startswith("The pool is exhausted")
    picked = [p["candidate_id"] for d in report.rounds for p in d["picks"]]
    assert len(picked) == len(set(picked))


def test_refit_model_uses_md_labels_but_not_barriers(tmp_path: Path) -> None:
    """Fidelity: an MD σ_RT is a (weighted) log10 σ row; a NEB barrier is no σ row."""
    spec = load_campaign_spec(_spec(tmp_path, "{rounds: 1}"))
    assert spec.rank is not None
    structure = PROTOTYPES["LiF"]()
    md = Label(
        label_id="md-fake:LiF:1", formula="LiF", structure=structure, sigma_rt_s_per_cm=1e-1,
        kind="computed", method="md-fake",
    )  # fmt: skip
    neb = Label(label_id="neb-fake:LiF:1", formula="LiF", ea_ev=0.1, kind="computed",
                method="neb-fake")  # fmt: skip
    before_path, before = round_model(spec.rank, toy_labels(), tmp_path / "models")
    after_path, after = round_model(spec.rank, [*toy_labels(), md, neb], tmp_path / "models")
    assert before["model_version"] != after["model_version"]
    assert before["labels_hash"] != after["labels_hash"]
    assert "md-fake:LiF:1" in after["label_ids"] and "neb-fake:LiF:1" not in after["label_ids"]
    assert after["estimator"]["computed_weight"] == 0.5
    lif = [candidate_input(Candidate.from_structure(structure, "LiF"))]
    old = load_rank_model(before_path).predict(lif)[0]["log10_sigma"]
    new = load_rank_model(after_path).predict(lif)[0]["log10_sigma"]
    assert new > old  # the σ = 0.1 S/cm MD label pulls LiF up


def test_loop_labels_and_spec_errors(tmp_path: Path) -> None:
    spec = tmp_path / "bad.yaml"
    spec.write_text("name: x\nloop: {rounds: 2}\n")
    with pytest.raises(ConfigurationError, match="'loop' needs a ranking stage that trains"):
        load_campaign_spec(spec)
    ok = load_campaign_spec(_spec(tmp_path, "{rounds: 1}"))
    assert ok.rank is not None
    empty = open_label_store(str(tmp_path / "empty"))
    with empty as labels, pytest.raises(ConfigurationError, match="holds no labels"):
        loop_labels(ok.rank, labels)


def test_campaign_run_rounds_and_campaign_rounds_cli(tmp_path: Path, monkeypatch) -> None:
    from typer.testing import CliRunner

    from sseflows.cli import app

    monkeypatch.setenv("HOME", str(tmp_path / "home"))  # the models folder
    runner = CliRunner()
    spec = _spec(tmp_path, "{rounds: 5, batch_size: 2}")
    pool = write_pool(tmp_path / "pool", POOL)
    db = str(tmp_path / "db")
    with open_label_store(db) as labels:
        labels.add(toy_labels())
    common = ["--store", db, "--mp-snapshot", str(DEMO_SNAPSHOT), "--workers", "1"]
    out = tmp_path / "loop.json"
    result = runner.invoke(
        app, ["campaign", "run", str(spec), str(pool), *common, "--rounds", "1", "--json", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "round 1: model" in result.output and "1 round(s) are done." in result.output
    assert [d["round"] for d in json.loads(out.read_text())["rounds"]] == [1]
    listed = runner.invoke(app, ["campaign", "rounds", "looped", "--store", db])
    assert listed.exit_code == 0 and "Rounds" in listed.output
    assert runner.invoke(app, ["campaign", "rounds", "nope", "--store", db]).exit_code == 2
    fresh = runner.invoke(app, ["campaign", "run", str(spec), str(pool), *common, "--fresh"])
    assert fresh.exit_code == 2 and "--fresh cannot be combined" in fresh.output
