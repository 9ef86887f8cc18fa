"""Campaign specifications (``workflows/*.yaml``): which tiers, with which thresholds.

A spec encodes a published funnel so that a campaign is reproducible from one file; every
stage is a typed field and an unknown key is an error:

.. code-block:: yaml

    name: kang
    reference: Kang et al.
    rank:                       # the ranking stage (sseflows.rank)
      train: {source: store, model: kang, threshold_s_per_cm: 1.0e-4}
      representation: magpie
      superionic_all_runs: true # or p_min / top_n / clusters / novelty_filter
      stage: after_gates        # or first (the default): rank the pool before any gate
    filters: {no_transition_metals: true, e_hull_zero: true, oxidation_limit_min_v: 3.7}
    gates:
      mp: {band_gap_min_ev: 1.0}
      bvse: null
    md: {engine: vasp, temperatures_k: [600, 800, 1000, 1200], top_k: 10}
    loop: {rounds: 3, batch_size: 5, acquisition: ucb, stop_after_rounds_without_hit: 2}

The order a campaign runs them in is :meth:`CampaignSpec.stages`: the ranking stage first
(``rank.stage: first``) or after the cheap gates (``after_gates``, the order of Kang et al.
and McHaffie et al.), the MP gate, the filters, the BVSE gate, then NEB and MD. Every cheap
criterion judges one candidate alone, so the survivors of these stages do not depend on
their order; only the counts per stage do.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

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


class MlSeedSpec(_Strict):
    """The ML NEB runs a QE NEB starts from (the CHGNet band its images are mapped from, the
    CHGNet NEB over every hop choosing its limiting hop): fields of
    ``sseflows.core.images.MlSeedSettings``; unset ones keep its defaults."""

    force_field_name: Literal["CHGNet"] | None = None
    """The potential (only CHGNet is installed)."""
    image_method: Literal["linear", "idpp", "bvse"] | None = None
    """How the ML band starts (default linear)."""
    fmax_ev_per_angstrom: float | None = Field(default=None, gt=0)
    """Force threshold of both ML NEB stages, eV/Å (default 0.05)."""
    max_steps: int | None = Field(default=None, ge=1)
    """Optimiser steps of both ML NEB stages together (default 300)."""
    climbing_image: bool | None = None
    """Restart the ML band with the climbing image (default true)."""


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
    ml_seed: MlSeedSpec | None = None
    """The QE engine's ML seed settings (unset: the Maker's); not for the chgnet engine."""

    @model_validator(mode="after")
    def _ml_seed_needs_qe(self) -> NebSpec:
        if self.ml_seed is not None and self.engine != "qe":
            raise ValueError("ml_seed applies to the qe engine only")
        return self


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


class FiltersSpec(_Strict):
    """Kang et al.'s filters, run after the MP gate (:mod:`sseflows.gates.filters`)."""

    no_transition_metals: bool = False
    """Drop compositions holding a transition metal (pymatgen's ``is_transition_metal``)."""
    e_hull_zero: bool = False
    """Keep only candidates on the hull: |E_hull| <= ``e_hull_zero_tol_ev_per_atom``."""
    e_hull_zero_tol_ev_per_atom: float = Field(default=1e-6, ge=0)
    """Tolerance of E_hull = 0, eV/atom (MP stores exactly 0 for hull phases)."""
    oxidation_limit_min_v: float | None = None
    """Keep oxidation limits above this, V vs Li/Li⁺ (Kang et al.: 3.7); None: off."""
    missing_policy: Literal["keep", "drop"] = "keep"
    """An unknown E_hull or oxidation limit (no entries for the chemical system): keep the
    candidate as ``unknown`` or drop it; the reason says which."""

    @property
    def active(self) -> bool:
        """True when any filter is on."""
        return (
            self.no_transition_metals or self.e_hull_zero or self.oxidation_limit_min_v is not None
        )


class RankTrainSpec(_Strict):
    """Train the ranking model from labels when the campaign starts (``sseflows rank
    train``); the model is saved under the store's folder and reused while the labels and
    settings stay the same."""

    source: Literal["store", "obelix", "laskowski"] = "store"
    labels_path: str | None = None
    """File or folder of a published label set (relative paths: to the spec's folder)."""
    model: Literal["ensemble", "kang", "clusters"] = "ensemble"
    model_settings: dict[str, float | int | str | bool] = Field(default_factory=dict)
    """Overrides of the estimator's defaults (e.g. ``n_members``, ``n_runs``, ``depth``)."""
    threshold_s_per_cm: float = Field(default=1e-4, gt=0)
    """σ_RT at or above which a label counts as superionic, S/cm."""


