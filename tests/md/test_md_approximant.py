"""``sseflows md`` on a partially occupied structure: CHGNet MD on its ordered approximant."""

from __future__ import annotations

from pathlib import Path

import pytest
from pymatgen.core import Lattice, Structure

from sseflows.campaign.md import local_md, run_local_md
from sseflows.core.approximant import ApproximantRelaxSettings


@pytest.mark.slow
def test_disordered_cif_through_the_chgnet_md_tier(tmp_path: Path) -> None:
    structure = Structure.from_spacegroup(
        "Fm-3m", Lattice.cubic(5.4), [{"Li": 0.5, "Na": 0.5}, "Cl"], [[0] * 3, [0.5] * 3]
    )
    cif = tmp_path / "LiNaCl2.cif"
    structure.to(filename=str(cif))
    md = local_md(
        cif, temperatures_k=(800.0, 1000.0, 1200.0), equilibration_steps=2,
        production_steps=10, traj_interval=1, supercell_min_length_a=5.0,
    )  # fmt: skip
    md.maker.approximant_relax = ApproximantRelaxSettings(n_relax=1, max_steps=2)
    doc = run_local_md(md, "memory")
    assert doc is not None and doc.tier == "md" and doc.engine == "chgnet"
    assert len(doc.per_temperature) == 3  # every temperature ran (too short to fit: fine)
    assert "partial occupanc" not in doc.reason
    assert doc.approximant is not None and doc.approximant.n_atoms == 4
    assert doc.approximant.rounding and doc.approximant.chosen_index == 0
