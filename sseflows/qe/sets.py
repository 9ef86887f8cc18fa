"""pw.x and neb.x inputs: a dataclass generator → :class:`PwInput` (namelists + cards) → text.

Defaults (every one a field, and ``user_input`` is merged last into the namelists):

* cutoffs: the largest "Suggested minimum cutoff" over the elements' UPF files
  (ecutrho = max(suggested, 4 × ecutwfc)); ``ecutwfc`` / ``dual`` override them.
* k-mesh: ``n_i = max(1, ceil(|b_i| / kspacing))`` with ``|b_i|`` the reciprocal-vector
  length including 2π (Å⁻¹), as VASP's KSPACING; ``kspacing=None`` means Γ only.
* charge: ``tot_charge`` from the caller. A Li⁺ vacancy cell is made by deleting one Li
  atom (its ion *and* its valence electrons) and giving back one electron, so the cell
  has one extra electron: ``tot_charge = -1``, compensated by QE's uniform background.
* spin: ``nspin = 2`` when the electron count is odd, or when the structure holds an
  element of :data:`MAGNETIC_ELEMENTS` (open 3d shells); otherwise ``nspin = 1``.
"""

from __future__ import annotations

import copy
import math
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, overload

import numpy as np
from pymatgen.core import Element, Structure

from sseflows.core.triples import int_triple
from sseflows.qe.pseudos import (
    pseudopotentials_for,
    resolve_pseudo_dir,
    suggested_cutoffs,
    upf_z_valence,
)
from sseflows.qe.units import force_ev_ang_to_ry_bohr

MAGNETIC_ELEMENTS: frozenset[str] = frozenset({"V", "Cr", "Mn", "Fe", "Co", "Ni"})
"""Elements that switch on spin polarisation (starting_magnetization 0.5 on them)."""

NAMELIST_ORDER = ("control", "system", "electrons", "ions", "cell")


@overload
def kmesh_from_kspacing(structure: Structure, kspacing: float) -> tuple[int, int, int]: ...
@overload
def kmesh_from_kspacing(structure: Structure, kspacing: None) -> None: ...
@overload
def kmesh_from_kspacing(
    structure: Structure, kspacing: float | None
) -> tuple[int, int, int] | None: ...


def kmesh_from_kspacing(
    structure: Structure, kspacing: float | None
) -> tuple[int, int, int] | None:
    """Monkhorst–Pack mesh for a k-point spacing in Å⁻¹ (2π included); None → Γ only."""
    if kspacing is None:
        return None
    lengths = structure.lattice.reciprocal_lattice.abc  # includes 2π
    return int_triple(max(1, math.ceil(b / kspacing - 1e-9)) for b in lengths)


def _fortran(value: Any) -> str:
    if isinstance(value, bool):
        return ".true." if value else ".false."
    if isinstance(value, str):
        return f"'{value}'"
    if isinstance(value, float):
        return repr(value).replace("e", "d") if "e" in repr(value) else repr(value)
    return str(value)


def render_namelists(namelists: Mapping[str, Mapping[str, Any]]) -> str:
    """Fortran namelists in pw.x order; indexed keys like ``starting_magnetization(1)`` pass."""
    lines = []
    for name in NAMELIST_ORDER:
        values = namelists.get(name, {})
        if name in ("ions", "cell") and not values:
            continue
        lines.append(f"&{name.upper()}")
        lines += [f"   {key} = {_fortran(val)}" for key, val in values.items() if val is not None]
        lines.append("/")
    return "\n".join(lines) + "\n"


def positions_card(structure: Structure) -> str:
    """ATOMIC_POSITIONS in Å; ``selective_dynamics`` site property becomes if_pos flags."""
    lines = ["ATOMIC_POSITIONS angstrom"]
    fixed = structure.site_properties.get("selective_dynamics")
    for i, site in enumerate(structure):
        x, y, z = site.coords
        flags = "" if fixed is None else " {} {} {}".format(*(int(bool(f)) for f in fixed[i]))
        lines.append(f"{site.specie.symbol} {x:.10f} {y:.10f} {z:.10f}{flags}")
    return "\n".join(lines) + "\n"


class QeInput(ABC):
    """An input file of a QE program: :meth:`to_str` renders it, :meth:`write` writes it."""

    @abstractmethod
    def to_str(self) -> str:
        """The input text."""

    def write(self, path: str | Path) -> Path:
        """Write the input file; returns its path."""
        path = Path(path)
        path.write_text(self.to_str())
        return path


