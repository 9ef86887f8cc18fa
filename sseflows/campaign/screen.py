"""Screen a set of candidates through the cheap gates and summarise the funnel.

Resuming is automatic: the flows come from :func:`sseflows.campaign.plan.plan_flows`, so a
candidate whose result key already has documents in the store (computed here or by a
FireWorks worker) is not recomputed; change a setting or the structure and it is.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jobflow import JobStore

from sseflows.campaign.inputs import read_inputs
from sseflows.campaign.local import FlowRun, run_flows
from sseflows.campaign.plan import plan_flows, stored_docs_by_key
from sseflows.campaign.results import (
    SCREEN_RECORD_KEYS,
    latest_by_candidate,
    rank_records,
    summarize_candidate,
)
from sseflows.core.documents import PROCEEDS
from sseflows.core.overrides import apply_overrides
from sseflows.data.readers import CandidateSet, MergeRecord
from sseflows.flows.screening import ScreeningFlowMaker
from sseflows.gates.bvse.maker import BVSEGateMaker
from sseflows.gates.mp.maker import MPGateMaker
from sseflows.settings import load_settings
from sseflows.stores import build_job_store, redact


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
    funnel = {
        "candidates": len(ids),
        "readable": len(readable),
        "MP gate (E_hull, E_g)": len(after_mp),
    }
    if any("filters" in tier_docs.get(c, {}) for c in after_mp):
        after_mp = [c for c in after_mp if passed(c, "filters")]
        funnel["filters (no TM, E_hull = 0, oxidation limit)"] = len(after_mp)
    funnel["BVSE gate (E_a)"] = len([c for c in after_mp if passed(c, "bvse")])
    return funnel


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


@dataclass
class ScreenRun:
    """A finished ``sseflows screen``: the report and where its documents are stored
    (``stored_in``, the store spec with any password hidden)."""

    report: ScreenReport
    stored_in: str

    def json_records(self) -> list[dict[str, Any]]:
        """One ``--json`` record per candidate (:data:`SCREEN_RECORD_KEYS`), ranked."""
        return [{k: rec.get(k) for k in SCREEN_RECORD_KEYS} for rec in self.report.records]


def screen_files(
    paths: list[Path],
    candidates_csv: Path | None = None,
    mp_snapshot: str | None = None,
    ehull: float | None = None,
    gap: float | None = None,
    ea: float | None = None,
    store_spec: str | None = None,
    workers: int | None = None,
    fresh: bool = False,
    on_read: Callable[[int, Sequence[MergeRecord]], None] | None = None,
    on_done: Callable[[FlowRun], None] | None = None,
) -> ScreenRun:
    """Read the candidates of ``paths`` and ``candidates_csv`` and screen them in the store
    ``store_spec`` (None: the settings' ``db``), reusing stored results unless ``fresh``.

    ``ehull`` (eV/atom), ``gap`` (eV) and ``ea`` (eV) override the gates' thresholds when
    given. ``on_read(total, merges)`` is called once the candidates are read (``total``
    counts read failures too), ``on_done`` once per candidate screened.

    Raises:
        ConfigurationError: a missing input, an unusable MP source or store.
    """
    settings = load_settings(db=store_spec, mp_snapshot=mp_snapshot, workers=workers)
    candidate_set = read_inputs(paths, candidates_csv, settings)
    maker = build_screening_maker(
        settings.mp_snapshot, e_hull_max_ev_per_atom=ehull, band_gap_min_ev=gap, ea_max_ev=ea
    )
    store = build_job_store(settings.db)
    store.connect()
    total = len(candidate_set.candidates) + len(candidate_set.failures)
    if on_read is not None:
        on_read(total, candidate_set.merges)
    report = screen_candidates(
        candidate_set,
        store,
        maker=maker,
        workers=min(settings.n_workers, max(total, 1)),
        fresh=fresh,
        on_done=on_done,
    )
    store.close()
    return ScreenRun(report, redact(settings.db))
