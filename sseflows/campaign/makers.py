"""The Makers of a campaign's stages, built from its spec (:class:`CampaignMakers`)."""

from __future__ import annotations

from dataclasses import dataclass

from sseflows.campaign.neb import neb_maker
from sseflows.campaign.spec import CampaignSpec, RankSpec
from sseflows.core.maker import TierMaker
from sseflows.core.overrides import apply_overrides
from sseflows.flows.screening import ScreeningFlowMaker
from sseflows.gates.bvse.maker import BVSEGateMaker
from sseflows.gates.filters.maker import FiltersMaker
from sseflows.gates.mp.maker import MPGateMaker


@dataclass
class CampaignMakers:
    """The Makers of each stage (None skips a tier)."""

    screening: ScreeningFlowMaker
    neb: TierMaker | None = None
    neb_top_k: int = 0
    require_e_hull_zero: bool = False
    md: TierMaker | None = None
    md_top_k: int = 0
    neb_ranker: str | None = None
    md_ranker: str | None = None
    rank: RankSpec | None = None
    """The ranking stage's settings (None: no ranking stage)."""
    rank_model_path: str | None = None
    """The model file the ranking stage uses (:func:`resolve_rank_model`)."""

    @classmethod
    def from_spec(
        cls,
        spec: CampaignSpec,
        snapshot: str | None = None,
        neb_engine: str | None = None,
        min_length: float | None = None,
    ) -> CampaignMakers:
        """Makers for ``spec``; ``neb_engine`` and ``min_length`` override the spec.

        Raises:
            ConfigurationError: ``neb_engine`` is chgnet while the spec sets ``neb.ml_seed``
                (settings of the QE engine only).
        """
        gates = spec.gates
        mp = {"snapshot": snapshot} | (gates.mp.model_dump(exclude_none=True) if gates.mp else {})
        filters = None
        if spec.filters is not None and spec.filters.active:
            filters = FiltersMaker(snapshot=snapshot, **spec.filters.model_dump())
        screening = ScreeningFlowMaker(
            mp_gate=apply_overrides(MPGateMaker(), mp) if gates.mp else None,
            bvse_gate=apply_overrides(BVSEGateMaker(), gates.bvse.model_dump(exclude_none=True))
            if gates.bvse
            else None,
            filters=filters,
        )
        makers = cls(screening=screening, rank=spec.rank)
        if spec.neb is not None:
            ml_seed = spec.neb.ml_seed
            makers.neb = neb_maker(
                neb_engine or spec.neb.engine,
                min_length if min_length is not None else spec.neb.min_length,
                spec.neb.n_images,
                ml_seed=None if ml_seed is None else ml_seed.model_dump(exclude_none=True),
            )
            makers.neb_top_k = spec.neb.top_k
            makers.require_e_hull_zero = spec.neb.require_e_hull_zero
            makers.neb_ranker = spec.neb.ranker
        if spec.md is not None:
            from sseflows.md.makers import MDArrheniusMaker

            md = spec.md.model_dump(exclude_none=True, exclude={"top_k", "ranker"})
            if "timestep_fs" in md:
                md["time_step_fs"] = md.pop("timestep_fs")
            makers.md = apply_overrides(MDArrheniusMaker(), md)
            makers.md_top_k = spec.md.top_k
            makers.md_ranker = spec.md.ranker
        return makers
