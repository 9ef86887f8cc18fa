"""Parsers for pw.x and neb.x outputs (QE 6.x text formats).

:func:`parse_pw_output` reads energies (eV), forces (eV/Å), the final structure (via
``ase.io.espresso``), flags and timings; :func:`parse_neb_output` reads neb.x's output and
its ``<prefix>.dat`` / ``<prefix>.path`` files. :data:`PW_ERRORS` is the one table of failure
messages; the error handlers use its keys.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from ase.io.espresso import read_espresso_out
from pymatgen.core import Structure
from pymatgen.io.ase import AseAtomsAdaptor

from sseflows.qe.units import BOHR_ANG, HA_EV, RY_EV

PW_ERRORS: dict[str, tuple[str, ...]] = {
    "scf_not_converged": ("convergence NOT achieved",),
    "bfgs_history_failure": ("history already reset at previous step: stopping", "bfgs failed"),
    "max_ionic_steps": ("The maximum number of steps has been reached.",),
    "diagonalization": (
        "S matrix not positive definite",
        "problems computing cholesky",
        "eigenvectors failed to converge",
        "too many bands are not converged",
        "Error in routine cdiaghg",
        "Error in routine rdiaghg",
    ),
    "walltime": ("Maximum CPU time exceeded",),
    "qe_error": ("Error in routine",),
}
"""Failure family → messages pw.x prints for it."""

NEB_ERRORS: dict[str, tuple[str, ...]] = {
    "neb_max_steps": ("neb: reached the maximum number of steps",),
    "walltime": ("Maximum CPU time exceeded",),
    "qe_error": ("Error in routine",),
}

JOB_DONE = "JOB DONE."
_ENERGY = re.compile(r"^!\s+total energy\s+=\s+(-?[\d.]+)\s+Ry", re.M)
_SCF_ITERS = re.compile(r"convergence has been achieved in\s+(\d+)\s+iterations")
_NAT = re.compile(r"number of atoms/cell\s*=\s*(\d+)")
_CALC = re.compile(r"^\s*calculation\s*=\s*'([\w-]+)'", re.M)
_WALL = re.compile(r"^\s+(?:PWSCF|NEB)\s+:.*CPU\s+(.+?)\s+WALL", re.M)
_GRAD = re.compile(r"Gradient error\s*=\s*([\d.E+-]+)")
_FORCE_CRIT = re.compile(r"force <\s*([\d.E+-]+)\s*Ry/Bohr")
_IONIC_OK = ("bfgs converged", "Damped Dynamics: convergence achieved", "Wentzcovitch Damped")


def parse_qe_time(text: str) -> float:
    """QE's time strings ('1.55s', '2m 3.45s', '3h 3m', '1d 2h') → seconds."""
    units = {"d": 86400.0, "h": 3600.0, "m": 60.0, "s": 1.0}
    return sum(float(v) * units[u] for v, u in re.findall(r"([\d.]+)\s*([dhms])", text))


_QE_ERROR = re.compile(r"Error in routine\s+(\S+)\s*\(\s*-?\d+\s*\):\s*\n\s*(.+)")


def qe_error_message(text: str) -> str | None:
    """QE's own error sentence, e.g. "too few bands (routine setup)", or None."""
    match = _QE_ERROR.search(text)
    return f"{match.group(2).strip()} (routine {match.group(1)})" if match else None


def classify_errors(text: str, table: dict[str, tuple[str, ...]] = PW_ERRORS) -> list[str]:
    """Failure families whose messages occur in ``text`` (table order)."""
    return [key for key, messages in table.items() if any(m in text for m in messages)]


@dataclass
class PwResult:
    """What one pw.x output says. Energies eV, forces eV/Å, times s."""

    energy_ev: float | None
    energies_ev: list[float]
    forces_ev_per_ang: np.ndarray | None
    structure: Structure | None
    converged: bool
    job_done: bool
    calculation: str
    n_atoms: int | None
    scf_steps: list[int]
    wall_s: float | None
    errors: list[str] = field(default_factory=list)
    error_message: str | None = None

    @property
    def energy_ev_per_atom(self) -> float | None:
        """Final energy per atom, eV."""
        if self.energy_ev is None or not self.n_atoms:
            return None
        return self.energy_ev / self.n_atoms


