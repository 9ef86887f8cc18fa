"""Output document of the filters gate (no transition metals, E_hull = 0, oxidation limit)."""

from __future__ import annotations

from pydantic import Field

from sseflows.core.documents import TierDoc


class FiltersDoc(TierDoc):
    """Outcome of the filters for one candidate; unset thresholds were not applied."""

    tier: str = "filters"
    transition_metals: list[str] = Field(
        default_factory=list, description="Transition metals in the composition (pymatgen's)."
    )
    e_hull_ev_per_atom: float | None = Field(
        default=None, description="E_hull judged by the E_hull = 0 filter, eV/atom."
    )
    oxidation_limit_v: float | None = Field(
        default=None, description="Oxidation limit, V vs Li/Li⁺ (None: not computed)."
    )
    oxidation_reaction: str | None = Field(
        default=None, description="Decomposition reaction at the oxidation limit."
    )
    chemsys: str = Field(default="", description="Chemical system of the phase diagram.")
    entries_source: str | None = Field(
        default=None, description="Where the phase-diagram entries came from (snapshot, live)."
    )
    no_transition_metals: bool = Field(default=False, description="Filter applied.")
    e_hull_zero: bool = Field(default=False, description="Filter applied.")
    e_hull_zero_tol_ev_per_atom: float = Field(
        default=1e-6, description="|E_hull| at or below this counts as 0, eV/atom."
    )
    oxidation_limit_min_v: float | None = Field(
        default=None, description="Keep oxidation limits above this, V (None: not applied)."
    )
    missing_policy: str = Field(
        default="keep", description="'keep' (unknown) or 'drop' when a value is unknown."
    )
