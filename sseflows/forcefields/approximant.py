"""The ML step of the approximant rule: relax the best few orderings, keep the lowest.

:func:`sseflows.core.approximant.order_disordered` ranks orderings of a disordered
candidate by Ewald (point-charge) energy; electrostatics alone misorders near-degenerate
orderings, so the ``n_relax`` lowest are relaxed with the ML potential (CHGNet by default,
offline; the calculator is built as for the NEB engine, :func:`.neb.force_field_calculator`)
at fixed cell and the one with the lowest ML energy per atom is kept. The
:class:`~sseflows.core.approximant.ApproximantRecord` returned with it carries the ML
energies (None for orderings not relaxed) and the index chosen.
"""

from __future__ import annotations

from pymatgen.core import Structure
from pymatgen.io.ase import AseAtomsAdaptor

from sseflows.core.approximant import (
    ApproximantRecord,
    ApproximantRelaxSettings,
    ApproximantSet,
)
from sseflows.forcefields.neb import force_field_calculator

__all__ = ["ApproximantRelaxSettings", "lowest_relaxed_approximant", "relax_fixed_cell"]


def relax_fixed_cell(
    structure: Structure, settings: ApproximantRelaxSettings
) -> tuple[Structure, float]:
    """Fixed-cell relaxation of ``structure``; the relaxed structure (species, oxidation
    states and order kept, positions wrapped into the cell) and its energy in eV/atom."""
    from ase.optimize import BFGS, FIRE

    atoms = AseAtomsAdaptor.get_atoms(structure.copy().remove_oxidation_states())
    atoms.calc = force_field_calculator(settings.force_field_name, settings.device)
    optimizer = {"FIRE": FIRE, "BFGS": BFGS}[settings.optimizer](atoms, logfile=None)
    optimizer.run(fmax=settings.fmax_ev_per_angstrom, steps=settings.max_steps)
    energy = float(atoms.get_potential_energy()) / len(atoms)
    relaxed = Structure(
        structure.lattice,
        [site.species for site in structure],
        structure.lattice.get_fractional_coords(atoms.positions),
        to_unit_cell=True,
    )
    return relaxed, energy


def lowest_relaxed_approximant(
    approximants: ApproximantSet, settings: ApproximantRelaxSettings | None = None
) -> tuple[Structure, ApproximantRecord]:
    """The lowest-ML-energy ordering among the ``n_relax`` lowest-Ewald ones, relaxed.

    An ordered input (one candidate, passed through) is returned unrelaxed with its record:
    the tier relaxes it as it always did.

    Returns:
        The relaxed structure kept and the record (ML energies in eV/atom per ordering,
        None where not relaxed; ``chosen_index`` the ordering kept).
    """
    settings = settings or ApproximantRelaxSettings()
    if approximants.ordered_input:
        return approximants.candidates[0], approximants.record()
    n = min(settings.n_relax, len(approximants.candidates))
    relaxed: list[Structure] = []
    energies: list[float | None] = [None] * len(approximants.candidates)
    for i, structure in enumerate(approximants.candidates[:n]):
        structure_i, energy = relax_fixed_cell(structure, settings)
        relaxed.append(structure_i)
        energies[i] = energy
    chosen = min(range(n), key=lambda i: (energies[i], i))
    record = approximants.record(chosen_index=chosen, ml_energies_ev_per_atom=energies)
    return relaxed[chosen], record
