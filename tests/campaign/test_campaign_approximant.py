"""Disordered candidates in a campaign stage and in ``sseflows neb``: the approximant step
keeps the planner's result keys, and an unorderable candidate fails alone."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from pymatgen.core import Lattice, Structure

from sseflows.campaign.neb import neb_maker, run_neb
from sseflows.campaign.run import run_tier
from sseflows.core.approximant import ApproximantRelaxSettings, ApproximantSettings
from sseflows.core.candidate import Candidate
from sseflows.data.records import CandidateSet
from sseflows.md.makers import MDArrheniusMaker
from sseflows.stores import build_job_store

TINY_RELAX = ApproximantRelaxSettings(n_relax=1, max_steps=2)


def rock_salt(li: float) -> Structure:
    return Structure.from_spacegroup(
        "Fm-3m", Lattice.cubic(5.4), [{"Li": li, "Na": 1 - li}, "Cl"], [[0] * 3, [0.5] * 3]
    )


@pytest.mark.slow
def test_unorderable_candidate_fails_while_the_other_runs_the_md_stage() -> None:
    candidates = CandidateSet(
        candidates=[
            Candidate.from_structure(rock_salt(0.5), "LiNaCl2"),  # 4-site approximant
            Candidate.from_structure(rock_salt(1 / 3), "Li1Na2Cl3"),  # needs 6 sites
        ]
    )
    maker = MDArrheniusMaker(
        temperatures_k=(800.0, 1000.0, 1200.0), equilibration_steps=2, production_steps=10,
        traj_interval=1, supercell_min_length_a=5.0,
        approximant=ApproximantSettings(max_sites=4), approximant_relax=TINY_RELAX,
    )  # fmt: skip
    store = build_job_store("memory")
    store.connect()
    docs = run_tier("md", maker, ["LiNaCl2", "Li1Na2Cl3"], candidates, store)
    assert set(docs) == {"LiNaCl2", "Li1Na2Cl3"}  # both found under their result keys
    bad = docs["Li1Na2Cl3"]
    assert bad["status"] == "failed" and "max_sites = 4" in bad["reason"]
    assert bad["reason"].startswith("Candidate 'Li1Na2Cl3'")
    good = docs["LiNaCl2"]
    assert good["approximant"]["n_atoms"] == 4 and len(good["per_temperature"]) == 3


@pytest.mark.slow
def test_sseflows_neb_on_a_disordered_cif(tmp_path: Path) -> None:
    cif = tmp_path / "LiNaCl2.cif"
    rock_salt(0.5).to(filename=str(cif))
    maker = neb_maker("chgnet", min_length=5.5, n_images=3, image_method="linear")
    maker = replace(maker, max_steps=30, relax_endpoints=False, approximant_relax=TINY_RELAX)
    run = run_neb(cif, maker, "memory")
    assert run.doc.tier == "neb" and run.doc.engine == "chgnet"
    assert run.doc.approximant is not None and run.doc.approximant.n_atoms == 4
    assert "partial occupanc" not in run.doc.reason
