"""Cross-candidate selection between tiers, behind one small ranker interface.

A :class:`Ranker` scores one candidate from its stored gate documents (lower is better;
None: not eligible). :func:`select_top_k` keeps the ``k`` best. The campaign spec chooses a
ranker by name from :data:`RANKERS`; the two published orders are the first two, and the
ranking stage (a model trained on measured conductivities) plugs in as a third.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

from sseflows.core.documents import PROCEEDS

GateDocs = Mapping[str, dict[str, Any] | None]
"""One candidate's documents by tier: ``{"mp": MPGateDoc dict or None, "bvse": ...}``;
None means the tier did not run (an earlier gate stopped it)."""


class Ranker(Protocol):
    """Orders candidates for selection: lower scores first, None leaves one out."""

    name: ClassVar[str]

    def score(self, docs: GateDocs) -> float | None:
        """The candidate's score (lower is better), or None when it is not eligible."""
        ...


@dataclass(frozen=True)
class LowestBvseBarrier:
    """Laskowski 2023: the lowest BVSE gate barrier (eV) among candidates that passed it."""

    name: ClassVar[str] = "lowest_bvse_barrier"

    def score(self, docs: GateDocs) -> float | None:
        """The BVSE gate barrier, eV; None without a passed BVSE document."""
        bvse = docs.get("bvse")
        if not bvse or bvse.get("status") not in PROCEEDS or bvse.get("gate_ea_ev") is None:
            return None
        return float(bvse["gate_ea_ev"])


@dataclass(frozen=True)
class LowestEHull:
    """The lowest E_hull (eV/atom) among readable candidates with an MP gate document
    (unknown E_hull last): for campaigns without a BVSE gate."""

    name: ClassVar[str] = "lowest_e_hull"

    def score(self, docs: GateDocs) -> float | None:
        """E_hull, eV/atom (infinite when unknown); None without an MP gate document."""
        mp = docs.get("mp")
        if mp is None or "input" in docs:
            return None
        e_hull = mp.get("e_hull_ev_per_atom")
        return float("inf") if e_hull is None else float(e_hull)


RANKERS: dict[str, Ranker] = {r.name: r for r in (LowestBvseBarrier(), LowestEHull())}
"""Rankers a campaign spec can name."""


def select_top_k(
    gate_docs: Mapping[str, Mapping[str, dict[str, Any] | None]],
    k: int,
    ranker: Ranker | None = None,
    require_e_hull_zero: bool = False,
    e_hull_zero_tol_ev_per_atom: float = 1e-3,
) -> list[str]:
    """Ids of the ``k`` survivors ``ranker`` scores lowest (default: lowest BVSE barrier).

    Args:
        gate_docs: ``{candidate_id: GateDocs}``.
        k: How many to keep (Laskowski 2023: 10).
        ranker: The order (:data:`RANKERS`).
        require_e_hull_zero: Keep only candidates on the convex hull (E_hull within
            ``e_hull_zero_tol_ev_per_atom`` of 0), as in Laskowski 2023.
        e_hull_zero_tol_ev_per_atom: Tolerance for "on the hull", eV/atom.

    Candidates an MP gate stopped are out. Ties are broken by candidate id so the
    selection is reproducible.
    """
    ranker = ranker or LowestBvseBarrier()
    ranked: list[tuple[float, str]] = []
    for cid, docs in gate_docs.items():
        mp = docs.get("mp")
        if mp is not None and mp.get("status") not in PROCEEDS:
            continue
        e_hull = (mp or {}).get("e_hull_ev_per_atom")
        if require_e_hull_zero and (e_hull is None or abs(e_hull) > e_hull_zero_tol_ev_per_atom):
            continue
        score = ranker.score(docs)
        if score is not None:
            ranked.append((score, cid))
    return [cid for _, cid in sorted(ranked)[: max(k, 0)]]
