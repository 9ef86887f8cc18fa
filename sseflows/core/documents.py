"""Fields shared by every tier's output document.

Each tier defines its own pydantic schema (``MPGateDoc``, ``BVSEDoc``, ``NebDoc``,
``ConductivityDoc``) by subclassing :class:`TierDoc`. ``status`` says what happened to the
candidate in that tier and ``reason`` says why in one human-readable sentence.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Literal

from pydantic import BaseModel, Field

Status = Literal["passed", "dropped", "failed", "unknown", "completed"]
"""``passed``: the gate let the candidate through. ``dropped``: a physics criterion
rejected it. ``failed``: the tier could not compute (bad input, crashed program).
``unknown``: no data to judge, kept and flagged by policy. ``completed``: a compute tier
(NEB, MD) produced its numbers."""

PROCEEDS: frozenset[str] = frozenset({"passed", "unknown", "completed"})
"""Statuses after which a candidate goes on to the next tier."""


def utc_now() -> datetime:
    """Timezone-aware current time, for ``created_at`` fields."""
    return datetime.now(timezone.utc)


class TierDoc(BaseModel):
    """Base of every tier document: who, which tier, what happened, with which settings."""

    candidate_id: str = Field(description="Safe id of the candidate.")
    formula: str = Field(default="", description="Reduced formula of the candidate.")
    tier: str = Field(description="Name of the tier that produced this document.")
    status: Status = Field(description="Outcome of this tier for the candidate.")
    reason: str = Field(default="", description="One sentence explaining the status.")
    settings: dict[str, Any] = Field(
        default_factory=dict, description="Settings the tier ran with."
    )
    created_at: datetime = Field(default_factory=utc_now, description="UTC creation time.")

    @property
    def proceeds(self) -> bool:
        """True when the candidate goes on to the next tier."""
        return self.status in PROCEEDS


class HopDoc(BaseModel):
    """One Li hop between two neighbouring Li sites of the (unit-cell) structure."""

    site_a: int = Field(description="Index of the starting Li site in the unit cell.")
    site_b: int = Field(description="Index of the destination Li site in the unit cell.")
    jimage: tuple[int, int, int] = Field(
        default=(0, 0, 0), description="Lattice translation of site_b relative to site_a."
    )
    length_angstrom: float = Field(description="Straight-line hop length, Å.")
    multiplicity: int = Field(default=1, description="Symmetry-equivalent hops of this kind.")


class HopBarrierDoc(HopDoc):
    """One distinct Li hop with its NEB barrier, as ``NebDoc.hops`` lists them."""

    index: int = Field(description="Index of the distinct hop (shortest first).")
    status: Status = Field(description="'completed' with a barrier, else 'failed'.")
    reason: str = Field(default="", description="One sentence on the hop's band.")
    barrier_ev: float | None = Field(default=None, description="Forward barrier, eV.")
    barrier_back_ev: float | None = Field(default=None, description="Backward barrier, eV.")
    percolation_barrier_ev: float | None = Field(
        default=None,
        description="The larger of the forward and backward barriers (the saddle above the "
        "lower of the two sites), eV: the hop's barrier in the percolation analysis.",
    )
    converged: bool = Field(default=False, description="The band's last stage converged.")
    climbing_image: bool = Field(default=False, description="The climbing-image stage ran.")
    iterations: int | None = Field(default=None, description="NEB iterations of all stages.")
    energies_ev: list[float] = Field(
        default_factory=list, description="Image energies relative to the first image, eV."
    )
    reaction_coordinate_angstrom: list[float] = Field(
        default_factory=list, description="Cumulative path length at each image, Å."
    )
    wall_s: float | None = Field(default=None, description="Wall time of this hop, s.")
    images: list[dict] | None = Field(
        default=None, description="Image structures (as dicts); stored in the data store."
    )
