"""Ordered approximants of partially occupied (disordered) candidates, for NEB and MD.

77 % of the OBELiX CIFs, nearly every fast conductor among them (LGPS, argyrodites,
garnets, NASICONs), carry partially occupied sites; the NEB and MD tiers need one species
per site. :func:`order_disordered` replaces a disordered structure by a few ordered
supercells ranked by electrostatic (Ewald) energy; the ML relaxation of the best few, which
picks the one kept, lives in :mod:`sseflows.forcefields.approximant` (a tier; this module is
pure and does no I/O).

The rule, step by step:

1. Oxidation states come from :func:`sseflows.core.oxidation.ensure_oxidation_states`
   (given ones kept). The structure is reduced to its primitive cell
   (:attr:`ApproximantSettings.primitive`); the supercell matrix is recorded relative to it.
2. *Site groups*: sites with the same species and occupancies (rounded to
   :data:`OCCUPANCY_DECIMALS`), as pymatgen's ``OrderDisorderedStructureTransformation``
   groups them; two orbits with the same occupancies form one group.
3. *Smallest supercell*: for d = 1, 2, ... (the determinant, i.e. d primitive cells) while
   the supercell has at most ``max_sites`` sites, each group of m sites must hold an integer
   count n_X of every species X with ``|n_X/m - x_X| <= occupancy_tolerance`` (its
   occupancy × multiplicity near-integral, the tolerance in occupancy units; vacancies
   count as a species), and the counts must leave the cell neutral. Among the admissible
   counts the one closest to the refined occupancies (smallest Σ|n_X - m·x_X| in atoms) is
   taken: nearest rounding when it is neutral, otherwise the cheapest neutral adjustment
   (an exact dynamic programme over the net charge). The first d with a neutral choice wins;
   the counts are recorded per group (:class:`GroupRounding`).
4. *Shape*: among the Hermite normal forms of determinant d the most compact (largest
   smallest interplanar width after LLL reduction) is taken, then LLL-reduced.
5. *Orderings*: the Ewald branch-and-bound of pymatgen (``EwaldSummation`` +
   ``EwaldMinimizer``, ``ALGO_FAST``: the engine of ``OrderDisorderedStructureTransformation``)
   places the counts of step 3 on the supercell's sites. It is driven here, rather than
   through the transformation, for two reasons: the transformation rounds each group's
   occupancy on its own and merges groups whose occupancies differ by less than 10 %, so it
   can neither keep the charge-balanced counts nor the groups; and it has no time limit,
   while the search here stops at ``time_limit_s`` and keeps the best orderings found so
   far (recorded as ``search_complete = False``). Orderings with the same Ewald energy
   (within :data:`DUPLICATE_EV_PER_ATOM`, in practice symmetry-equivalent copies) are kept
   once; the ``n_orderings`` lowest are returned, energies in eV/atom.

An ordered structure passes through unchanged (one candidate, the structure itself). A
structure that cannot be ordered within the limits raises
:class:`~sseflows.core.errors.CandidateError` naming the candidate and the limit.

Limits, stated: the Ewald energy is a point-charge model (no relaxation, no covalency); the
fast branch-and-bound is a heuristic (pymatgen: "USE WITH CARE"), exact only when it
finishes; short-range order beyond electrostatics is not modelled; symmetry is not used to
reduce the enumeration.
"""

from __future__ import annotations

import itertools
import math
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from pydantic import BaseModel, Field
from pymatgen.analysis.ewald import EwaldMinimizer, EwaldSummation
from pymatgen.core import Lattice, Structure

from sseflows.core.errors import CandidateError
from sseflows.core.oxidation import ensure_oxidation_states