class RankSpec(_Strict):
    """The ranking stage (:mod:`sseflows.rank`): which model, and who survives.

    Survivors are the completed candidates that pass every criterion set: Kang's
    unanimity (``superionic_all_runs``), ``p_min``, Laskowski's cluster selection
    (``clusters``), McHaffie's novelty filter (``novelty_filter``: drop compositions within
    5 % of a training composition), then the ``top_n`` best by ``order_by``.
    """

    model_path: str | None = None
    """A saved model (``sseflows rank train --out``); relative paths: to the spec's folder."""
    train: RankTrainSpec | None = None
    representation: str = "magpie"
    """Representation of a trained model (:mod:`sseflows.rank.descriptors`)."""
    representation_settings: dict[str, float | int | str] = Field(default_factory=dict)
    """Its settings (e.g. SOAP's ``r_cut``, ``n_max``, ``l_max``); unset ones: defaults."""
    order_by: Literal["p_superionic", "log10_sigma"] = "p_superionic"
    top_n: int | None = Field(default=None, ge=1)
    p_min: float | None = Field(default=None, ge=0, le=1)
    """Keep P(superionic) >= this (McHaffie et al.: 0.5)."""
    superionic_all_runs: bool = False
    """Keep only candidates every run of the ``kang`` model calls superionic."""
    clusters: bool = False
    """Keep only candidates in selected clusters (``clusters`` model, Laskowski 2023)."""
    novelty_filter: bool = False
    """Drop candidates within 5 % of a training composition (McHaffie et al.)."""
    stage: Literal["first", "after_gates"] = "first"
    """Rank the whole pool before any gate, or only the survivors of the cheap gates."""

    @model_validator(mode="after")
    def _one_model(self) -> RankSpec:
        if (self.model_path is None) == (self.train is None):
            raise ValueError("give exactly one of 'model_path' and 'train'")
        if self.clusters and self.train is not None and self.train.model != "clusters":
            raise ValueError("'clusters: true' needs the 'clusters' model")
        if self.superionic_all_runs and self.train is not None and self.train.model != "kang":
            raise ValueError("'superionic_all_runs: true' needs the 'kang' model")
        return self


class LoopSpec(_Strict):
    """The closed loop (:mod:`sseflows.campaign.loop`, ``campaign run --rounds N``): each
    round retrains the ranking model on every label so far, ranks the pool, picks a batch by
    the acquisition, runs the gates and the expensive tiers on it and feeds the results
    back as computed labels. Needs ``rank.train`` (a fixed ``model_path`` cannot learn)."""

    rounds: int = Field(default=3, ge=1)
    """Rounds in all (stored rounds count: a rerun continues where the last one stopped)."""
    batch_size: int = Field(default=5, ge=1)
    """Candidates picked per round (before the gates)."""
    acquisition: Literal["exploit", "explore", "ucb"] = "exploit"
    """Predicted log10 σ, its ensemble spread, or mean + kappa·spread
    (:mod:`sseflows.rank.acquisition`); P(superionic) for a classifier-only model."""
    kappa: float = Field(default=1.0, ge=0)
    """κ of ``ucb``, in units of the ensemble spread."""
    stop_after_rounds_without_hit: int | None = Field(default=None, ge=1)
    """Stop after this many consecutive rounds without a new hit (None: never)."""
    hit_threshold_s_per_cm: float = Field(default=1e-4, gt=0)
    """A computed σ_RT (MD tier) at or above this is a hit, S/cm."""
    hit_barrier_max_ev: float | None = Field(default=None, gt=0)
    """A NEB barrier at or below this is also a hit, eV (None: only σ_RT makes hits)."""


class CampaignSpec(_Strict):
    """One campaign, as written in ``workflows/<name>.yaml``."""

    name: str
    reference: str = ""
    description: str = ""
    rank: RankSpec | None = None
    filters: FiltersSpec | None = None
    gates: GatesSpec = Field(default_factory=GatesSpec)
    neb: NebSpec | None = None
    md: MDSpec | None = None
    loop: LoopSpec | None = None

    @model_validator(mode="after")
    def _loop_learns(self) -> CampaignSpec:
        if self.loop is not None and (self.rank is None or self.rank.train is None):
            raise ValueError("'loop' needs a ranking stage that trains ('rank.train')")
        return self

    def stages(self) -> list[tuple[str, dict[str, Any]]]:
        """The stages in the order a campaign runs them, each with its set thresholds."""
        order: list[tuple[str, dict[str, Any]]] = []
        rank = ("rank", self.rank.model_dump(exclude_none=True)) if self.rank else None
        if rank and self.rank is not None and self.rank.stage == "first":
            order.append(rank)
        if self.gates.mp is not None:
            order.append(("mp", self.gates.mp.model_dump(exclude_none=True)))
        if self.filters is not None and self.filters.active:
            order.append(("filters", self.filters.model_dump(exclude_none=True)))
        if self.gates.bvse is not None:
            order.append(("bvse", self.gates.bvse.model_dump(exclude_none=True)))
        if rank and self.rank is not None and self.rank.stage == "after_gates":
            order.append(rank)
        for tier, spec in (("neb", self.neb), ("md", self.md)):
            if spec is not None:
                order.append((tier, spec.model_dump(exclude_none=True)))
        return order


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
        spec = resolve_spec_paths(CampaignSpec.model_validate(raw), path.parent)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        message = str(first["msg"]).removeprefix("Value error, ")
        if first["type"] == "extra_forbidden":
            message = "unknown key (check its spelling and the fields in sseflows.campaign.spec)"
        raise ConfigurationError(
            f"Campaign specification {path} is invalid at '{where}': {message}."
        ) from exc
    return spec


def resolve_spec_paths(spec: CampaignSpec, folder: Path) -> CampaignSpec:
    """``spec`` with the rank stage's relative paths made relative to ``folder``."""
    rank = spec.rank
    if rank is None:
        return spec
    updates: dict[str, Any] = {}
    if rank.model_path and not Path(rank.model_path).expanduser().is_absolute():
        updates["model_path"] = str(folder / rank.model_path)
    if rank.train and rank.train.labels_path:
        labels = Path(rank.train.labels_path).expanduser()
        if not labels.is_absolute():
            updates["train"] = rank.train.model_copy(update={"labels_path": str(folder / labels)})
    return spec.model_copy(update={"rank": rank.model_copy(update=updates)})
