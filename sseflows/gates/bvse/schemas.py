"""Output document of the BVSE gate."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from sseflows.core.documents import TierDoc

PathSites = tuple[int, int, tuple[int, int, int]]


class BVSEDoc(TierDoc):
    """Outcome of the BVSE gate for one candidate (energies in eV above the grid minimum)."""

    tier: str = "bvse"
    e1d_ev: float | None = Field(default=None, description="1D percolation barrier, eV.")
    e2d_ev: float | None = Field(default=None, description="2D percolation barrier, eV.")
    e3d_ev: float | None = Field(default=None, description="3D percolation barrier, eV.")
    gate_ea_ev: float | None = Field(default=None, description="Barrier the gate judged, eV.")
    gate_dimension: int | None = Field(default=None, description="Dimension of gate_ea_ev.")
    ea_max_ev: float = Field(default=0.6, description="Gate threshold, eV.")
    resolution_angstrom: float | None = Field(default=None, description="Grid spacing, Å.")
    grid_shape: tuple[int, int, int] | None = Field(default=None, description="Grid points.")
    treatment: str = Field(default="", description="How partial occupancy was handled.")
    wall_s: float | None = Field(default=None, description="Wall time of grid + path, s.")
    path_sites: PathSites | None = Field(
        default=None, description="(site_a, site_b, jimage) of the Li path: site_b + jimage."
    )
    path_points_angstrom: list[list[float]] | None = Field(
        default=None, description="Li path, Cartesian Å, unwrapped, site_a to site_b + jimage."
    )
    path_energies_ev: list[float] | None = Field(
        default=None, description="BVSE energy at each path point, eV above the grid minimum."
    )
    path_barrier_ev: float | None = Field(
        default=None, description="Highest path energy minus the energy at site_a, eV."
    )
    bvse_grid: Any = Field(
        default=None,
        description="Site-energy grid (eV above its minimum, shape grid_shape, 1 meV "
        "rounding); stored in the JobStore 'data' store.",
    )
