"""Output document of the Materials Project gate."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from sseflows.core.documents import TierDoc

ValueSource = Literal["candidate", "snapshot", "live"]


class MPGateDoc(TierDoc):
    """Outcome of the Materials Project gate for one candidate."""

    tier: str = "mp"
    mp_id: str | None = Field(default=None, description="Matched (or given) MP id.")
    e_hull_ev_per_atom: float | None = Field(
        default=None, description="Energy above hull used for the decision, eV/atom."
    )
    band_gap_ev: float | None = Field(
        default=None, description="Band gap used for the decision, eV."
    )
    value_source: ValueSource | None = Field(
        default=None,
        description="Where the values came from: 'candidate' when all known values were "
        "given with it, else the MP source ('snapshot' or 'live') that filled any of them.",
    )
    value_sources: dict[str, ValueSource] = Field(
        default_factory=dict,
        description="Origin of each known value, keys 'e_hull_ev_per_atom' and 'band_gap_ev'.",
    )
    mp_formula: str | None = Field(default=None, description="Formula of the matched entry.")
    mp_database_version: str | None = Field(
        default=None, description="MP database release of the matched entry."
    )
    e_hull_max_ev_per_atom: float = Field(default=0.07, description="E_hull limit, eV/atom.")
    band_gap_min_ev: float = Field(default=1.0, description="Band-gap minimum, eV.")
    missing_policy: str = Field(
        default="keep", description="'keep' or 'drop' when neither value is known."
    )
