"""Cutoff and k-spacing convergence of one structure file with pw.x, the use case behind
``sseflows qe converge``."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from sseflows.core.errors import CandidateError
from sseflows.data.files import read_structure_file
from sseflows.qe.convergence import QeConvergenceMaker


def converge_structure(
    structure_file: Path,
    ecutwfc_values: tuple[float, ...] | None = None,
    kspacing_values: tuple[float, ...] | None = None,
    dual: float = 4.0,
    tol_ev_per_atom: float = 1e-3,
    pseudo_dir: str | None = None,
    launcher: str | None = None,
    work_dir: str = "qe_runs",
) -> dict[str, Any]:
    """Converge the cutoff (``ecutwfc_values``, Ry; None: from the pseudopotentials' hints)
    and the k-spacing (``kspacing_values``, Å⁻¹; None: the Maker's series) of the structure
    in ``structure_file`` to ``tol_ev_per_atom`` (eV/atom), ``ecutrho = dual × ecutwfc``;
    returns :meth:`~sseflows.qe.convergence.QeConvergenceMaker.converge`'s result
    (``ecutwfc``, ``ecutrho``, ``kspacing``, ``settled``, ...).

    Raises:
        CandidateError: the file cannot be read as a structure.
        ConfigurationError: missing pseudopotentials or executables.
        QeRunError: pw.x failed beyond what the handlers recover from.
    """
    maker = QeConvergenceMaker(dual=dual, tol_ev_per_atom=tol_ev_per_atom, work_dir=work_dir)
    maker = replace(
        maker,
        generator=replace(maker.generator, pseudo_dir=pseudo_dir),
        ecutwfc_values=ecutwfc_values,
        kspacing_values=kspacing_values or maker.kspacing_values,
        launcher=launcher,
    )
    candidate = read_structure_file(structure_file)
    if candidate.structure is None:  # read_structure_file always sets it; for the type
        raise CandidateError(candidate.id, "has no structure")
    return maker.converge(candidate.structure, candidate.id)
