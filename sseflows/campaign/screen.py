"""Screen a set of candidates through the cheap gates and summarise the funnel.

Resuming is automatic: the flows come from :func:`sseflows.campaign.plan.plan_flows`, so a
candidate whose result key already has documents in the store (computed here or by a
FireWorks worker) is not recomputed; change a setting or the structure and it is.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from jobflow import JobStore

from sseflows.campaign.local import FlowRun, run_flows
from sseflows.campaign.plan import plan_flows, stored_docs_by_key
from sseflows.campaign.results import latest_by_candidate, rank_records, summarize_candidate
from sseflows.core.documents import PROCEEDS
from sseflows.core.overrides import apply_overrides
from sseflows.data.readers import CandidateSet, MergeRecord
from sseflows.flows.screening import ScreeningFlowMaker
from sseflows.gates.bvse.maker import BVSEGateMaker
from sseflows.gates.mp.maker import MPGateMaker


@dataclass
class ScreenReport:
    """Outcome of :func:`screen_candidates`.

    Attributes:
        records: One summary record per candidate (``SCREEN_RECORD_KEYS``), ranked.
        funnel: Ordered stage name → number of candidates still in the campaign.
        merges: Duplicate structures merged on reading.
        reused: Ids whose results were already in the store and were not recomputed.
        crashed: Flow runs that crashed outright (their candidates are recorded as failed).
    """

    records: list[dict[str, Any]]
    funnel: dict[str, int]
    merges: list[MergeRecord] = field(default_factory=list)
    reused: list[str] = field(default_factory=list)
    crashed: list[FlowRun] = field(default_factory=list)
    tier_docs: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)


def _funnel(records: list[dict[str, Any]], tier_docs: dict[str, dict[str, dict]]) -> dict[str, int]:
    def passed(cid: str, tier: str) -> bool:
        doc = tier_docs.get(cid, {}).get(tier)
        return doc is not None and doc["status"] in PROCEEDS

    ids = [r["id"] for r in records]
    readable = [c for c in ids if "input" not in tier_docs.get(c, {})]
    after_mp = [c for c in readable if passed(c, "mp")]
    after_bvse = [c for c in after_mp if passed(c, "bvse")]
    return {
        "candidates": len(ids),
        "readable": len(readable),
        "MP gate (E_hull, E_g)": len(after_mp),
        "BVSE gate (E_a)": len(after_bvse),
    }


def screen_candidates(
    candidate_set: CandidateSet,
    store: JobStore,
    maker: ScreeningFlowMaker | None = None,
    workers: int = 1,
    fresh: bool = False,
    on_done: Callable[[FlowRun], None] | None = None,
) -> ScreenReport:
    """Run the screening flow for every candidate (reusing stored results) and summarise.

    Args:
        candidate_set: Candidates read by :func:`sseflows.data.readers.read_candidates`,
            including read failures, which become ``failed`` documents of tier ``input``.
        store: Connected campaign JobStore.
        maker: Screening flow Maker (default settings when None).
        workers: Worker processes for the per-candidate flows.
        fresh: Recompute even when results with the same result key exist.
        on_done: Progress callback, called once per candidate.
    """
    maker = maker or ScreeningFlowMaker()
    plan = plan_flows(candidate_set, maker, store, fresh=fresh)
    keys, flows, reused = plan.keys, plan.flows, plan.reused

    for cid in reused:
        if on_done:
            on_done(FlowRun(key=cid, finished=True))
    runs = run_flows(flows, store, workers=workers, on_done=on_done)

    stored = stored_docs_by_key(store, keys.values())
    tier_docs: dict[str, dict[str, dict]] = {}
    for cid, key in keys.items():
        tier_docs[cid] = latest_by_candidate(stored.get(key, [])).get(cid, {})
    crashed = [r for r in runs if not r.finished]
    for run in crashed:
        tier_docs[run.key] = {
            "flow": {
                "candidate_id": run.key,
                "tier": "flow",
                "status": "failed",
                "reason": run.error,
                "formula": "",
            }
        }
    records = [summarize_candidate(cid, tiers) for cid, tiers in tier_docs.items() if tiers]
    ranked = rank_records(records)
    return ScreenReport(
        records=ranked,
        funnel=_funnel(ranked, tier_docs),
        merges=list(candidate_set.merges),
        reused=reused,
        crashed=crashed,
        tier_docs=tier_docs,
    )


def build_screening_maker(
    mp_snapshot: str | None = None,
    e_hull_max_ev_per_atom: float | None = None,
    band_gap_min_ev: float | None = None,
    missing_policy: str | None = None,
    ea_max_ev: float | None = None,
) -> ScreeningFlowMaker:
    """The screening flow Maker: the gates' own defaults (Maker fields, the one place they
    live), overridden by whichever thresholds are given (eV/atom, eV, eV)."""
    mp = {
        "snapshot": mp_snapshot,
        "e_hull_max_ev_per_atom": e_hull_max_ev_per_atom,
        "band_gap_min_ev": band_gap_min_ev,
        "missing_policy": missing_policy,
    }
    return ScreeningFlowMaker(
        mp_gate=apply_overrides(MPGateMaker(), {k: v for k, v in mp.items() if v is not None}),
        bvse_gate=apply_overrides(
            BVSEGateMaker(), {} if ea_max_ev is None else {"ea_max_ev": ea_max_ev}
        ),
    )
