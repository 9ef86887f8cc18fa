"""The per-candidate screening flow: MP gate → filters (Kang et al.'s no transition metals,
E_hull = 0, oxidation limit; only when configured) → BVSE gate.

A gate that drops or fails a candidate returns ``Response(stop_children=True)``, so the
later gates of that candidate never run (under FireWorks the children are defused).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from jobflow import Flow, Job

from sseflows.core.candidate import Candidate
from sseflows.core.maker import TierMaker
from sseflows.gates.bvse.maker import BVSEGateMaker
from sseflows.gates.filters.maker import FiltersMaker
from sseflows.gates.mp.maker import MPGateMaker


@dataclass
class ScreeningFlowMaker(TierMaker):
    """Cheap gates for one candidate, in order; a gate set to None is skipped.

    Args:
        name: Flow name; the candidate id is appended.
        mp_gate: Maker of the Materials Project gate (E_hull, E_g).
        bvse_gate: Maker of the bond-valence site-energy gate (Li percolation barrier).
        filters: Maker of the filters gate, run after the MP gate (its E_hull); None (the
            default) runs none and leaves the flow's result keys as they were before it.

    The flow's output is ``{"mp": MPGateDoc, "filters": FiltersDoc, "bvse": BVSEDoc}``
    (only the gates that run).
    """

    name: str = "screening"
    mp_gate: MPGateMaker | None = field(default_factory=MPGateMaker)
    bvse_gate: BVSEGateMaker | None = field(default_factory=BVSEGateMaker)
    filters: FiltersMaker | None = None

    def as_dict(self) -> dict[str, Any]:
        """MSON form; without filters the key is left out, so result keys of earlier
        screenings stay valid."""
        data: dict[str, Any] = super().as_dict()
        if data.get("filters") is None:
            data.pop("filters", None)
        return data

    def make(self, candidate: Candidate, **seeds: Any) -> Flow:
        """Flow of the gates for ``candidate``; each gate waits for the previous one."""
        jobs: list[Flow | Job] = []
        outputs: dict[str, Any] = {}
        previous = None
        gates: tuple[tuple[str, TierMaker | None], ...] = (
            ("mp", self.mp_gate),
            ("filters", self.filters),
            ("bvse", self.bvse_gate),
        )
        for tier, gate in gates:
            if gate is None:
                continue
            if tier == "filters":
                mp_doc = outputs.get("mp")
                gate_job = gate.make(
                    candidate,
                    mp_doc=mp_doc,
                    upstream=None if previous is None else previous.output.status,
                )
            else:
                gate_job = (
                    gate.make(candidate)
                    if previous is None
                    else gate.make(candidate, upstream=previous.output.status)
                )
            gate_job.name = f"{gate.name} {candidate.id}"
            jobs.append(gate_job)
            outputs[tier] = gate_job.output
            previous = gate_job
        return Flow(jobs, output=outputs, name=f"{self.name} {candidate.id}")
