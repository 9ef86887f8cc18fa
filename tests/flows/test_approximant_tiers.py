"""Disordered candidates through the NEB and MD tiers: the ordered approximant step."""

from __future__ import annotations

import pytest
from jobflow import Job, run_locally
from monty.json import MontyDecoder
from pymatgen.core import Lattice, Structure

from sseflows.core.approximant import ApproximantRelaxSettings, ApproximantSettings
from sseflows.core.candidate import Candidate
from sseflows.core.errors import CandidateError
from sseflows.flows.approximant import final_output, needs_approximant
from sseflows.flows.tiers import make_tier_flow
from sseflows.forcefields.neb import ChgnetNebMaker
from sseflows.md.engines import md_supercell
from sseflows.md.makers import MDArrheniusMaker
from sseflows.stores import build_job_store

TINY_RELAX = ApproximantRelaxSettings(n_relax=1, max_steps=2)


def rock_salt(li: float, a: float = 5.4) -> Structure:
    """Rock salt with Li(li)Na(1-li) on the cation site: disordered unless li is 0 or 1."""
    cation = {"Li": li, "Na": 1 - li} if 0 < li < 1 else "Li"
    return Structure.from_spacegroup(
        "Fm-3m", Lattice.cubic(a), [cation, "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]]
    )


def test_only_disordered_candidates_of_approximant_takers_get_the_step() -> None:
    disordered = Candidate.from_structure(rock_salt(0.5), "LiNaCl2")
    ordered = Candidate.from_structure(rock_salt(1.0), "LiCl")
    neb = ChgnetNebMaker(image_method="linear")
    assert needs_approximant(neb, disordered) and not needs_approximant(neb, ordered)
    step = make_tier_flow(neb, disordered)
    assert isinstance(step, Job) and step.name == "neb approximant LiNaCl2"
    assert make_tier_flow(neb, ordered).name != step.name
    md = make_tier_flow(MDArrheniusMaker(), disordered)
    assert isinstance(md, Job) and md.name == "md approximant LiNaCl2"


def test_the_step_and_its_settings_survive_serialisation() -> None:
    maker = ChgnetNebMaker(
        approximant=ApproximantSettings(max_sites=8), approximant_relax=TINY_RELAX
    )
    step = make_tier_flow(maker, Candidate.from_structure(rock_salt(0.5), "LiNaCl2"))
    decoded = MontyDecoder().process_decoded(step.as_dict())
    again = decoded.function_args[0]
    assert again == maker and again.approximant.max_sites == 8
    md = MDArrheniusMaker(approximant_relax=TINY_RELAX)
    md_again = MontyDecoder().process_decoded(md.as_dict())
    assert md_again.approximant_relax == TINY_RELAX
    assert md_again.conductivity == md.conductivity


@pytest.mark.parametrize("maker_class", [ChgnetNebMaker, MDArrheniusMaker])
def test_an_unorderable_candidate_gets_the_tiers_failed_document(maker_class) -> None:
    maker = maker_class(approximant=ApproximantSettings(max_sites=4))
    candidate = Candidate.from_structure(rock_salt(1 / 3), "Li1Na2Cl3")  # needs 6 sites
    step = make_tier_flow(maker, candidate)
    responses = run_locally(step, store=build_job_store("memory"), log=False)
    doc = final_output(responses, step.output)
    assert doc.status == "failed" and doc.tier in ("neb", "md")
    assert doc.reason.startswith("Candidate 'Li1Na2Cl3'")
    assert "max_sites = 4" in doc.reason and doc.reason.count(".") >= 1


def test_md_cell_is_built_on_the_approximant_within_its_limit() -> None:
    approximant = rock_salt(1.0).make_supercell([2, 2, 2], in_place=False)  # 64 atoms
    assert len(md_supercell(approximant, "x", min_length_a=10.0, max_atoms=64)) == 64
    with pytest.raises(CandidateError, match=r"64-atom cell .* alone exceeds the MD limit of 50"):
        md_supercell(approximant, "x", min_length_a=1.0, max_atoms=50)


@pytest.mark.slow
def test_disordered_candidate_through_the_chgnet_neb_tier() -> None:
    candidate = Candidate.from_structure(rock_salt(0.5), "LiNaCl2")
    maker = ChgnetNebMaker(
        n_images=3, min_length=5.5, max_steps=30, relax_endpoints=False, image_method="linear",
        approximant_relax=TINY_RELAX,
    )  # fmt: skip
    step = make_tier_flow(maker, candidate)
    responses = run_locally(step, store=build_job_store("memory"), log=False)
    assert sorted(responses[step.uuid]) == [1, 2]  # the step, then the NEB in its place
    doc = final_output(responses, step.output)
    assert doc.tier == "neb" and doc.candidate_id == "LiNaCl2"
    assert doc.approximant is not None and not doc.approximant.ordered_input
    assert doc.approximant.n_atoms == 4 and doc.approximant.formula == "Na1 Li1 Cl2"
    assert doc.approximant.ml_energies_ev_per_atom is not None
    assert "partial occupanc" not in doc.reason