def _last_image(path: Path):
    """Last structure with energy/forces that ASE can read, or None (truncated/failed scf)."""
    with path.open() as handle:
        try:
            images = list(read_espresso_out(handle, index=slice(None)))
        except (AssertionError, ValueError, IndexError, KeyError, StopIteration):
            return None
    return images[-1] if images else None


def parse_pw_output(path: str | Path, calculation: str | None = None) -> PwResult:
    """Parse a pw.x output file (``calculation`` is read from the echoed input if not given)."""
    path = Path(path)
    text = path.read_text(errors="replace")
    energies = [float(e) * RY_EV for e in _ENERGY.findall(text)]
    match = _CALC.search(text)
    calc = calculation or (match.group(1) if match else "scf")
    if calc == "scf" and ("new unit-cell volume" in text or "Final enthalpy" in text):
        calc = "vc-relax"
    elif calc == "scf" and ("Geometry Optimization" in text or "Final energy" in text):
        calc = "relax"
    errors = classify_errors(text)
    job_done = JOB_DONE in text
    if not job_done and "walltime" not in errors:
        errors.append("incomplete")
    scf_ok = bool(_SCF_ITERS.search(text)) and "scf_not_converged" not in errors
    if calc in ("relax", "vc-relax", "md", "vc-md"):
        ionic_ok = any(m in text for m in _IONIC_OK)
        bad = {"bfgs_history_failure", "max_ionic_steps"} & set(errors)
        grads, crit = _GRAD.findall(text), _FORCE_CRIT.findall(text)
        if bad == {"bfgs_history_failure"} and grads and crit:
            # QE stops BFGS after two history resets and calls it "converged": accept it
            # only when the last gradient error meets the force criterion.
            bad = set() if float(grads[-1]) <= float(crit[-1]) else bad
        converged = job_done and scf_ok and ionic_ok and not bad
    else:
        converged = job_done and scf_ok and not errors
    image = _last_image(path)
    structure = forces = None
    if image is not None:
        structure = AseAtomsAdaptor.get_structure(image)
        results = getattr(image.calc, "results", {})
        forces = np.asarray(results["forces"]) if "forces" in results else None
    nat = _NAT.search(text)
    walls = _WALL.findall(text)
    return PwResult(
        energy_ev=energies[-1] if energies else None,
        energies_ev=energies,
        forces_ev_per_ang=forces,
        structure=structure,
        converged=converged,
        job_done=job_done,
        calculation=calc,
        n_atoms=int(nat.group(1)) if nat else None,
        scf_steps=[int(n) for n in _SCF_ITERS.findall(text)],
        wall_s=parse_qe_time(walls[-1]) if walls else None,
        errors=errors,
        error_message=qe_error_message(text),
    )


def pw_output_complete(path: str | Path) -> bool:
    """True when ``path`` exists and holds a finished, converged pw.x run (skip re-running)."""
    path = Path(path)
    return path.is_file() and parse_pw_output(path).converged


# --------------------------------------------------------------------------- neb.x
_ITER = re.compile(r"-+ iteration\s+(\d+) -+")
_ACT_F = re.compile(r"activation energy \(->\)\s*=\s*(-?[\d.]+)\s*eV")
_ACT_B = re.compile(r"activation energy \(<-\)\s*=\s*(-?[\d.]+)\s*eV")
_TABLE = re.compile(
    r"image\s+energy \(eV\)\s+error \(eV/A\)\s+frozen\s*\n\s*\n"
    r"((?:\s+\d+\s+-?[\d.]+\s+[\d.]+\s+[TF]\s*\n)+)"
)
_PATH_LEN = re.compile(r"path length\s*=\s*([\d.]+)\s*bohr")
_CONV = re.compile(r"neb: convergence achieved in\s+(\d+)\s+iterations")
_CI = re.compile(r"CI_scheme\s*=\s*(\S+)")