OCCUPANCY_DECIMALS = 3
"""Occupancies are compared (grouped) after rounding to this many decimals."""
DUPLICATE_EV_PER_ATOM = 1e-6
"""Orderings whose Ewald energies differ by less than this are the same ordering, eV/atom."""
CHARGE_TOLERANCE_E = 1e-3
"""Largest |net charge| of a rounding that counts as neutral, e."""
ORDERING_POOL_FACTOR = 20
"""The Ewald search keeps ``ORDERING_POOL_FACTOR × n_orderings`` orderings before the
duplicates are removed (symmetry-equivalent copies fill the top of the list)."""
MAX_GROUP_CHOICES = 20_000
"""Largest number of count combinations tried for one site group."""
_GROUP_PROPERTY = "_approximant_group"
RELAX_OPTIMIZERS = ("FIRE", "BFGS")
"""ASE optimisers of the ML relaxation (those of the force-field NEB engine)."""


@dataclass(frozen=True)
class ApproximantSettings:
    """Limits and knobs of the approximant rule (module docstring), in one place.

    Attributes:
        max_sites: Largest supercell tried, in sites of the disordered supercell (the Ewald
            matrix is max_sites² and the search grows with it). 400 holds a garnet
            primitive cell three times or the LGPS cell six times.
        occupancy_tolerance: Largest change of a site group's occupancy (per species and
            for vacancies) that the rounding to integer counts may make, in occupancy units
            (0.05: a 0.466-occupied 16-site group may hold 7 or 8 atoms).
        n_orderings: How many distinct orderings, lowest Ewald energy first, are returned.
        time_limit_s: Wall time of the whole rule; the Ewald search stops there and keeps
            what it found; with nothing found the candidate fails.
        primitive: Reduce to the primitive cell first (smaller approximants; the supercell
            matrix is then relative to the primitive cell).

    Both settings classes are plain dataclasses (no ``as_dict``), so that monty writes
    them with their class and a tier Maker holding them as fields survives serialisation.
    """

    max_sites: int = 400
    occupancy_tolerance: float = 0.05
    n_orderings: int = 5
    time_limit_s: float = 120.0
    primitive: bool = True


@dataclass(frozen=True)
class ApproximantRelaxSettings:
    """Settings of the ML choice among orderings (run by
    :func:`sseflows.forcefields.approximant.lowest_relaxed_approximant`; here so that every
    tier Maker can hold them as a field).

    Attributes:
        n_relax: How many of the lowest-Ewald orderings are relaxed (1: relax the Ewald
            ground state only; the choice is then Ewald's).
        fmax_ev_per_angstrom: Force threshold of the fixed-cell relaxation, eV/Å (loose:
            the relaxation ranks orderings; the tier relaxes the one kept again).
        max_steps: Optimiser steps allowed per ordering.
        optimizer: ``"FIRE"`` or ``"BFGS"`` (ASE).
        force_field_name: The potential (``"CHGNet"``: weights ship with chgnet, offline).
        device: ``"cpu"``, ``"cuda"``, ...
    """

    n_relax: int = 3
    fmax_ev_per_angstrom: float = 0.1
    max_steps: int = 100
    optimizer: str = "FIRE"
    force_field_name: str = "CHGNet"
    device: str = "cpu"

    def __post_init__(self) -> None:
        if self.optimizer not in RELAX_OPTIMIZERS:
            known = ", ".join(RELAX_OPTIMIZERS)
            raise ValueError(f"Unknown optimizer {self.optimizer!r}; choose one of {known}.")
        if self.n_relax < 1:
            raise ValueError("n_relax must be at least 1.")


class SpeciesRounding(BaseModel):
    """One species (or the vacancies) of one site group: refined and rounded amounts."""

    species: str = Field(description="Species with oxidation state, or 'vacancy'.")
    occupancy: float = Field(description="Refined occupancy of each site of the group.")
    target: float = Field(description="Occupancy × sites of the group in the supercell.")
    count: int = Field(description="Integer count placed in the approximant.")


