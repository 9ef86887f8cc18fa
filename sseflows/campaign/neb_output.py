"""The barrier of a finished neb.x run, the use case behind ``sseflows qe parse-neb``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sseflows.core.neb import BAND_TOLERANCE_EV, band_problem
from sseflows.qe.parsers import parse_neb_output

NEB_JSON_KEYS = ("barrier_ev", "barrier_back_ev", "converged", "iterations", "energies_ev")
"""Keys of the record (:func:`neb_summary`) taken from the parse, in order."""


def neb_summary(path: Path, tolerance_ev: float | None = None) -> dict[str, Any]:
    """The record of the neb.x output ``path`` (:data:`NEB_JSON_KEYS`, energies in eV,
    plus the climbing image and the reaction coordinate in Å).

    ``band_problem`` says why the band is no barrier (:func:`sseflows.core.neb.
    band_problem` with ``tolerance_ev``, eV; None: the default); the barriers are then None.
    """
    result = parse_neb_output(path)
    record = {key: getattr(result, key) for key in NEB_JSON_KEYS}
    record["climbing_image"] = result.climbing_image
    record["reaction_coordinate_angstrom"] = result.reaction_coordinate_angstrom
    tolerance = BAND_TOLERANCE_EV if tolerance_ev is None else tolerance_ev
    problem = band_problem(result.energies_ev, tolerance) if result.energies_ev else None
    record["band_problem"] = problem
    if problem is not None:
        record["barrier_ev"] = record["barrier_back_ev"] = None
    return record
