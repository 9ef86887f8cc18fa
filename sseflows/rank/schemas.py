"""Output document of the ranking stage: one :class:`RankDoc` per candidate."""

from __future__ import annotations

from pydantic import Field

from sseflows.core.documents import TierDoc


class RankDoc(TierDoc):
    """What the ranking model says about one candidate (σ in log10 S/cm).

    ``status`` is ``completed`` when the candidate was ranked and ``failed`` (with one
    sentence in ``reason``) when its features could not be computed.
    """

    tier: str = "rank"
    model_version: str = Field(default="", description="Id of the ranking model (12 hex).")
    p_superionic: float | None = Field(
        default=None, description="P(σ_RT ≥ the model's threshold), ensemble mean."
    )
    p_superionic_sd: float | None = Field(
        default=None, description="Spread of P(superionic) across ensemble members."
    )
    log10_sigma: float | None = Field(default=None, description="Predicted log10 σ_RT, S/cm.")
    log10_sigma_sd: float | None = Field(
        default=None, description="Spread of log10 σ_RT across members, log10 S/cm."
    )
    log10_sigma_lo: float | None = Field(
        default=None, description="Lower end of the calibrated interval (90 %), log10 S/cm."
    )
    log10_sigma_hi: float | None = Field(
        default=None, description="Upper end of the calibrated interval (90 %), log10 S/cm."
    )
    novelty: float | None = Field(
        default=None,
        description="Distance to the nearest training row over the typical such distance.",
    )
    near_training: bool = Field(
        default=False, description="Composition within 5 % of a training composition."
    )
    superionic_all_runs: bool | None = Field(
        default=None, description="Kang's rule: every GB and LightGBM run calls it superionic."
    )
    cluster: int | None = Field(default=None, description="Cluster index (clusters model).")
    selected: bool | None = Field(
        default=None, description="In a selected cluster (clusters model, 000 L401–404)."
    )
    rank: int | None = Field(default=None, description="1 = best by the stage's order.")