class GroupRounding(BaseModel):
    """The rounding applied to one site group of the supercell."""

    group: int = Field(description="Index of the site group (order of first appearance).")
    sites: int = Field(description="Sites of the group in the supercell (multiplicity).")
    species: list[SpeciesRounding] = Field(description="Per species, then 'vacancy'.")

    @property
    def max_occupancy_error(self) -> float:
        """Largest |count/sites - occupancy| of the group."""
        return max(abs(s.count / self.sites - s.occupancy) for s in self.species)


class ApproximantRecord(BaseModel):
    """What a tier document records about the approximant it computed on."""

    ordered_input: bool = Field(description="The input was already ordered (passed through).")
    reference_cell: str = Field(
        description="Cell the supercell matrix refers to: 'primitive' or 'input'."
    )
    supercell_matrix: list[list[int]] = Field(description="Rows: supercell vectors in cells.")
    n_sites: int = Field(description="Sites of the disordered supercell.")
    n_atoms: int = Field(description="Atoms of each ordered approximant.")
    formula: str = Field(description="Composition of the approximants (whole cell).")
    rounding: list[GroupRounding] = Field(default_factory=list, description="Per site group.")
    ewald_energies_ev_per_atom: list[float] = Field(
        default_factory=list, description="Ewald energy of each ordering, lowest first."
    )
    ewald_spread_ev_per_atom: float = Field(
        default=0.0, description="Highest minus lowest Ewald energy among the orderings."
    )
    search_complete: bool = Field(
        default=True, description="False when the time limit stopped the Ewald search."
    )
    ml_energies_ev_per_atom: list[float | None] | None = Field(
        default=None,
        description="ML energy after relaxation per ordering (None: not relaxed).",
    )
    ml_spread_ev_per_atom: float | None = Field(
        default=None, description="Highest minus lowest ML energy among the relaxed ones."
    )
    chosen_index: int = Field(default=0, description="Ordering kept (index into the lists).")
    settings: dict[str, Any] = Field(default_factory=dict, description="ApproximantSettings.")


@dataclass
class ApproximantSet:
    """Ordered approximants of one candidate, lowest Ewald energy first.

    Attributes:
        candidate_id: Whose approximants these are.
        candidates: Ordered structures (one per ordering), oxidation states kept.
        ewald_energies_ev_per_atom: Their Ewald energies, eV/atom, ascending.
        supercell_matrix: Supercell of the reference cell (integer 3×3, rows).
        reference_cell: ``"primitive"`` or ``"input"``.
        rounding: The counts placed per site group.
        n_sites: Sites of the disordered supercell.
        search_complete: False when the time limit stopped the Ewald search.
        ordered_input: True when the input was ordered and passed through.
        settings: The settings used.
    """

    candidate_id: str
    candidates: list[Structure]
    ewald_energies_ev_per_atom: list[float]
    supercell_matrix: list[list[int]]
    reference_cell: str
    rounding: list[GroupRounding] = field(default_factory=list)
    n_sites: int = 0
    search_complete: bool = True
    ordered_input: bool = False
    settings: ApproximantSettings = field(default_factory=ApproximantSettings)

    @property
    def ewald_spread_ev_per_atom(self) -> float:
        """Highest minus lowest Ewald energy among the orderings, eV/atom."""
        energies = self.ewald_energies_ev_per_atom
        return float(max(energies) - min(energies)) if energies else 0.0

    def record(
        self,
        chosen_index: int = 0,
        ml_energies_ev_per_atom: list[float | None] | None = None,
    ) -> ApproximantRecord:
        """The record for a tier document (``chosen_index``: the ordering kept)."""
        ml = [e for e in (ml_energies_ev_per_atom or []) if e is not None]
        first = self.candidates[0]
        return ApproximantRecord(
            ordered_input=self.ordered_input,
            reference_cell=self.reference_cell,
            supercell_matrix=self.supercell_matrix,
            n_sites=self.n_sites,
            n_atoms=len(first),
            formula=first.composition.formula,
            rounding=self.rounding,
            ewald_energies_ev_per_atom=self.ewald_energies_ev_per_atom,
            ewald_spread_ev_per_atom=self.ewald_spread_ev_per_atom,
            search_complete=self.search_complete,
            ml_energies_ev_per_atom=ml_energies_ev_per_atom,
            ml_spread_ev_per_atom=float(max(ml) - min(ml)) if ml else None,
            chosen_index=chosen_index,
            settings=asdict(self.settings),
        )


