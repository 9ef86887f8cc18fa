"""The per-candidate screening flow: MP gate → BVSE gate.

A gate that drops or fails a candidate returns ``Response(stop_children=True)``, so the
later gates of that candidate never run (under FireWorks the children are defused).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from jobflow import Flow, Maker

from sseflows.core.candidate import Candidate
from sseflows.gates.bvse_maker import BVSEGateMaker
from sseflows.gates.mp_maker import MPGateMaker

SCREENING_TIERS = ("mp", "bvse")
"""Tier names of the screening flow, in order."""


@dataclass
class ScreeningFlowMaker(Maker):
    """Cheap gates for one candidate.

    Args:
        name: Flow name; the candidate id is appended.
        mp_gate: Maker of the Materials Project gate (E_hull, E_g).
        bvse_gate: Maker of the bond-valence site-energy gate (Li percolation barrier).
    """

    name: str = "screening"
    mp_gate: MPGateMaker = field(default_factory=MPGateMaker)
    bvse_gate: BVSEGateMaker = field(default_factory=BVSEGateMaker)

    def make(self, candidate: Candidate) -> Flow:
        """Flow of the gates for ``candidate``; each gate waits for the previous one."""
        mp_job = self.mp_gate.make(candidate)
        mp_job.name = f"{self.mp_gate.name} {candidate.id}"
        bvse_job = self.bvse_gate.make(candidate, upstream=mp_job.output.status)
        bvse_job.name = f"{self.bvse_gate.name} {candidate.id}"
        return Flow([mp_job, bvse_job], output=bvse_job.output, name=f"{self.name} {candidate.id}")