@dataclass
class PwInput(QeInput):
    """One pw.x calculation: namelists, structure, pseudopotentials, k-mesh (None = Γ)."""

    namelists: dict[str, dict[str, Any]]
    structure: Structure
    pseudopotentials: dict[str, str]
    kpoints: tuple[int, int, int] | None = None

    def species_card(self) -> str:
        """ATOMIC_SPECIES card."""
        lines = ["ATOMIC_SPECIES"]
        for el in self._species():
            mass = float(Element(el).atomic_mass)
            lines.append(f"{el} {mass:.4f} {self.pseudopotentials[el]}")
        return "\n".join(lines) + "\n"

    def _species(self) -> list[str]:
        return sorted({s.specie.symbol for s in self.structure})

    def cell_and_kpoints(self) -> str:
        """CELL_PARAMETERS (Å) and K_POINTS cards."""
        cell = "\n".join(
            " ".join(f"{v:.10f}" for v in row) for row in self.structure.lattice.matrix
        )
        k = (
            "K_POINTS gamma"
            if self.kpoints is None
            else "K_POINTS automatic\n{} {} {} 0 0 0".format(*self.kpoints)
        )
        return f"{k}\nCELL_PARAMETERS angstrom\n{cell}\n"

    def to_str(self) -> str:
        """The pw.x input text."""
        names = copy.deepcopy(self.namelists)
        system = names.setdefault("system", {})
        system.update(ibrav=0, nat=len(self.structure), ntyp=len(self._species()))
        return (
            render_namelists(names) + self.species_card() + self.cell_and_kpoints()
            + positions_card(self.structure)
        )  # fmt: skip

    def as_dict(self) -> dict[str, Any]:
        """JSON-able form (the file error handlers edit between attempts)."""
        return {
            "namelists": self.namelists,
            "structure": self.structure.as_dict(),
            "pseudopotentials": self.pseudopotentials,
            "kpoints": list(self.kpoints) if self.kpoints else None,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> PwInput:
        """Inverse of :meth:`as_dict`."""
        k = d.get("kpoints")
        return cls(
            namelists=copy.deepcopy(dict(d["namelists"])),
            structure=Structure.from_dict(d["structure"]),
            pseudopotentials=dict(d["pseudopotentials"]),
            kpoints=int_triple(k) if k else None,
        )


def merge_namelists(
    base: dict[str, dict[str, Any]], update: Mapping[str, Mapping[str, Any]]
) -> dict:
    """Copy of ``base`` with ``update``'s keys set per namelist (None removes a key)."""
    out = copy.deepcopy(base)
    for name, values in update.items():
        target = out.setdefault(name.lower(), {})
        for key, val in values.items():
            if val is None:
                target.pop(key, None)
            else:
                target[key] = val
    return out


def n_electrons(
    structure: Structure,
    pseudos: Mapping[str, str],
    pseudo_dir: str | Path,
    tot_charge: float = 0.0,
) -> float:
    """Valence electrons in the cell (sum of UPF z_valence, minus ``tot_charge``)."""
    z = {el: upf_z_valence(Path(pseudo_dir) / name) for el, name in pseudos.items()}
    return sum(z[s.specie.symbol] for s in structure) - tot_charge


def needs_spin(structure: Structure, electrons: float) -> bool:
    """True for an odd electron count or an element of :data:`MAGNETIC_ELEMENTS`."""
    odd = round(electrons) % 2 == 1
    return odd or any(s.specie.symbol in MAGNETIC_ELEMENTS for s in structure)


@dataclass
class PwInputGenerator:
    """Builds :class:`PwInput` for ``calculation`` = scf | relax | vc-relax.

    Attributes:
        calculation: pw.x calculation.
        pseudo_family: Built-in family name or YAML map path (see :mod:`sseflows.qe.pseudos`).
        pseudo_dir: Pseudo folder; None → the ``pseudo_dir`` setting.
        ecutwfc: Wavefunction cutoff, Ry; None → largest UPF suggestion.
        dual: ecutrho / ecutwfc; None → max(largest UPF suggestion, 4 × ecutwfc).
        kspacing: k-point spacing, Å⁻¹ (2π included); None → Γ only.
        forc_conv_thr_ev_per_ang: Relaxation force threshold, eV/Å (converted to Ry/Bohr).
        etot_conv_thr_ry: Relaxation energy threshold, Ry.
        conv_thr_ry_per_atom: SCF threshold per atom, Ry (scaled by the atom count).
        smearing / degauss_ry: Occupations (smearing always on: vacancy cells may be metallic).
        spin: "auto" (rule in the module docstring), True or False.
        max_seconds: pw.x/neb.x stop cleanly (restartable) after this many seconds; set it
            to ~95 % of the batch allocation. None: no limit.
        user_input: Namelist overrides merged last, e.g. {"electrons": {"mixing_beta": 0.3}}.
    """

    calculation: str = "scf"
    pseudo_family: str = "pslibrary-1.0.0"
    pseudo_dir: str | None = None
    ecutwfc: float | None = None
    dual: float | None = None
    kspacing: float | None = 0.25
    forc_conv_thr_ev_per_ang: float = 3e-4
    etot_conv_thr_ry: float = 1e-5
    conv_thr_ry_per_atom: float = 1e-9
    smearing: str = "gaussian"
    degauss_ry: float = 0.005
    spin: str | bool = "auto"
    max_seconds: float | None = None
    user_input: dict[str, dict[str, Any]] = field(default_factory=dict)

    def get_input(
        self, structure: Structure, tot_charge: float = 0.0, **namelist_updates: dict
    ) -> PwInput:
        """The input for ``structure`` with charge ``tot_charge`` (-1 for a Li⁺ vacancy)."""
        folder = resolve_pseudo_dir(self.pseudo_dir)
        pseudos = pseudopotentials_for(
            [s.specie.symbol for s in structure], self.pseudo_family, folder
        )
        wfc, rho = (
            suggested_cutoffs(pseudos, folder)
            if self.ecutwfc is None or self.dual is None
            else (0.0, 0.0)
        )
        ecutwfc = float(self.ecutwfc if self.ecutwfc is not None else wfc)
        ecutrho = float(self.dual * ecutwfc if self.dual is not None else max(rho, 4.0 * ecutwfc))
        electrons = n_electrons(structure, pseudos, folder, tot_charge)
        spin = needs_spin(structure, electrons) if self.spin == "auto" else bool(self.spin)
        system: dict[str, Any] = {
            "ecutwfc": ecutwfc, "ecutrho": ecutrho, "occupations": "smearing",
            "smearing": self.smearing, "degauss": self.degauss_ry,
        }  # fmt: skip
        if tot_charge:
            system["tot_charge"] = float(tot_charge)
        if spin:
            system["nspin"] = 2
            species = sorted(pseudos)
            for i, el in enumerate(species, start=1):
                odd_only = not any(e in MAGNETIC_ELEMENTS for e in species)
                system[f"starting_magnetization({i})"] = (
                    0.5 if (el in MAGNETIC_ELEMENTS or odd_only) else 0.0
                )
        namelists: dict[str, dict[str, Any]] = {
            "control": {
                "calculation": self.calculation, "prefix": "pwscf", "outdir": "./out",
                "pseudo_dir": str(folder), "tprnfor": True,
                "tstress": self.calculation == "vc-relax",
            },
            "system": system,
            "electrons": {
                "conv_thr": self.conv_thr_ry_per_atom * len(structure), "mixing_beta": 0.4,
            },
        }  # fmt: skip
        if self.max_seconds:
            namelists["control"]["max_seconds"] = float(self.max_seconds)
        if self.calculation in ("relax", "vc-relax"):
            namelists["control"].update(
                forc_conv_thr=force_ev_ang_to_ry_bohr(self.forc_conv_thr_ev_per_ang),
                etot_conv_thr=self.etot_conv_thr_ry, nstep=100,
            )  # fmt: skip
            namelists["ions"] = {"ion_dynamics": "bfgs"}
        if self.calculation == "vc-relax":
            namelists["cell"] = {"cell_dynamics": "bfgs", "press_conv_thr": 0.5}
        namelists = merge_namelists(merge_namelists(namelists, self.user_input), namelist_updates)
        return PwInput(
            namelists, structure.copy(), pseudos, kmesh_from_kspacing(structure, self.kspacing)
        )


def cart_positions(structure: Structure) -> np.ndarray:
    """Cartesian positions, Å (helper for tests and NEB cards)."""
    return np.asarray(structure.cart_coords)
