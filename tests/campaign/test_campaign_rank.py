"""A campaign with a ranking stage: the pool is ranked first, the ranking drops some
candidates, the rest are screened, and every RankDoc is stored like a tier's documents."""

from __future__ import annotations

from pathlib import Path

from sseflows.campaign.options import CampaignOptions
from sseflows.campaign.results import query_tier_docs
from sseflows.campaign.run import run_campaign_spec
from sseflows.data.label_store import open_label_store
from sseflows.stores import build_job_store
from tests.conftest import DEMO_SNAPSHOT, write_pool
from tests.rank.conftest import SMALL_ENSEMBLE, toy_labels


def _options(**kwargs) -> CampaignOptions:
    return CampaignOptions(mp_snapshot=str(DEMO_SNAPSHOT), workers=1, **kwargs)


POOL = ["Li2O", "LiCl", "LiF", "Li2S", "Li3N", "NaCl"]
READABLE = set(POOL) - {"NaCl"}  # no Li: a read failure, recorded by the screening


def _spec(tmp_path: Path, rank: str, gates: str = "  mp: {band_gap_min_ev: 1.0}\n") -> Path:
    spec = tmp_path / "spec.yaml"
    settings = ", ".join(f"{k}: {v}" for k, v in SMALL_ENSEMBLE.items())
    spec.write_text(
        "name: ranked\n"
        f"rank:\n  train: {{source: store, model_settings: {{{settings}}}}}\n{rank}"
        f"gates:\n{gates}  bvse: null\n"
    )
    return spec


def _labelled_db(tmp_path: Path) -> str:
    db = str(tmp_path / "db")
    with open_label_store(db) as labels:
        labels.add(toy_labels())
    return db


def test_rank_stage_first_drops_some_and_screens_the_rest(tmp_path: Path) -> None:
    pool = write_pool(tmp_path / "pool", POOL)
    db = _labelled_db(tmp_path)
    spec = _spec(tmp_path, "  top_n: 3\n")
    report = run_campaign_spec(
        spec, _options(paths=[pool], store_spec=db, models_dir=tmp_path / "models")
    )
    rank = report.rank
    assert rank is not None and len(rank.kept) == 3 and len(rank.dropped) == 2
    assert all("below the top 3" in why for why in rank.dropped.values())
    screened = {r["id"] for r in report.screen.records}
    assert screened == set(rank.kept) | {"NaCl"}  # only survivors (and the failure) go on
    funnel = list(report.funnel.items())
    assert funnel[0] == ("candidates", 6) and funnel[1][1] == 3
    assert funnel[1][0].startswith("ranking (top 3 by p_superionic")

    store = build_job_store(db)
    store.connect()
    stored = query_tier_docs(store, tier="rank")
    assert {d["candidate_id"] for d in stored} == READABLE
    assert all(d["model_version"] == rank.model_version for d in stored)
    assert query_tier_docs(store)  # no stored output breaks the tier query
    n_docs = store.docs_store.count()
    store.close()

    again = run_campaign_spec(
        spec, _options(paths=[pool], store_spec=db, models_dir=tmp_path / "models")
    )
    assert again.rank is not None and again.rank.kept == rank.kept
    assert set(again.rank.reused) == READABLE
    store.connect()
    assert store.docs_store.count() == n_docs  # nothing ranked or screened twice
    assert len(list((tmp_path / "models").glob("*.skops"))) == 1  # the model is reused


def test_rank_stage_after_gates_ranks_only_the_gates_survivors(tmp_path: Path) -> None:
    pool = write_pool(tmp_path / "pool", POOL)
    db = _labelled_db(tmp_path)
    spec = _spec(tmp_path, "  p_min: 0.0\n  stage: after_gates\n")
    report = run_campaign_spec(
        spec, _options(paths=[pool], store_spec=db, models_dir=tmp_path / "models")
    )
    passed = {r["id"] for r in report.screen.records if r["status"] in ("passed", "unknown")}
    assert report.rank is not None and set(report.rank.docs) == passed
    assert "NaCl" not in report.rank.docs  # stopped by the gates, never ranked
    assert list(report.funnel)[-1].startswith("ranking (P >= 0")
