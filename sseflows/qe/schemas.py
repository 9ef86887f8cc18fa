"""Output documents of the NEB tier (Quantum ESPRESSO and ML-potential engines alike)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from sseflows.core.documents import HopDoc, TierDoc

__all__ = ["HopDoc", "NebDoc"]


class NebDoc(TierDoc):
    """A Li migration barrier from a (CI-)NEB calculation.

    Arrays (image positions, path coordinates) live in the JobStore ``data`` store under
    ``images``; the document keeps the scalars.
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
    images: list[dict] | None = Field(
        default=None, description="Image structures (as dicts); stored in the data store."
    )
