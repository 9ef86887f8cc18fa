"""Campaign specifications (``workflows/*.yaml``): which tiers, with which thresholds.

A spec encodes a published funnel so that a campaign is reproducible from one file:

.. code-block:: yaml

    name: laskowski2023
    reference: Laskowski et al., Energy Environ. Sci. 2023
    gates:
      mp: {e_hull_max_ev_per_atom: 0.07, band_gap_min_ev: 1.0}
      bvse: {ea_max_ev: 0.6, dimension: auto}
    neb: {engine: qe, top_k: 10, require_e_hull_zero: true, min_length: 10.0}
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sseflows.core.errors import ConfigurationError


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MPGateSpec(_Strict):
    """Materials Project gate thresholds (eV/atom, eV); unset ones keep the Maker's."""

    e_hull_max_ev_per_atom: float | None = None
    band_gap_min_ev: float | None = None
    missing_policy: Literal["keep", "drop"] | None = None


class BVSEGateSpec(_Strict):
    """BVSE gate: barrier threshold (eV) and which percolation dimension decides; unset ones
    keep the Maker's."""

    ea_max_ev: float | None = None
    dimension: Literal["auto", 1, 2, 3] | None = None


class GatesSpec(_Strict):
    """The cheap gates, in order; a missing gate is not run."""

    mp: MPGateSpec | None = Field(default_factory=MPGateSpec)
    bvse: BVSEGateSpec | None = Field(default_factory=BVSEGateSpec)


class NebSpec(_Strict):
    """The CI-NEB tier: engine and how many BVSE survivors it receives."""

    engine: Literal["qe", "chgnet"] = "qe"
    top_k: int = 10
    require_e_hull_zero: bool = False
    ranker: Literal["lowest_bvse_barrier", "lowest_e_hull"] | None = None
    """How the top_k are chosen (``sseflows.rank.selection.RANKERS``); None: the lowest BVSE
    barrier when the campaign has a BVSE gate, else the lowest E_hull."""
    min_length: float | None = None
    """Smallest supercell vector, Å (unset: the NEB Maker's)."""
    n_images: int | None = None
    """Intermediate images (unset: the NEB Maker's)."""


class MDSpec(_Strict):
    """The MD tier: engine, temperatures (K), time step (fs) and step counts; unset ones keep
    the MD Maker's (``sseflows.md.makers.MDArrheniusMaker``)."""

    engine: Literal["chgnet", "vasp"] = "chgnet"
    temperatures_k: list[float] | None = None
    timestep_fs: float | None = None
    equilibration_steps: int | None = None
    production_steps: int | None = None
    top_k: int = 5
    ranker: Literal["lowest_bvse_barrier", "lowest_e_hull"] | None = None
    """How the top_k are chosen, as for the NEB tier."""


class CampaignSpec(_Strict):
    """One campaign, as written in ``workflows/<name>.yaml``."""

    name: str
    reference: str = ""
    description: str = ""
    gates: GatesSpec = Field(default_factory=GatesSpec)
    neb: NebSpec | None = None
    md: MDSpec | None = None
    notes: dict[str, Any] = Field(default_factory=dict)


def load_campaign_spec(path: str | Path) -> CampaignSpec:
    """Read and validate a campaign YAML; errors are one clear sentence."""
    path = Path(path)
    if not path.is_file():
        raise ConfigurationError(f"Campaign specification {path} does not exist.")
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ConfigurationError(
            f"Campaign specification {path} is not valid YAML: {exc}."
        ) from exc
    try:
        return CampaignSpec.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ConfigurationError(
            f"Campaign specification {path} is invalid at '{where}': {first['msg']}."
        ) from exc
