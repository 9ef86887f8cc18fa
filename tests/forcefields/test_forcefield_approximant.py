"""The ML step of the approximant rule: the best orderings relaxed with CHGNet, lowest kept."""

from __future__ import annotations

import math
from pathlib import Path

import pymatgen.core
import pytest
from pymatgen.core import Lattice, Structure

from sseflows.core.approximant import ApproximantRecord, ApproximantSettings, order_disordered
from sseflows.forcefields.approximant import (
    ApproximantRelaxSettings,
    lowest_relaxed_approximant,
)

PMG = Path(pymatgen.core.__file__).parents[1] / "util" / "structures"


def test_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="optimizer"):
        ApproximantRelaxSettings(optimizer="LBFGS")
    with pytest.raises(ValueError, match="n_relax"):
        ApproximantRelaxSettings(n_relax=0)


def test_ordered_input_is_returned_unrelaxed() -> None:
    licl = Structure.from_spacegroup(
        "Fm-3m", Lattice.cubic(5.13), ["Li", "Cl"], [[0] * 3, [0.5] * 3]
    )
    structure, record = lowest_relaxed_approximant(order_disordered(licl, "LiCl"))
    assert structure is licl
    assert record.ordered_input and record.ml_energies_ev_per_atom is None


@pytest.mark.slow
def test_lgps_orderings_relaxed_and_lowest_kept() -> None:
    lgps = Structure.from_file(PMG / "Li10GeP2S12.json")
    approximants = order_disordered(lgps, "LGPS", ApproximantSettings(n_orderings=2))
    assert len(approximants.candidates) == 2
    settings = ApproximantRelaxSettings(n_relax=2, max_steps=2, fmax_ev_per_angstrom=0.5)
    structure, record = lowest_relaxed_approximant(approximants, settings)
    energies = record.ml_energies_ev_per_atom
    assert energies is not None and len(energies) == 2
    assert all(e is not None and math.isfinite(e) for e in energies)
    assert record.chosen_index == min(range(2), key=lambda i: energies[i])
    assert record.ml_spread_ev_per_atom == pytest.approx(abs(energies[0] - energies[1]))
    assert structure.is_ordered
    assert structure.composition == approximants.candidates[record.chosen_index].composition
    assert structure.lattice == approximants.candidates[record.chosen_index].lattice
    assert ApproximantRecord.model_validate_json(record.model_dump_json()) == record
