"""A whole campaign: screening, top-k selection, CHGNet NEB, labels fed back, resumable."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from pymatgen.io.cif import CifWriter

from sseflows.campaign.feedback import label_from_doc
from sseflows.campaign.run import CampaignMakers, run_campaign
from sseflows.campaign.spec import load_campaign_spec
from sseflows.data.label_store import open_label_store
from sseflows.data.prototypes import PROTOTYPES, pymatgen_structure
from sseflows.data.readers import read_candidates
from sseflows.stores import build_job_store
from tests.conftest import DEMO_SNAPSHOT

REPO = Path(__file__).resolve().parents[2]


def test_feedback_turns_completed_tiers_into_computed_labels() -> None:
    neb = {
        "candidate_id": "a",
        "tier": "neb",
        "status": "completed",
        "engine": "qe",
        "barrier_ev": 0.25,
        "formula": "LiX",
        "job_uuid": "1234567890",
        "converged": True,
    }
    label = label_from_doc(neb, "laskowski2023")
    assert (label.kind, label.method, label.ea_ev) == ("computed", "neb-qe", 0.25)
    assert label.provenance["job_uuid"] == "1234567890"
    assert label.fidelity["engine"] == "qe" and label.fidelity["converged"] is True
    md = {
        "candidate_id": "b",
        "tier": "md",
        "status": "completed",
        "engine": "chgnet",
        "sigma_rt_s_per_cm": 1e-3,
        "ea_ev": 0.3,
        "formula": "LiY",
        "job_uuid": "abc",
    }
    md_label = label_from_doc(md)
    assert md_label.method == "md-chgnet"
    assert md_label.log10_sigma_rt == pytest.approx(-3.0)
    assert md_label.fidelity == {
        "engine": "chgnet", "converged": True, "n_fitted": None, "ea_err_ev": None,
    }  # fmt: skip
    assert label_from_doc(neb | {"status": "failed"}) is None
    assert label_from_doc(md | {"status": "failed"}) is None


@pytest.mark.parametrize(
    "change",
    [
        {"status": "failed", "barrier_ev": None},  # a band below its endpoints (judged)
        {"converged": False},  # unconverged, whatever its status
        {"converged": None},
        {"barrier_ev": None},
    ],
)
def test_failed_invalid_or_unconverged_neb_gives_no_label(change) -> None:
    neb = {
        "candidate_id": "a", "tier": "neb", "status": "completed", "engine": "chgnet",
        "barrier_ev": 0.3, "formula": "LiX", "job_uuid": "u1", "converged": True,
    }  # fmt: skip
    assert label_from_doc(neb) is not None
    assert label_from_doc(neb | change) is None


@pytest.mark.slow
def test_laskowski_campaign_with_chgnet_neb(tmp_path: Path) -> None:
    pool = tmp_path / "pool"
    pool.mkdir()
    CifWriter(pymatgen_structure("Li2O")).write_file(pool / "Li2O.cif")
    CifWriter(PROTOTYPES["LiCl"]()).write_file(pool / "LiCl.cif")
    CifWriter(PROTOTYPES["NaCl"]()).write_file(pool / "NaCl.cif")
    spec = load_campaign_spec(REPO / "workflows" / "laskowski2023.yaml")
    makers = CampaignMakers.from_spec(
        spec,
        snapshot=str(DEMO_SNAPSHOT),
        neb_engine="chgnet",
        min_length=5.5,
    )
    makers.neb_top_k = 1
    makers.neb = replace(makers.neb, n_images=3)
    makers.screening.bvse_gate.compute_path = False
    candidates = read_candidates([pool])
    store = build_job_store(str(tmp_path / "db"))
    store.connect()
    labels = open_label_store(str(tmp_path / "db"))

    report = run_campaign(
        makers, candidates, store, workers=1, campaign=spec.name, label_store=labels
    )
    # Li2O has the lower BVSE barrier of the two survivors (0.27 vs 0.57 eV)
    assert report.selected == {"neb": ["Li2O"]}
    (row,) = report.tiers["neb"]
    assert row["status"] == "completed" and row["engine"] == "chgnet"
    assert 0.05 < row["barrier_ev"] < 1.0
    assert report.n_labels == 1
    (label,) = labels.query(kind="computed")
    assert label.method == "neb-chgnet" and label.ea_ev == pytest.approx(row["barrier_ev"])

    n_docs = store.docs_store.count()
    again = run_campaign(makers, candidates, store, workers=1, campaign=spec.name)
    assert again.tiers["neb"][0]["barrier_ev"] == row["barrier_ev"]
    assert store.docs_store.count() == n_docs  # nothing recomputed
