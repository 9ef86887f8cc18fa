"""BVSE barriers of one structure file, the use case behind ``sseflows bvse``: the BVSE
gate Maker itself, so that what is printed is what the gate stores."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sseflows.core.candidate import Candidate
from sseflows.core.overrides import apply_overrides
from sseflows.data.files import read_structure_file
from sseflows.gates.bvse.maker import BVSEGateMaker
from sseflows.gates.bvse.schemas import BVSEDoc


@dataclass
class BvseResult:
    """The structure read as a candidate and the BVSE gate's document on it (barriers in
    eV, Li path points in Å)."""

    candidate: Candidate
    doc: BVSEDoc


def bvse_barriers(
    structure_file: Path, resolution_angstrom: float | None = None, timeout_s: float | None = None
) -> BvseResult:
    """Run the BVSE gate on the structure in ``structure_file``; ``resolution_angstrom``
    (grid spacing, Å) and ``timeout_s`` (wall-time limit, s) override the Maker's defaults
    when given. A candidate the gate cannot handle gets a ``failed`` document.

    Raises:
        CandidateError: the file cannot be read as a structure.
        ConfigurationError: an invalid override.
    """
    overrides = {"resolution_angstrom": resolution_angstrom, "timeout_s": timeout_s}
    maker = apply_overrides(BVSEGateMaker(), {k: v for k, v in overrides.items() if v is not None})
    candidate = read_structure_file(structure_file)
    return BvseResult(candidate, maker.gate(candidate))
