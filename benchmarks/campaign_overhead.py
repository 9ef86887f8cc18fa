"""Campaign overhead: time per candidate spent outside the science, locally and on FireWorks.

A trivial tier (a job that returns a completed :class:`~sseflows.core.documents.TierDoc`
at once) goes through the real machinery: planning with result keys
(:func:`sseflows.campaign.plan.plan_flows`), serialisation, the local runner
(:func:`sseflows.campaign.local.run_flows`, one process) writing into a file-backed store,
and, on the embedded LaunchPad, submission (:func:`sseflows.campaign.fireworks.submit_flows`)
plus a worker running ``--fw`` of the Fireworks. Every second measured is overhead.

Targets (issue 12 §6): submission of 20,000 candidates ≤ 60 s; overhead ≤ 20 ms per
candidate and tier, growing no faster than linearly.

Usage: ``python benchmarks/campaign_overhead.py --out benchmarks/results/campaign_overhead.json
[--sizes 1000 5000 20000] [--fw 200]``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jobflow import Job, job
from pymatgen.core import Lattice, Structure

from sseflows.campaign.fireworks import (
    launch_local_worker,
    load_embedded_launchpad,
    submit_flows,
)
from sseflows.campaign.local import run_flows
from sseflows.campaign.plan import plan_flows
from sseflows.core.candidate import Candidate
from sseflows.core.documents import TierDoc
from sseflows.core.maker import TierMaker
from sseflows.data.readers import CandidateSet
from sseflows.stores import build_job_store


@job
def trivial_tier(candidate_id: str) -> TierDoc:
    """No science: the document of a tier that costs nothing."""
    return TierDoc(candidate_id=candidate_id, tier="trivial", status="completed")


@dataclass
class TrivialMaker(TierMaker):
    """A tier Maker whose job does nothing (for overhead measurements)."""

    name: str = "trivial"

    def make(self, candidate: Candidate, **seeds: Any) -> Job:
        return trivial_tier(candidate.id)


def candidates(n: int) -> CandidateSet:
    """``n`` distinct LiCl rock-salt cells (lattice 5.0 + i·1e-5 Å, so keys differ); the
    conventional cell is built once from its space group, then only its lattice changes."""
    cell = Structure.from_spacegroup(
        "Fm-3m", Lattice.cubic(5.0), ["Li", "Cl"], [[0, 0, 0], [0.5] * 3]
    )
    out = []
    for i in range(n):
        structure = Structure(Lattice.cubic(5.0 + i * 1e-5), cell.species, cell.frac_coords)
        out.append(Candidate.from_structure(structure, f"c{i}"))
    return CandidateSet(candidates=out, failures=[], merges=[])


def local(n: int, folder: Path) -> dict[str, Any]:
    """Plan, run and store ``n`` trivial flows locally, then re-plan (everything reused)."""
    store = build_job_store(str(folder / f"local-{n}"))
    store.connect()
    pool = candidates(n)
    started = time.perf_counter()
    plan = plan_flows(pool, TrivialMaker(), store)
    planned = time.perf_counter()
    run_flows(plan.flows, store, workers=1)
    ran = time.perf_counter()
    again = plan_flows(pool, TrivialMaker(), store)
    replanned = time.perf_counter()
    store.close()
    return {
        "n": n,
        "plan_s": round(planned - started, 2),
        "run_and_store_s": round(ran - planned, 2),
        "replan_s": round(replanned - ran, 2),
        "reused_on_replan": len(again.reused),
        "ms_per_candidate": round(1000 * (ran - started) / n, 2),
    }


def fireworks(n: int, n_run: int, folder: Path) -> dict[str, Any]:
    """Submit ``n`` trivial flows to the embedded LaunchPad (emptied first); a worker runs
    ``n_run`` of them. FireWorks reads ``MONGOMOCK_SERVERSTORE_FILE`` once per process, so
    every size shares one LaunchPad file."""
    launchpad = load_embedded_launchpad(os.environ["MONGOMOCK_SERVERSTORE_FILE"])
    launchpad.reset("", require_password=False, max_reset_wo_password=10**9)
    store = build_job_store(str(folder / f"fw-store-{n}"))
    store.connect()
    pool = candidates(n)
    started = time.perf_counter()
    plan = plan_flows(pool, TrivialMaker(), store)
    planned = time.perf_counter()
    submit_flows(plan.flows, launchpad, store=store)
    submitted = time.perf_counter()
    launch_local_worker(launchpad, nlaunches=n_run, launch_dir=folder / f"runs-{n}")
    worked = time.perf_counter()
    return {
        "n": n,
        "plan_s": round(planned - started, 2),
        "submit_s": round(submitted - planned, 2),
        "worker_fireworks": n_run,
        "worker_s": round(worked - submitted, 2),
        "ms_per_firework_run": round(1000 * (worked - submitted) / max(n_run, 1), 1),
        "ms_per_candidate_submitted": round(1000 * (submitted - started) / n, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 5000, 20000])
    parser.add_argument("--fw", type=int, default=200, help="Fireworks a worker runs per size")
    parser.add_argument(
        "--fireworks-max",
        type=int,
        default=20000,
        help="skip the embedded-LaunchPad measurement above this many candidates",
    )
    parser.add_argument(
        "--runners", nargs="+", default=["local", "fireworks"], choices=["local", "fireworks"]
    )
    args = parser.parse_args()
    result: dict[str, Any] = {"local": [], "fireworks": []}
    with tempfile.TemporaryDirectory(prefix="sseflows-overhead-") as tmp:
        folder = Path(tmp)
        os.environ["MONGOMOCK_SERVERSTORE_FILE"] = str(folder / "fw.json")
        for n in args.sizes:
            if "local" in args.runners:
                result["local"].append(local(n, folder))
                print("local", result["local"][-1], flush=True)
            if "fireworks" in args.runners and n <= args.fireworks_max:
                result["fireworks"].append(fireworks(n, min(args.fw, n), folder))
                print("fireworks", result["fireworks"][-1], flush=True)
    result["peak_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
