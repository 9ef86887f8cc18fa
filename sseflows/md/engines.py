"""MD engines on atomate2 Makers: CHGNet (forcefield MD) here, VASP AIMD on clusters.

* CHGNet: atomate2's :class:`~atomate2.forcefields.md.ForceFieldMDMaker` used as is
  (``force_field_name="CHGNet"``, Langevin NVT, the atomate2 default thermostat with a
  10 ps⁻¹ friction as in VASP). CHGNet's weights ship in its wheel, so it runs offline.
* VASP: atomate2's :class:`~atomate2.vasp.jobs.md.MDMaker` with an ``MDSetGenerator``
  configured by an :class:`AIMDProtocol`; :data:`KANG2022` is the published protocol
  (PBE, ENCUT 400 eV, Γ-only, 2 fs, NVT Nosé–Hoover, 3,000 + 10,000 steps at
  600/800/1000/1200 K). Inputs are written with a ``POTCAR.spec`` (POTCAR symbols only),
  so no VASP pseudopotentials are needed to prepare a run.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from atomate2.forcefields.md import ForceFieldMDMaker
from atomate2.vasp.jobs.md import MDMaker
from atomate2.vasp.sets.core import MDSetGenerator
from pymatgen.core import Structure
from pymatgen.io.vasp.inputs import Kpoints

from sseflows.core.errors import CandidateError


def supercell_scaling(
    structure: Structure, min_length_a: float = 10.0, min_atoms: int = 0
) -> tuple[int, int, int]:
    """Diagonal scaling so every perpendicular cell width is ≥ ``min_length_a`` Å.

    Then, while the cell has fewer than ``min_atoms`` atoms, the axis with the smallest
    perpendicular width grows by one repeat at a time.
    """
    matrix = structure.lattice.matrix
    volume = abs(np.linalg.det(matrix))
    widths = np.array(
        [
            volume / np.linalg.norm(np.cross(matrix[(i + 1) % 3], matrix[(i + 2) % 3]))
            for i in range(3)
        ]
    )
    scale = [max(1, math.ceil(min_length_a / w - 1e-9)) for w in widths]
    while len(structure) * int(np.prod(scale)) < min_atoms:
        axis = int(np.argmin(widths * np.array(scale)))
        scale[axis] += 1
    return scale[0], scale[1], scale[2]


def md_supercell(
    structure: Structure,
    candidate_id: str,
    min_length_a: float = 10.0,
    min_atoms: int = 0,
    max_atoms: int = 400,
) -> Structure:
    """The MD cell: ordered ``structure`` repeated by :func:`supercell_scaling`.

    A disordered candidate reaches here as its ordered approximant
    (:func:`sseflows.flows.tiers.make_tier_flow`), possibly already a supercell: the size
    rule repeats that cell, and an approximant larger than ``max_atoms`` by itself fails.

    Raises:
        CandidateError: The structure is disordered, or it or its supercell exceeds
            ``max_atoms``.
    """
    if not structure.is_ordered:  # safety net: the tiers' flow orders it first
        raise CandidateError(
            candidate_id, "the structure has partial occupancies; order it before MD"
        )
    if len(structure) > max_atoms:
        raise CandidateError(
            candidate_id,
            f"its {len(structure)}-atom cell (the ordered approximant of a disordered "
            f"structure, or the ordered cell) alone exceeds the MD limit of {max_atoms} atoms "
            "(supercell_max_atoms)",
        )
    scale = supercell_scaling(structure, min_length_a, min_atoms)
    n_atoms = len(structure) * int(np.prod(scale))
    if n_atoms > max_atoms:
        raise CandidateError(
            candidate_id,
            f"the {scale[0]}x{scale[1]}x{scale[2]} MD supercell would have {n_atoms} atoms, "
            f"more than the limit of {max_atoms}",
        )
    return structure.make_supercell(scale, in_place=False)


def chgnet_md_maker(
    temperature_k: float,
    n_steps: int,
    time_step_fs: float = 2.0,
    traj_interval: int = 10,
    seed: int | None = 0,
) -> ForceFieldMDMaker:
    """atomate2's forcefield MD Maker for CHGNet NVT at ``temperature_k`` (K).

    ``n_steps`` includes equilibration; a frame is stored every ``traj_interval`` steps
    (so frames are ``traj_interval × time_step_fs`` fs apart); the trajectory goes to the
    JobStore's ``data`` store (atomate2 stores it there). Initial velocities are
    Maxwell–Boltzmann with zero total momentum, drawn with ``seed``.
    """
    return ForceFieldMDMaker(
        name=f"chgnet md {temperature_k:g} K",
        force_field_name="CHGNet",
        temperature=float(temperature_k),
        n_steps=int(n_steps),
        time_step=float(time_step_fs),
        traj_interval=int(traj_interval),
        mb_velocity_seed=seed,
        zero_linear_momentum=True,
        ionic_step_data=("energy",),
    )


@dataclass(frozen=True)
class AIMDProtocol:
    """A VASP AIMD protocol (units: K, fs, eV).

    Attributes:
        name: Short name of the preset.
        temperatures_k: MD temperatures, K.
        time_step_fs: POTIM, fs.
        equilibration_steps: Steps discarded before the analysis.
        production_steps: Steps analysed.
        encut_ev: Plane-wave cutoff, eV.
        gga: VASP GGA tag (``PE`` = PBE).
        smass: Nosé mass tag (0 = VASP's default Nosé period for MDALGO=2).
        supercell_min_length_a: Minimum perpendicular width of the MD cell, Å.
        supercell_max_atoms: Largest MD cell accepted.
        reference: Where the protocol comes from.
    """

    name: str = "kang2022"
    temperatures_k: tuple[float, ...] = (600.0, 800.0, 1000.0, 1200.0)
    time_step_fs: float = 2.0
    equilibration_steps: int = 3000
    production_steps: int = 10000
    encut_ev: float = 400.0
    gga: str = "PE"
    smass: float = 0.0
    supercell_min_length_a: float = 10.0
    supercell_max_atoms: int = 400
    reference: str = "Kang et al. (AIMD protocol in DESIGN.md): PBE, 400 eV, Gamma, 2 fs, NVT NH"

    @property
    def n_steps(self) -> int:
        """NSW: equilibration and production in one run."""
        return self.equilibration_steps + self.production_steps

    def incar_settings(self) -> dict[str, object]:
        """INCAR tags set on top of atomate2's ``MDSetGenerator`` (None removes a tag).

        Published: ENCUT, PBE, NVT Nosé–Hoover (MDALGO = 2, SMASS), POTIM, Γ-only.
        Added for a non-magnetic insulator MD: ISPIN = 1, and no charge/ELF/potential
        files written each step.
        """
        return {
            "ENCUT": self.encut_ev,
            "GGA": self.gga,
            "MDALGO": 2,
            "SMASS": self.smass,
            "ISPIN": 1,
            "MAGMOM": None,
            "LAECHG": False,
            "LVTOT": False,
            "LELF": False,
            "LORBIT": None,
            "EDIFFG": None,
        }


KANG2022 = AIMDProtocol()
"""Kang et al. AIMD protocol (the only preset; immutable)."""

PRESETS: tuple[AIMDProtocol, ...] = (KANG2022,)


def get_protocol(name: str) -> AIMDProtocol:
    """The preset called ``name``; ValueError naming the known ones otherwise."""
    for protocol in PRESETS:
        if protocol.name == name:
            return protocol
    known = ", ".join(p.name for p in PRESETS)
    raise ValueError(f"unknown AIMD preset '{name}'; known presets: {known}")


def vasp_md_set_generator(temperature_k: float, protocol: AIMDProtocol = KANG2022):
    """atomate2 ``MDSetGenerator`` for NVT at ``temperature_k`` (K), Γ-only k-points."""
    return MDSetGenerator(
        ensemble="nvt",
        start_temp=float(temperature_k),
        end_temp=float(temperature_k),
        nsteps=protocol.n_steps,
        time_step=protocol.time_step_fs,
        user_incar_settings=protocol.incar_settings(),
        # pymatgen documents "dict or Kpoints" here but annotates the field as dict
        user_kpoints_settings=Kpoints.gamma_automatic((1, 1, 1)),  # type: ignore[arg-type]
    )


def vasp_md_maker(temperature_k: float, protocol: AIMDProtocol = KANG2022) -> MDMaker:
    """atomate2's VASP ``MDMaker`` running ``protocol`` at ``temperature_k`` (K)."""
    return MDMaker(
        name=f"vasp aimd {temperature_k:g} K",
        input_set_generator=vasp_md_set_generator(temperature_k, protocol),
    )


def write_vasp_md_inputs(
    structure: Structure, outdir: str | Path, protocol: AIMDProtocol = KANG2022
) -> list[Path]:
    """Write one VASP input folder per temperature (``T600K/``...) with a POTCAR.spec.

    ``structure`` is used as given (make the supercell first). Returns the folders.
    """
    outdir = Path(outdir)
    folders = []
    for temperature in protocol.temperatures_k:
        folder = outdir / f"T{temperature:g}K"
        generator = vasp_md_set_generator(temperature, protocol)
        generator.get_input_set(structure, potcar_spec=True).write_input(folder)
        folders.append(folder)
    return folders