@dataclass
class NebResult:
    """What a neb.x run says. Energies eV relative to the first image; lengths Å."""

    energies_ev: list[float]
    absolute_energies_ev: list[float]
    errors_ev_per_ang: list[float]
    reaction_coordinate_angstrom: list[float]
    barrier_ev: float | None
    barrier_back_ev: float | None
    converged: bool
    iterations: int
    climbing_image: bool
    job_done: bool
    wall_s: float | None
    positions_angstrom: list[np.ndarray] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    error_message: str | None = None


def read_path_file(path: str | Path) -> tuple[list[float], list[np.ndarray]]:
    """neb.x ``<prefix>.path``: image energies (eV, absolute) and positions (Å)."""
    lines = Path(path).read_text().splitlines()
    energies, positions = [], []
    i = 0
    while i < len(lines):
        if lines[i].startswith("Image:"):
            energies.append(float(lines[i + 1].replace("D", "E")) * HA_EV)
            block = []
            i += 2
            while i < len(lines) and not lines[i].startswith("Image:") and lines[i].strip():
                block.append([float(v) for v in lines[i].split()[:3]])
                i += 1
            positions.append(np.array(block) * BOHR_ANG)
        else:
            i += 1
    return energies, positions


def _prefix_files(out: Path, prefix: str | None, suffix: str) -> Path | None:
    if prefix:
        cand = out.parent / f"{prefix}{suffix}"
        return cand if cand.is_file() else None
    found = sorted(p for p in out.parent.glob(f"*{suffix}") if p.name != f"neb{suffix}")
    return found[0] if found else None


def parse_neb_output(path: str | Path, prefix: str | None = None) -> NebResult:
    """Parse neb.x output ``path`` plus ``<prefix>.dat`` / ``.path`` beside it (prefix guessed
    from the folder's ``*.path`` file when not given)."""
    out = Path(path)
    text = out.read_text(errors="replace")
    tables = _TABLE.findall(text)
    table = [line.split() for line in tables[-1].strip().splitlines()] if tables else []
    absolute = [float(row[1]) for row in table]
    err = [float(row[2]) for row in table]
    energies = [e - absolute[0] for e in absolute] if absolute else []
    coordinate: list[float] = []
    dat = _prefix_files(out, prefix, ".dat")
    lengths = _PATH_LEN.findall(text)
    if dat is not None:
        rows = np.loadtxt(dat, ndmin=2)
        if len(rows) == len(energies) or not energies:
            energies = rows[:, 1].tolist()
            err = rows[:, 2].tolist() if rows.shape[1] > 2 else err
            total = float(lengths[-1]) * BOHR_ANG if lengths else 1.0
            coordinate = (rows[:, 0] * total).tolist()
    positions: list[np.ndarray] = []
    pathfile = _prefix_files(out, prefix, ".path")
    if pathfile is not None:
        path_e, positions = read_path_file(pathfile)
        if not absolute:
            absolute = path_e
    iterations = [int(n) for n in _ITER.findall(text)]
    ci = _CI.findall(text)
    walls = _WALL.findall(text)
    return NebResult(
        energies_ev=energies,
        absolute_energies_ev=absolute,
        errors_ev_per_ang=err,
        reaction_coordinate_angstrom=coordinate,
        barrier_ev=max(energies) - energies[0] if energies else None,
        barrier_back_ev=max(energies) - energies[-1] if energies else None,
        converged=bool(_CONV.search(text)),
        iterations=max(iterations) if iterations else 0,
        climbing_image=bool(ci) and ci[-1].lower() != "no-ci" and "climbing image" in text,
        job_done=JOB_DONE in text,
        wall_s=parse_qe_time(walls[-1]) if walls else None,
        positions_angstrom=positions,
        errors=classify_errors(text, NEB_ERRORS) + ([] if JOB_DONE in text else ["incomplete"]),
        error_message=qe_error_message(text),
    )