# --- site groups and their rounding -------------------------------------------------------


@dataclass(frozen=True)
class _Group:
    """A site group of the reference cell: its species with occupancies and charges."""

    species: tuple[str, ...]
    occupancies: tuple[float, ...]
    charges: tuple[float, ...]
    sites: int  # in the reference cell

    @property
    def vacancy(self) -> float:
        return max(1.0 - sum(self.occupancies), 0.0)

    @property
    def ordered(self) -> bool:
        return len(self.species) == 1 and round(self.occupancies[0], OCCUPANCY_DECIMALS) >= 1


def _signature(site: Any) -> tuple[tuple[str, float], ...]:
    return tuple(
        sorted((str(sp), round(float(occ), OCCUPANCY_DECIMALS)) for sp, occ in site.species.items())
    )


def _groups(structure: Structure) -> tuple[list[_Group], list[int]]:
    """Site groups of ``structure`` and the group index of every site."""
    index_of: dict[tuple[tuple[str, float], ...], int] = {}
    members: list[int] = []
    charges: dict[str, float] = {}
    for site in structure:
        for sp in site.species:
            charges[str(sp)] = float(getattr(sp, "oxi_state", 0) or 0)
    counts: list[int] = []
    signatures: list[tuple[tuple[str, float], ...]] = []
    exact: list[dict[str, float]] = []  # the first member's occupancies, unrounded
    for site in structure:
        sig = _signature(site)
        if sig not in index_of:
            index_of[sig] = len(signatures)
            signatures.append(sig)
            exact.append({str(sp): float(occ) for sp, occ in site.species.items()})
            counts.append(0)
        counts[index_of[sig]] += 1
        members.append(index_of[sig])
    groups = [
        _Group(
            species=tuple(sp for sp, _ in sig),
            occupancies=tuple(occupancies[sp] for sp, _ in sig),
            charges=tuple(charges[sp] for sp, _ in sig),
            sites=n,
        )
        for sig, occupancies, n in zip(signatures, exact, counts, strict=True)
    ]
    return groups, members


def _choices(group: _Group, d: int, tolerance: float) -> list[tuple[float, float, tuple[int, ...]]]:
    """Admissible counts of ``group`` in a d-fold supercell: (charge, cost, counts)."""
    m = group.sites * d
    slack = tolerance * m + 1e-9
    options: list[list[int]] = []
    for occ in group.occupancies:
        target = occ * m
        low, high = max(0, math.ceil(target - slack)), min(m, math.floor(target + slack))
        options.append(list(range(low, high + 1)))
    if math.prod(len(o) for o in options) > MAX_GROUP_CHOICES:  # keep the nearest three
        options = [
            sorted(o, key=lambda n: (abs(n - target), n))[:3]
            for o, target in zip(options, [occ * m for occ in group.occupancies], strict=True)
        ]
    out = []
    for counts in itertools.product(*options):
        vacancies = m - sum(counts)
        if vacancies < 0 or abs(vacancies - group.vacancy * m) > slack:
            continue
        charge = sum(n * q for n, q in zip(counts, group.charges, strict=True))
        cost = sum(abs(n - occ * m) for n, occ in zip(counts, group.occupancies, strict=True))
        cost += abs(vacancies - group.vacancy * m)
        out.append((charge, cost, tuple(counts)))
    return out


