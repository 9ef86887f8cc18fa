"""The ML engine over every distinct hop: the hop list and percolation barriers of NebDoc."""

from __future__ import annotations

import pytest
from jobflow import run_locally

from sseflows.core.candidate import Candidate
from sseflows.core.hops import enumerate_li_hops
from sseflows.data.prototypes import pymatgen_structure
from sseflows.flows.tiers import limiting_hop, make_tier_flow, tier_seeds
from sseflows.forcefields.neb import ChgnetNebMaker
from sseflows.qe.flows import QeNebFlowMaker
from sseflows.stores import build_job_store


def _li2o() -> Candidate:
    return Candidate.from_structure(pymatgen_structure("Li2O"), "li2o")


def test_all_hops_seeds_carry_a_bvse_path_per_hop() -> None:
    candidate = _li2o()
    maker = ChgnetNebMaker(max_hop_length=3.5)
    seeds = tier_seeds(maker, candidate)
    assert set(seeds) == {"li_paths_cart"}
    assert len(seeds["li_paths_cart"]) == len(enumerate_li_hops(candidate.structure, 3.5))
    one = tier_seeds(ChgnetNebMaker(max_hop_length=3.5, hops="one"), candidate)
    assert set(one) == {"li_path_cart"}


def test_qe_stage_takes_the_limiting_hop_of_the_ml_document() -> None:
    """With the ML document as a seed the QE Maker computes its limiting hop; the BVSE
    path handed on is that hop's."""
    candidate = _li2o()
    maker = QeNebFlowMaker(max_hop_length=3.5, image_method="bvse")
    seeds = tier_seeds(maker, candidate, ml_doc={"limiting_hop_index": 1})
    assert seeds["limiting_hop_index"] == 1
    hop = enumerate_li_hops(candidate.structure, 3.5)[1]
    assert seeds["li_path_cart"] is not None
    start, end = seeds["li_path_cart"][0], seeds["li_path_cart"][-1]
    assert sum((b - a) ** 2 for a, b in zip(start, end, strict=True)) ** 0.5 == pytest.approx(
        hop.length_angstrom, abs=1e-6
    )
    assert "limiting_hop_index" not in tier_seeds(maker, candidate)
    assert limiting_hop(None) is None


@pytest.mark.slow
def test_chgnet_computes_every_distinct_hop_of_li2o() -> None:
    """Li2O (primitive): the 2.33 Å cube-edge hop and the 3.29 Å face diagonal of its
    simple cubic Li sublattice, both computed with CHGNet; every hop is listed, and the
    percolation barriers are ordered; the endpoint shared by the two hops is relaxed once.
    Real potential, tiny settings."""
    candidate = _li2o()
    maker = ChgnetNebMaker(
        n_images=3, min_length=5.5, max_hop_length=3.5, fmax_ev_per_angstrom=0.1,
        max_steps=200, endpoint_max_steps=100, image_method="linear",
    )  # fmt: skip
    flow = make_tier_flow(maker, candidate)
    responses = run_locally(flow, store=build_job_store("memory"), create_folders=False)
    doc = responses[flow.uuid][1].output
    hops = enumerate_li_hops(candidate.structure, 3.5)
    assert [h.index for h in doc.hops] == list(range(len(hops))) == [0, 1]
    assert [h.length_angstrom for h in doc.hops] == pytest.approx([h.length_angstrom for h in hops])
    for hop in doc.hops:
        assert hop.status in ("completed", "failed") and hop.reason
        if hop.status == "completed":
            assert hop.percolation_barrier_ev == pytest.approx(
                max(hop.barrier_ev, hop.barrier_back_ev)
            )
    assert doc.status == "completed", doc.reason
    assert doc.e1d_ev is not None and doc.e2d_ev is not None and doc.e3d_ev is not None
    assert doc.e1d_ev <= doc.e2d_ev <= doc.e3d_ev
    assert doc.barrier_ev == doc.e1d_ev
    lim = doc.limiting_hop_index
    assert lim is not None and doc.limiting_hops["1D"] == lim
    assert doc.hops[lim].percolation_barrier_ev == pytest.approx(doc.e1d_ev)
    assert doc.hop is not None and doc.hop.length_angstrom == pytest.approx(
        doc.hops[lim].length_angstrom
    )
    assert 0.0 < doc.e1d_ev < 2.0
    # both hops leave the same Li: their final endpoints are one vacancy set, relaxed once
    assert doc.settings["endpoint_relaxations"] == 3 and doc.settings["endpoints_reused"] == 1
    assert doc.settings["hops"] == "all"
