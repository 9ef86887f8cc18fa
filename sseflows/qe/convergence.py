"""Converging the plane-wave cutoff and the k-mesh to 1 meV/atom (Laskowski et al. 2023).

:func:`pick_converged` is the criterion. Given calculations at increasing accuracy
``v_1 < v_2 < ... < v_n`` (cutoff in Ry, or number of k-points) with energies ``E_i`` in
eV/atom, the converged value is the *smallest* ``v_i`` such that ``|E_i - E_j| ≤ tol`` for
every ``j > i``. The largest value satisfies this trivially, so a series that never settles
returns its last value and :func:`is_settled` says so.

:class:`QeConvergenceMaker` runs the scf series with pw.x: the cutoff first (ecutrho =
dual × ecutwfc, at ``kspacing_for_cutoff``), then the k-spacing at the converged cutoff.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from jobflow import Maker, job
from pymatgen.core import Structure

from sseflows.qe.jobs import QeRunError, run_qe_as
from sseflows.qe.parsers import PwResult
from sseflows.qe.pseudos import pseudopotentials_for, resolve_pseudo_dir, suggested_cutoffs
from sseflows.qe.sets import PwInputGenerator, kmesh_from_kspacing

Value = TypeVar("Value", int, float)


def pick_converged(
    values: Sequence[Value], energies_ev_per_atom: Sequence[float], tol_ev_per_atom: float = 1e-3
) -> Value:
    """Smallest value whose energy is within ``tol`` of the energy at every larger value.

    Args:
        values: Accuracy parameter (larger = more accurate), any order.
        energies_ev_per_atom: Energy at each value, eV/atom.
        tol_ev_per_atom: Tolerance, eV/atom (1 meV/atom by default).
    """
    if len(values) != len(energies_ev_per_atom) or not values:
        raise ValueError("pick_converged needs as many energies as values, at least one.")
    pairs = sorted(zip(values, energies_ev_per_atom, strict=True))
    for i, (value, energy) in enumerate(pairs):
        if all(abs(energy - other) <= tol_ev_per_atom for _, other in pairs[i + 1 :]):
            return value
    return pairs[-1][0]  # pragma: no cover - the last value always qualifies


def is_settled(values: Sequence[float], energies: Sequence[float], tol: float = 1e-3) -> bool:
    """True when the picked value is not the largest (the series shows convergence)."""
    return pick_converged(values, energies, tol) < max(values)


@dataclass
class QeConvergenceMaker(Maker):
    """Converge ecutwfc and the k-spacing of one structure to ``tol_ev_per_atom``.

    Attributes:
        name: Job name.
        generator: scf input generator (pseudo family and folder, smearing, ...).
        ecutwfc_factors: Cutoffs tried, as multiples of the largest UPF suggestion.
        ecutwfc_values: Explicit cutoffs, Ry (override the factors).
        dual: ecutrho / ecutwfc.
        kspacing_for_cutoff: k-spacing used while converging the cutoff, Å⁻¹.
        kspacing_values: k-spacings tried, Å⁻¹ (duplicate meshes are run once).
        tol_ev_per_atom: Convergence tolerance, eV/atom.
        work_dir: Root of run directories (``<work_dir>/<candidate>/convergence/...``).
        launcher: Launcher prefix; None → the ``qe_launcher`` setting.
    """

    name: str = "qe convergence"
    generator: PwInputGenerator = field(default_factory=PwInputGenerator)
    ecutwfc_factors: tuple[float, ...] = (0.8, 1.0, 1.2, 1.4, 1.6)
    ecutwfc_values: tuple[float, ...] | None = None
    dual: float = 4.0
    kspacing_for_cutoff: float = 0.3
    kspacing_values: tuple[float, ...] = (0.5, 0.4, 0.3, 0.25, 0.2, 0.15)
    tol_ev_per_atom: float = 1e-3
    work_dir: str = "qe_runs"
    launcher: str | None = None

    @job
    def make(self, structure: Structure, candidate_id: str = "structure") -> dict[str, Any]:
        """Run both series; returns ecutwfc / ecutrho (Ry), kspacing (Å⁻¹) and the series."""
        return self.converge(structure, candidate_id)

    def cutoffs(self, structure: Structure) -> list[float]:
        """The ecutwfc values to try, Ry."""
        if self.ecutwfc_values:
            return sorted(self.ecutwfc_values)
        folder = resolve_pseudo_dir(self.generator.pseudo_dir)
        elements = [s.specie.symbol for s in structure]
        pseudos = pseudopotentials_for(elements, self.generator.pseudo_family, folder)
        base = suggested_cutoffs(pseudos, folder)[0]
        return [round(base * f) for f in self.ecutwfc_factors]

    def _scf(self, structure: Structure, path: Path, ecut: float, kspacing: float) -> float:
        """Energy per atom of one scf run, eV."""
        gen = PwInputGenerator(**{**self.generator.__dict__, "calculation": "scf"})
        gen.ecutwfc, gen.dual, gen.kspacing = ecut, self.dual, kspacing
        result = run_qe_as(PwResult, path, gen.get_input(structure), launcher=self.launcher)
        if result.energy_ev_per_atom is None:
            raise QeRunError(f"pw.x in {path} converged but reported no total energy")
        return result.energy_ev_per_atom

    def converge(self, structure: Structure, candidate_id: str = "structure") -> dict[str, Any]:
        """Run the series now (the body of :meth:`make`)."""
        root = Path(self.work_dir).resolve() / candidate_id / "convergence"
        cutoffs = self.cutoffs(structure)
        e_cut = [
            self._scf(structure, root / f"ecut{c:g}", c, self.kspacing_for_cutoff) for c in cutoffs
        ]
        ecut = pick_converged(cutoffs, e_cut, self.tol_ev_per_atom)
        meshes: dict[tuple[int, int, int], float] = {}
        for spacing in sorted(self.kspacing_values, reverse=True):
            mesh = kmesh_from_kspacing(structure, spacing)
            meshes.setdefault(mesh, spacing)
        nk = [m[0] * m[1] * m[2] for m in meshes]
        e_k = [self._scf(structure, root / f"k{sp:g}", ecut, sp) for sp in meshes.values()]
        picked = pick_converged(nk, e_k, self.tol_ev_per_atom)
        kspacing = list(meshes.values())[nk.index(picked)]
        return {
            "ecutwfc": ecut, "ecutrho": ecut * self.dual, "kspacing": kspacing,
            "cutoff_series": {"ecutwfc": cutoffs, "energy_ev_per_atom": e_cut},
            "kpoint_series": {"kspacing": list(meshes.values()), "n_kpoints": nk,
                              "energy_ev_per_atom": e_k},
            "settled": is_settled(cutoffs, e_cut, self.tol_ev_per_atom)
            and is_settled(nk, e_k, self.tol_ev_per_atom),
        }  # fmt: skip
