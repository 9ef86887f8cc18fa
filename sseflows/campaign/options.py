"""What the command line may change of a spec's campaign, in one place.

``campaign run`` (one pass or the loop) and ``campaign submit`` take the same options; each
use case turns a spec path and a :class:`CampaignOptions` into a :class:`PreparedCampaign`
(:func:`prepare_campaign`): the spec, the settings, the stages' Makers with the overrides
applied, and the candidates read from the inputs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from sseflows.campaign.inputs import require_existing
from sseflows.campaign.makers import CampaignMakers
from sseflows.campaign.spec import CampaignSpec, LoopSpec, load_campaign_spec
from sseflows.core.errors import ConfigurationError
from sseflows.data.readers import CandidateSet, read_candidates
from sseflows.settings import Settings, load_settings


@dataclass(frozen=True)
class CampaignOptions:
    """Inputs and overrides of one campaign command (None: the spec's or the setting's value).

    Attributes:
        paths: CIF files or folders of the pool.
        candidates_csv: A candidate CSV (ids, formulas, optional structures) of the pool.
        store_spec: Store of the results, labels and rounds (None: the ``db`` setting).
        mp_snapshot: Offline MP snapshot (None: the ``mp_snapshot`` setting).
        workers: Local worker processes (None: the ``workers`` setting).
        neb_engine: ``qe`` or ``chgnet`` instead of the spec's ``neb.engine``.
        min_length: Smallest NEB supercell edge, Å, instead of the spec's.
        neb_top_k, md_top_k: Candidates per round that reach NEB / MD, instead of the spec's.
        fresh: Recompute stored results (one pass only; the loop always reuses them).
        models_dir: Where trained ranking models are kept (None: ``~/.sseflows/models``);
            on FireWorks every worker must see it (a shared file system).
        rounds: Rounds of the learning loop in all, instead of the spec's ``loop.rounds``;
            given, the campaign runs as a loop even without ``loop:`` in the spec.
    """

    paths: Sequence[Path] = ()
    candidates_csv: Path | None = None
    store_spec: str | None = None
    mp_snapshot: str | None = None
    workers: int | None = None
    neb_engine: str | None = None
    min_length: float | None = None
    neb_top_k: int | None = None
    md_top_k: int | None = None
    fresh: bool = False
    models_dir: Path | None = None
    rounds: int | None = None


@dataclass
class PreparedCampaign:
    """A spec with the options applied and the pool read."""

    spec: CampaignSpec
    settings: Settings
    makers: CampaignMakers
    candidate_set: CandidateSet

    @property
    def loop(self) -> LoopSpec | None:
        """The loop to run (None: one pass)."""
        return self.spec.loop


def prepare_campaign(spec_path: Path, options: CampaignOptions) -> PreparedCampaign:
    """Load the spec at ``spec_path``, apply ``options`` and read the pool.

    Raises:
        ConfigurationError: a bad spec, a missing input path, ``--rounds`` below 1, a loop
            without a ranking stage that trains.
    """
    spec = load_campaign_spec(spec_path)
    if options.rounds is not None:
        if options.rounds < 1:
            raise ConfigurationError(f"--rounds must be at least 1, not {options.rounds}.")
        loop = spec.loop or LoopSpec()
        spec = spec.model_copy(update={"loop": loop.model_copy(update={"rounds": options.rounds})})
    if spec.loop is not None and (spec.rank is None or spec.rank.train is None):
        raise ConfigurationError(
            f"Campaign specification {spec_path} has no ranking stage that trains "
            "('rank.train'); the loop needs one to learn from its results."
        )
    settings = load_settings(
        db=options.store_spec, mp_snapshot=options.mp_snapshot, workers=options.workers
    )
    makers = CampaignMakers.from_spec(
        spec, settings.mp_snapshot, options.neb_engine, options.min_length
    )
    if options.neb_top_k is not None:
        makers = replace(makers, neb_top_k=options.neb_top_k)
    if options.md_top_k is not None:
        makers = replace(makers, md_top_k=options.md_top_k)
    require_existing(list(options.paths))
    candidate_set = read_candidates(list(options.paths), csv=options.candidates_csv)
    return PreparedCampaign(spec, settings, makers, candidate_set)