def _neutral_counts(
    groups: list[_Group], d: int, tolerance: float
) -> tuple[list[tuple[int, ...]] | None, str]:
    """Counts per group for a d-fold supercell, neutral and closest to the refined
    occupancies; None and the reason when there are none."""
    per_group = [_choices(g, d, tolerance) for g in groups]
    missing = [i for i, c in enumerate(per_group) if not c]
    if missing:
        return None, "integral"
    # dynamic programme over the net charge: charge key -> (cost, counts chosen so far)
    states: dict[int, tuple[float, list[tuple[int, ...]]]] = {0: (0.0, [])}
    scale = 10_000  # charge keys in 1e-4 e
    for choices in per_group:
        new: dict[int, tuple[float, list[tuple[int, ...]]]] = {}
        for key, (cost, chosen) in states.items():
            for charge, extra, counts in choices:
                k = key + round(charge * scale)
                total = cost + extra
                if k not in new or total < new[k][0] - 1e-12:
                    new[k] = (total, [*chosen, counts])
        states = new
    neutral = [
        (cost, chosen)
        for key, (cost, chosen) in states.items()
        if abs(key) <= CHARGE_TOLERANCE_E * scale
    ]
    if not neutral:
        return None, "neutral"
    return min(neutral, key=lambda item: item[0])[1], ""


# --- supercell shape -------------------------------------------------------------------


