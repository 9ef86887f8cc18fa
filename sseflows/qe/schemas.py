"""Output documents of the NEB tier (Quantum ESPRESSO and ML-potential engines alike)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from sseflows.core.documents import HopDoc, TierDoc
from sseflows.core.neb_band import band_problem

__all__ = ["HopDoc", "NebDoc"]


class NebDoc(TierDoc):
    """A Li migration barrier from a (CI-)NEB calculation.

    Arrays (image positions, path coordinates) live in the JobStore ``data`` store under
    ``images``; the document keeps the scalars. ``barrier_ev`` is reported only from a
    converged band that passes :func:`sseflows.core.neb_band.band_problem`; otherwise the
    status is ``failed``, the reason says why, and the band (``energies_ev``, ``images``)
    is kept for inspection.
    """

    tier: str = "neb"
    engine: Literal["qe", "chgnet"] = Field(default="qe", description="Energy engine.")
    hop: HopDoc | None = Field(default=None, description="The hop this barrier belongs to.")
    supercell_matrix: list[list[int]] | None = Field(
        default=None, description="Integer matrix turning the unit cell into the supercell."
    )
    supercell_lengths_angstrom: list[float] | None = Field(
        default=None, description="Lattice-vector lengths of the supercell, Å."
    )
    n_images: int | None = Field(default=None, description="Intermediate images.")
    energies_ev: list[float] = Field(
        default_factory=list, description="Image energies relative to the first image, eV."
    )
    reaction_coordinate_angstrom: list[float] = Field(
        default_factory=list, description="Cumulative path length at each image, Å."
    )
    barrier_ev: float | None = Field(default=None, description="Forward barrier, eV.")
    barrier_back_ev: float | None = Field(default=None, description="Backward barrier, eV.")
    converged: bool = Field(
        default=False,
        description="The final stage (the climbing-image restart when it ran, else the plain "
        "NEB) reached the force threshold.",
    )
    climbing_image: bool = Field(
        default=False,
        description="The climbing-image stage ran; it starts only after the plain stage converged.",
    )
    plain_converged: bool = Field(
        default=False, description="The plain (non-climbing) NEB reached the force threshold."
    )
    plain_iterations: int | None = Field(
        default=None, description="NEB iterations of the plain stage."
    )
    climb_iterations: int | None = Field(
        default=None, description="NEB iterations of the climbing-image stage (0 when skipped)."
    )
    iterations: int | None = Field(
        default=None,
        description="NEB iterations of all stages: plain_iterations + climb_iterations.",
    )
    wall_s: float | None = Field(default=None, description="Wall time of the NEB, s.")
    endpoint_rattle_angstrom: float = Field(
        default=0.0,
        description="Random displacement of every endpoint atom before the endpoint "
        "relaxations (symmetry breaking), Å; 0 when none was applied.",
    )
    endpoint_replacements: list[dict] = Field(
        default_factory=list,
        description="Endpoints replaced by a relaxed image that lay below them, in order: "
        "'endpoint' (initial/final), 'image' (its index), 'below_ev' (how far below the "
        "lower endpoint it lay, eV) and 'energy_change_ev' of the replaced endpoint (eV).",
    )
    images: list[dict] | None = Field(
        default=None, description="Image structures (as dicts); stored in the data store."
    )

    def judged(self, tolerance_ev: float, unconverged: str = "the NEB did not converge") -> NebDoc:
        """This document if its band is a converged barrier, else withheld with the reason:
        the band check first (:func:`~sseflows.core.neb_band.band_problem`, naming an endpoint
        replacement already tried), then ``unconverged`` (a phrase) when it did not converge.
        """
        problem = band_problem(self.energies_ev, tolerance_ev) if self.energies_ev else None
        if problem is not None:
            again = ""
            if self.endpoint_replacements:
                last = self.endpoint_replacements[-1]
                again = (
                    f", also after the {last['endpoint']} endpoint was replaced by relaxed "
                    f"image {last['image']}"
                )
            return self.withhold_barrier(
                f"Candidate '{self.candidate_id}': {problem}{again}; no barrier is reported "
                "(the band is kept for inspection)."
            )
        if not self.converged:
            return self.withhold_barrier(
                f"Candidate '{self.candidate_id}': {unconverged}, so no barrier is reported."
            )
        return self

    def withhold_barrier(self, reason: str) -> NebDoc:
        """This document as ``failed`` with ``reason`` and no barrier; the band is kept."""
        return self.model_copy(
            update={
                "status": "failed",
                "reason": reason,
                "barrier_ev": None,
                "barrier_back_ev": None,
            }
        )
