"""Unit conversions between Quantum ESPRESSO's atomic units and eV/Å.

pw.x prints energies in Ry and forces in Ry/Bohr; neb.x's ``.path`` file holds Hartree and
Bohr. Constants are ASE's (CODATA 2014), so numbers agree with ``ase.io.espresso``.
"""

from __future__ import annotations

from ase import units as _u

RY_EV: float = float(_u.Ry)
"""One Rydberg in eV (13.605693...)."""
HA_EV: float = float(_u.Hartree)
"""One Hartree in eV (27.211386...)."""
BOHR_ANG: float = float(_u.Bohr)
"""One Bohr radius in Å (0.529177...)."""
RY_PER_BOHR_EV_PER_ANG: float = RY_EV / BOHR_ANG
"""One Ry/Bohr in eV/Å (25.711...)."""


def ry_to_ev(energy_ry: float) -> float:
    """Energy in Ry → eV."""
    return energy_ry * RY_EV


def ev_to_ry(energy_ev: float) -> float:
    """Energy in eV → Ry."""
    return energy_ev / RY_EV


def force_ev_ang_to_ry_bohr(force_ev_per_ang: float) -> float:
    """Force in eV/Å → Ry/Bohr (pw.x's ``forc_conv_thr`` unit); 3e-4 eV/Å ≈ 1.167e-5 Ry/Bohr."""
    return force_ev_per_ang / RY_PER_BOHR_EV_PER_ANG


def force_ry_bohr_to_ev_ang(force_ry_per_bohr: float) -> float:
    """Force in Ry/Bohr → eV/Å."""
    return force_ry_per_bohr * RY_PER_BOHR_EV_PER_ANG