def _hermite_normal_forms(d: int) -> list[np.ndarray]:
    """Every lower-triangular Hermite normal form of determinant ``d``."""
    out = []
    for a in range(1, d + 1):
        if d % a:
            continue
        for c in range(1, d // a + 1):
            if (d // a) % c:
                continue
            f = d // (a * c)
            for b, e, g in itertools.product(range(c), range(f), range(f)):
                out.append(np.array([[a, 0, 0], [b, c, 0], [g, e, f]], dtype=int))
    return out


def _min_width(matrix: np.ndarray) -> float:
    """Smallest distance between opposite faces of the cell spanned by ``matrix`` rows."""
    volume = abs(np.linalg.det(matrix))
    areas = [np.linalg.norm(np.cross(matrix[i - 2], matrix[i - 1])) for i in range(3)]
    return float(volume / max(areas))


def compact_supercell(lattice: Lattice, d: int) -> np.ndarray:
    """The most compact supercell matrix of determinant ``d`` (rows in cell vectors).

    Every Hermite normal form is LLL-reduced; the one with the largest smallest interplanar
    width wins (ties: the first in enumeration order, diagonal ones first).
    """
    base = lattice.matrix
    best: tuple[float, np.ndarray] | None = None
    forms = _hermite_normal_forms(d)
    forms.sort(key=lambda h: (int(np.count_nonzero(h - np.diag(np.diag(h)))), h.tolist()))
    for hnf in forms:
        reduced = Lattice(hnf @ base).lll_matrix
        width = _min_width(reduced)
        if best is None or width > best[0] + 1e-6:
            best = (width, reduced)
    assert best is not None
    matrix = np.rint(best[1] @ np.linalg.inv(base)).astype(int)
    if np.linalg.det(matrix) < 0:
        matrix = -matrix
    return matrix


# --- the Ewald search ------------------------------------------------------------------


class _OutOfTime(Exception):
    """Raised inside the Ewald search when the deadline has passed."""


def _ewald_orderings(
    matrix: np.ndarray, manipulations: list[list], n: int, deadline: float
) -> tuple[list[list], bool]:
    """pymatgen's Ewald branch-and-bound (ALGO_FAST), stopped at ``deadline``.

    Returns the output lists ``[[energy, [[index, species], ...]], ...]`` found (lowest
    first) and whether the search finished.
    """

    class _Minimizer(EwaldMinimizer):
        @classmethod
        def get_next_index(cls, matrix, manipulation, indices_left):
            if time.monotonic() > deadline:
                raise _OutOfTime
            return super().get_next_index(matrix, manipulation, indices_left)

    minimizer = _Minimizer.__new__(_Minimizer)
    try:
        _Minimizer.__init__(minimizer, matrix, manipulations, n, EwaldMinimizer.ALGO_FAST)
    except _OutOfTime:
        return list(minimizer._output_lists), False
    return list(minimizer.output_lists), True


def _order_supercell(
    supercell: Structure, placed: dict[int, dict[str, int]], n_orderings: int, deadline: float
) -> tuple[list[Structure], list[float], bool]:
    """Ordered structures of ``supercell`` holding ``placed`` (group -> species -> count)
    on each disordered group's sites, with their Ewald energies (eV/atom)."""
    struct = supercell.copy()
    manipulations: list[list] = []
    delete: list[int] = []
    by_group: dict[int, list[int]] = {}
    for index, g in enumerate(struct.site_properties[_GROUP_PROPERTY]):
        if g in placed:
            by_group.setdefault(g, []).append(index)
    for g, indices in sorted(by_group.items()):
        species_of = {str(sp): sp for sp in supercell[indices[0]].species}
        counts = {species_of[name]: n for name, n in placed[g].items() if n > 0}
        vacancies = len(indices) - sum(counts.values())
        if not counts:
            delete.extend(indices)
            continue
        initial = max(counts, key=lambda sp: (abs(getattr(sp, "oxi_state", 0) or 0), str(sp)))
        q0 = getattr(initial, "oxi_state", 0) or 0
        for index in indices:
            struct.replace(index, initial, properties={_GROUP_PROPERTY: g})
        for sp, n in counts.items():
            if sp != initial:
                ratio = (getattr(sp, "oxi_state", 0) or 0) / q0 if q0 else 0
                manipulations.append([ratio, n, list(indices), sp])
        if vacancies > 0:
            manipulations.append([0, vacancies, list(indices), None])
    if delete:
        struct.remove_sites(delete)
        manipulations = _reindex(manipulations, delete)
    struct.remove_site_property(_GROUP_PROPERTY)
    n_atoms = len(struct) - sum(m[1] for m in manipulations if m[3] is None)
    if not manipulations:
        energy = EwaldSummation(struct).total_energy
        return [struct.get_sorted_structure()], [energy / n_atoms], True
    ewald = EwaldSummation(struct).total_energy_matrix
    if time.monotonic() > deadline:
        return [], [], False
    outputs, complete = _ewald_orderings(
        ewald, manipulations, ORDERING_POOL_FACTOR * n_orderings, deadline
    )
    structures: list[Structure] = []
    energies: list[float] = []
    for energy, moves in sorted(outputs, key=lambda o: o[0]):
        per_atom = float(energy) / n_atoms
        if energies and abs(per_atom - energies[-1]) < DUPLICATE_EV_PER_ATOM:
            continue
        ordered = struct.copy()
        removed = []
        for index, sp in moves:
            if sp is None:
                removed.append(index)
            else:
                ordered.replace(index, sp)
        ordered.remove_sites(removed)
        structures.append(ordered.get_sorted_structure())
        energies.append(per_atom)
        if len(structures) == n_orderings:
            break
    return structures, energies, complete


def _reindex(manipulations: list[list], deleted: list[int]) -> list[list]:
    """Manipulations with site indices shifted for the sites removed before the search."""
    gone = np.array(sorted(deleted))
    out = []
    for ratio, n, indices, sp in manipulations:
        shifted = [int(i - np.searchsorted(gone, i)) for i in indices]
        out.append([ratio, n, shifted, sp])
    return out


# --- the rule --------------------------------------------------------------------------


def order_disordered(
    structure: Structure,
    candidate_id: str = "structure",
    settings: ApproximantSettings | None = None,
) -> ApproximantSet:
    """Ordered approximants of ``structure`` by the rule of the module docstring.

    Args:
        structure: The candidate's structure (partially occupied or not).
        candidate_id: Named in the errors.
        settings: Limits and knobs; default :class:`ApproximantSettings`.

    Returns:
        The orderings, lowest Ewald energy first, with the supercell and rounding.

    Raises:
        CandidateError: no oxidation states; no supercell up to ``max_sites`` sites with
            near-integral, neutral counts; no ordering found within ``time_limit_s``.
    """
    settings = settings or ApproximantSettings()
    start = time.monotonic()
    deadline = start + settings.time_limit_s
    if structure.is_ordered:
        return ApproximantSet(
            candidate_id=candidate_id,
            candidates=[structure],
            ewald_energies_ev_per_atom=[],
            supercell_matrix=np.eye(3, dtype=int).tolist(),
            reference_cell="input",
            n_sites=len(structure),
            ordered_input=True,
            settings=settings,
        )
    decorated = ensure_oxidation_states(structure, candidate_id)
    reference, cell = decorated, "input"
    if settings.primitive:
        primitive = decorated.get_primitive_structure()
        if len(primitive) < len(decorated):
            reference, cell = primitive, "primitive"
    groups, members = _groups(reference)
    formula = decorated.composition.reduced_formula
    max_d = settings.max_sites // len(reference)
    counts: list[tuple[int, ...]] | None = None
    failures: set[str] = set()
    d = 0
    for d in range(1, max_d + 1):
        counts, why = _neutral_counts(groups, d, settings.occupancy_tolerance)
        if counts is not None:
            break
        failures.add(why)
    if counts is None:
        what = (
            "charge-balanced near-integral site counts"
            if "neutral" in failures
            else "near-integral site counts"
        )
        raise CandidateError(
            candidate_id,
            f"no supercell of {formula} up to max_sites = {settings.max_sites} sites "
            f"({len(reference)} per {cell} cell) has {what} within "
            f"occupancy_tolerance = {settings.occupancy_tolerance:g}",
        )
    matrix = compact_supercell(reference.lattice, d)
    rounding: list[GroupRounding] = []
    for gi, (group, chosen) in enumerate(zip(groups, counts, strict=True)):
        m = group.sites * d
        entries = [
            SpeciesRounding(species=sp, occupancy=occ, target=occ * m, count=n)
            for sp, occ, n in zip(group.species, group.occupancies, chosen, strict=True)
        ]
        if not group.ordered:
            vac = m - sum(chosen)
            entries.append(
                SpeciesRounding(
                    species="vacancy",
                    occupancy=group.vacancy,
                    target=group.vacancy * m,
                    count=vac,
                )
            )
            rounding.append(GroupRounding(group=gi, sites=m, species=entries))
    labelled = reference.copy()
    for index, g in enumerate(members):
        if groups[g].ordered and not labelled[index].is_ordered:  # occupancy 0.9995 -> 1
            labelled.replace(index, next(iter(labelled[index].species)))
    labelled.add_site_property(_GROUP_PROPERTY, members)
    supercell = labelled.make_supercell(matrix, in_place=False)
    placed = {
        gi: dict(zip(group.species, chosen, strict=True))
        for gi, (group, chosen) in enumerate(zip(groups, counts, strict=True))
        if not group.ordered
    }
    orderings, energies, complete = _order_supercell(
        supercell, placed, settings.n_orderings, deadline
    )
    if not orderings:
        raise CandidateError(
            candidate_id,
            f"no ordering of the {len(supercell)}-site approximant of {formula} was found "
            f"within time_limit_s = {settings.time_limit_s:g} s",
        )
    return ApproximantSet(
        candidate_id=candidate_id,
        candidates=orderings,
        ewald_energies_ev_per_atom=energies,
        supercell_matrix=matrix.tolist(),
        reference_cell=cell,
        rounding=rounding,
        n_sites=len(supercell),
        search_complete=complete,
        settings=settings,
    )
