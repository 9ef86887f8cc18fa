"""The contract every tier Maker keeps, so that flows compose tiers without knowing them.

A tier Maker is a ``@dataclass`` subclass of :class:`TierMaker` whose ``make(candidate,
**seeds)`` returns a jobflow ``Job`` or ``Flow`` for one :class:`~sseflows.core.candidate.
Candidate` (atomate2 keeps one ``make(structure, prev_dir)`` the same way). *Seeds* are
what an earlier tier can hand on; a Maker names the ones it takes in :attr:`seed_names` and
ignores the rest. The seeds today are ``li_path_cart``: the BVSE Li path (Cartesian Å,
unwrapped) of the hop a NEB Maker computes, which such a Maker identifies by its
``hop_index``, ``max_hop_length`` (Å) and ``symprec`` (Å) fields (:class:`NebSeeded`);
and ``approximant``: the :class:`~sseflows.core.approximant.ApproximantRecord` (as a dict)
of the ordered approximant a disordered candidate was replaced by, which the Maker copies
into its document (:func:`sseflows.flows.tiers.make_tier_flow` computes it with the
Maker's :class:`ApproximantFields` settings).

Two more seeds serve the rate-limiting hop (issue 13 §2): ``li_paths_cart``, the BVSE path
of every distinct hop, for the ML engine computing them all (``ForceFieldNebMaker.hops``);
and ``limiting_hop_index``, the limiting hop of the lowest-dimensional percolating network
of the candidate's ML NEB document (``NebDoc.limiting_hop_index``). A :class:`NebSeeded`
Maker given it computes that hop instead of its ``hop_index`` (:meth:`NebSeeded.seeded_hop`);
:func:`sseflows.flows.tiers.tier_seeds` hands it on when called with the ML document, and
then the BVSE path (and any ML band) is that hop's. In a campaign the QE flow gets that
document from an ML NEB over every hop that :func:`sseflows.flows.tiers.make_tier_flow`
runs first (``QeNebFlowMaker.hop_choice = "limiting"``, the default; ``"index"`` keeps
``hop_index``); when it names no limiting hop, the seed ``hop_fallback`` (one sentence,
copied to ``NebDoc.hop_fallback``) says why ``hop_index`` was computed instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from jobflow import Flow, Job, Maker

from sseflows.core.approximant import ApproximantRelaxSettings, ApproximantSettings

if TYPE_CHECKING:
    from sseflows.core.candidate import Candidate


@dataclass
class TierMaker(Maker):
    """Base of every tier Maker: ``make(candidate, **seeds)``."""

    seed_names: ClassVar[tuple[str, ...]] = ()
    """Seeds this Maker takes from earlier tiers (others passed to ``make`` are ignored)."""

    def make(self, candidate: Candidate, **seeds: Any) -> Job | Flow:
        """The job or flow of this tier for ``candidate``."""
        raise NotImplementedError


@dataclass
class ApproximantFields:
    """Settings of the ordered approximant a disordered candidate is replaced by before a
    tier that needs one species per site (NEB, MD) runs on it; Maker fields, so that the
    result key covers them.

    Attributes:
        approximant: Limits of the ordering (supercell size, occupancy tolerance, time).
        approximant_relax: The ML relaxation that picks the ordering kept.
    """

    approximant: ApproximantSettings = field(default_factory=ApproximantSettings)
    approximant_relax: ApproximantRelaxSettings = field(default_factory=ApproximantRelaxSettings)


_Seeded = TypeVar("_Seeded", bound="NebSeeded")


@dataclass
class NebSeeded(ApproximantFields, TierMaker):
    """A tier Maker computing one Li hop, seeded by its BVSE path (``li_path_cart``);
    a disordered candidate arrives as its ordered approximant (``approximant`` seed,
    :class:`ApproximantFields`).

    Attributes:
        hop_index: Which symmetry-distinct hop (shortest first) to compute.
        max_hop_length: Longest Li–Li hop considered, Å.
        symprec: Symmetry tolerance for distinct hops, Å.
        image_method: How the band starts: ``"auto"`` (the BVSE path when one is given,
            else linear), ``"bvse"``, ``"linear"`` or ``"idpp"``
            (:func:`sseflows.core.images.seed_images`); only the first two use the seed.
    """

    seed_names: ClassVar[tuple[str, ...]] = ("li_path_cart", "approximant", "limiting_hop_index")
    hop_index: int = 0
    max_hop_length: float = 4.5
    symprec: float = 0.1
    image_method: str = "auto"

    def seeded_hop(self: _Seeded, limiting_hop_index: int | None) -> _Seeded:
        """This Maker computing hop ``limiting_hop_index`` (the ``limiting_hop_index`` seed)
        instead of ``hop_index``; itself when the seed is None."""
        if limiting_hop_index is None:
            return self
        return replace(self, hop_index=int(limiting_hop_index))
