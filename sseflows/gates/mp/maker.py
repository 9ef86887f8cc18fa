"""The MP gate as a jobflow Maker (its document, :class:`MPGateDoc`, is in ``schemas``).

Where the numbers come from, in order: the values given with the candidate
(``Candidate.e_hull_ev_per_atom``, ``band_gap_ev``), then the matched MP entry of the
snapshot, then the live API (only with an API key). A value given with the candidate is
never overwritten; a missing one is filled from MP. The source is built when the job runs,
so settings (``MP_API_KEY``, ``SSEFLOWS_MP_SNAPSHOT``) are read on the worker.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from jobflow import Response, job

from sseflows.core.candidate import Candidate
from sseflows.core.errors import CandidateError
from sseflows.core.maker import TierMaker
from sseflows.gates.mp.match import match_candidate, mp_gate_decision
from sseflows.gates.mp.schemas import MPGateDoc, ValueSource
from sseflows.gates.mp.sources import MPSource, build_mp_source


def gate_candidate(
    candidate: Candidate,
    source: MPSource | Callable[[], MPSource] | None,
    *,
    e_hull_max_ev_per_atom: float = 0.07,
    band_gap_min_ev: float = 1.0,
    missing_policy: str = "keep",
    settings: dict[str, Any] | None = None,
    **matcher_kwargs: Any,
) -> MPGateDoc:
    """Fill the candidate's missing values from MP and judge them (no jobflow involved).

    ``source`` may be a factory; it is called only when a value is missing, so a candidate
    carrying both values never touches a snapshot or the network. A candidate missing a
    value with neither a structure nor an mp-id raises :class:`CandidateError`.
    """
    values: dict[str, float | None] = {
        "e_hull_ev_per_atom": candidate.e_hull_ev_per_atom,
        "band_gap_ev": candidate.band_gap_ev,
    }
    origins: dict[str, ValueSource] = {k: "candidate" for k, v in values.items() if v is not None}
    entry = None
    resolved = None
    if None in values.values():
        if candidate.structure is None and not candidate.mp_id:
            raise CandidateError(
                candidate.id,
                "it has no structure and no mp-id, so no Materials Project entry can be "
                "looked up for its missing E_hull or band gap",
            )
        resolved = source if source is None or isinstance(source, MPSource) else source()
        if resolved is not None:
            entry = match_candidate(candidate, resolved, **matcher_kwargs)
    if entry is not None:
        for key, value in (
            ("e_hull_ev_per_atom", entry.energy_above_hull),
            ("band_gap_ev", entry.band_gap),
        ):
            if values[key] is None and value is not None:
                values[key] = value
                origins[key] = "live" if entry.source == "live" else "snapshot"
    status, reason = mp_gate_decision(
        values["e_hull_ev_per_atom"],
        values["band_gap_ev"],
        e_hull_max_ev_per_atom=e_hull_max_ev_per_atom,
        band_gap_min_ev=band_gap_min_ev,
        missing_policy=missing_policy,
    )
    if entry is None and None in values.values():
        notes = getattr(resolved, "unavailable", []) if resolved is not None else []
        why = f" ({'; '.join(notes)})" if notes else ""
        reason = f"No Materials Project entry matched{why}; {reason[0].lower()}{reason[1:]}"
    elif entry is not None:
        reason = f"{reason[:-1]} ({entry.material_id}, {entry.source or 'MP'})."
    mp_origins = [o for o in origins.values() if o != "candidate"]
    return MPGateDoc(
        candidate_id=candidate.id,
        formula=candidate.formula,
        status=status,
        reason=reason,
        settings=settings or {},
        mp_id=entry.material_id if entry is not None else candidate.mp_id,
        e_hull_ev_per_atom=values["e_hull_ev_per_atom"],
        band_gap_ev=values["band_gap_ev"],
        value_source=mp_origins[0] if mp_origins else ("candidate" if origins else None),
        value_sources=origins,
        mp_formula=entry.formula_pretty if entry is not None else None,
        mp_database_version=entry.database_version if entry is not None else None,
        e_hull_max_ev_per_atom=e_hull_max_ev_per_atom,
        band_gap_min_ev=band_gap_min_ev,
        missing_policy=missing_policy,
    )


@dataclass
class MPGateMaker(TierMaker):
    """Materials Project gate: E_hull and band gap of one candidate against thresholds.

    Args:
        name: Job name.
        e_hull_max_ev_per_atom: Keep candidates with E_hull <= this, eV/atom.
        band_gap_min_ev: Keep candidates with a band gap >= this, eV.
        missing_policy: ``"keep"`` (status ``unknown``, goes on) or ``"drop"`` when neither
            value is known.
        snapshot: Snapshot JSON file or store spec; None uses the ``mp_snapshot`` setting.
        use_live: Ask the live MP API (only ever when ``MP_API_KEY`` is set).
    """

    name: str = "mp gate"
    e_hull_max_ev_per_atom: float = 0.07
    band_gap_min_ev: float = 1.0
    missing_policy: str = "keep"
    snapshot: str | None = None
    use_live: bool = True

    @job(output_schema=MPGateDoc)
    def make(self, candidate: Candidate, upstream: Any = None, **seeds: Any) -> Response:
        """Job: the candidate's :class:`MPGateDoc`; later tiers stop unless it proceeds.

        ``upstream`` is any output of an earlier job, passed only to order the jobs."""
        settings = {
            "e_hull_max_ev_per_atom": self.e_hull_max_ev_per_atom,
            "band_gap_min_ev": self.band_gap_min_ev,
            "missing_policy": self.missing_policy,
            "snapshot": self.snapshot,
            "use_live": self.use_live,
        }
        try:
            candidate = Candidate.coerce(candidate)
            doc = gate_candidate(
                candidate,
                lambda: build_mp_source(self.snapshot, use_live=self.use_live),
                e_hull_max_ev_per_atom=self.e_hull_max_ev_per_atom,
                band_gap_min_ev=self.band_gap_min_ev,
                missing_policy=self.missing_policy,
                settings=settings,
            )
        except CandidateError as exc:
            doc = MPGateDoc(
                candidate_id=exc.candidate_id,
                formula=getattr(candidate, "formula", ""),
                status="failed",
                reason=str(exc),
                settings=settings,
                e_hull_max_ev_per_atom=self.e_hull_max_ev_per_atom,
                band_gap_min_ev=self.band_gap_min_ev,
                missing_policy=self.missing_policy,
            )
        return Response(output=doc, stop_children=not doc.proceeds)
