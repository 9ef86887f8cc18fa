"""BVSE gate throughput over the OBELiX CIFs, on one core.

For every structure: read it as a campaign does, then run the gate's computation (grid,
E_1D/E_2D/E_3D and the Li path between the nearest Li pair) in a child process under the
time limit, exactly as :class:`sseflows.gates.bvse.maker.BVSEGateMaker` does. Reports
the fraction of structures with a barrier, median / p95 / max seconds per structure, peak
memory (max RSS of the child, which includes the ~200 MB it shares with the parent),
and every failure with its reason. Seconds are given as wall time (what the time limit
sees) and as the child's CPU time: on a shared machine wall time includes waiting for a
core, CPU time is the one-core cost.

Target (issue 2 §8): barriers for ≥ 95 % of the 254 structures, median ≤ 10 s, none over
120 s on one core.

    OMP_NUM_THREADS=1 nice python benchmarks/bvse_throughput.py --out results.json
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import resource  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

from sseflows.core.errors import CandidateError  # noqa: E402
from sseflows.data.files import read_structure_file  # noqa: E402
from sseflows.gates.bvse.barriers import DEFAULT_RESOLUTION_ANGSTROM, gate_barrier  # noqa: E402
from sseflows.gates.bvse.maker import evaluate_structure  # noqa: E402
from sseflows.gates.timelimit import run_with_time_limit  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
DEFAULT_CIFS = REPO.parent / "shared" / "data" / "obelix" / "cifs"
TARGET = {"fraction_with_barrier": 0.95, "median_s": 10.0, "max_s": 120.0}


def _measured(structure, candidate_id: str, resolution: float) -> dict[str, Any]:
    """Runs in the child: the gate's computation, its wall time and the child's peak RSS."""
    start, cpu_start = time.perf_counter(), time.process_time()
    ev = evaluate_structure(structure, candidate_id, resolution=resolution, compute_path=True)
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
    res = ev.result
    return {
        "e1d_ev": res.e1d_ev,
        "e2d_ev": res.e2d_ev,
        "e3d_ev": res.e3d_ev,
        "gate_ea_ev": gate_barrier(res)[0],
        "seconds": round(seconds, 3),
        "cpu_seconds": round(cpu_seconds, 3),
        "barrier_seconds": round(res.wall_s, 3),
        "grid_points": int(np.prod(res.grid_shape)),
        "path_points": None if ev.path_points is None else len(ev.path_points),
        "path_note": ev.path_note,
        "treatment": res.treatment,
        "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def _category(reason: str) -> str:
    for key, label in (
        ("contains no", "no Li in the file"),
        ("no BVSE parameters", "ion without bvlain parameters"),
        ("oxidation states", "oxidation states not assignable"),
        ("did not finish", "timeout"),
        ("cannot be parsed", "unreadable file"),
    ):
        if key in reason:
            return label
    return "other"


def run(cifs: list[Path], resolution: float, timeout_s: float) -> dict[str, Any]:
    """Benchmark ``cifs`` one after the other; returns the JSON report."""
    rows, failures = [], []
    started = time.perf_counter()
    for index, path in enumerate(cifs, 1):
        row: dict[str, Any] = {"id": path.stem}
        t0 = time.perf_counter()
        try:
            candidate = read_structure_file(path)
            row.update(formula=candidate.formula, ordered=candidate.structure.is_ordered)
            row.update(
                run_with_time_limit(
                    _measured,
                    candidate.structure,
                    candidate.id,
                    resolution,
                    timeout_s=timeout_s,
                    candidate_id=candidate.id,
                )
            )
        except CandidateError as exc:
            row.update(error=str(exc), seconds=round(time.perf_counter() - t0, 3))
            failures.append({"id": path.stem, "reason": str(exc), "category": _category(str(exc))})
        rows.append(row)
        status = row.get("error") or f"E_a={row.get('gate_ea_ev')} eV"
        cpu = f" (cpu {row['cpu_seconds']:.1f} s)" if "cpu_seconds" in row else ""
        print(f"[{index}/{len(cifs)}] {path.name} {row['seconds']:.1f} s{cpu} {status}", flush=True)
    computed = [r for r in rows if "error" not in r]
    with_barrier = [r for r in computed if r["gate_ea_ev"] is not None]
    times = np.array([r["seconds"] for r in computed]) if computed else np.zeros(1)
    cpu = np.array([r["cpu_seconds"] for r in computed]) if computed else np.zeros(1)
    peaks = np.array([r["peak_mb"] for r in computed]) if computed else np.zeros(1)
    timeouts = [f for f in failures if f["category"] == "timeout"]
    categories: dict[str, int] = {}
    for failure in failures:
        categories[failure["category"]] = categories.get(failure["category"], 0) + 1
    summary = {
        "n_structures": len(rows),
        "n_computed": len(computed),
        "n_with_barrier": len(with_barrier),
        "fraction_with_barrier": round(len(with_barrier) / max(len(rows), 1), 4),
        "n_disordered_with_barrier": sum(1 for r in with_barrier if not r["ordered"]),
        "median_s": round(float(np.median(times)), 3),
        "p95_s": round(float(np.percentile(times, 95)), 3),
        "max_s": round(max([float(times.max())] + [timeout_s] * len(timeouts)), 3),
        "median_cpu_s": round(float(np.median(cpu)), 3),
        "p95_cpu_s": round(float(np.percentile(cpu, 95)), 3),
        "max_cpu_s": round(float(cpu.max()), 3),
        "peak_memory_mb": round(float(peaks.max()), 1),
        "median_peak_memory_mb": round(float(np.median(peaks)), 1),
        "parent_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "total_wall_s": round(time.perf_counter() - started, 1),
        "failures_by_category": categories,
    }
    summary["meets_target"] = {
        "fraction_with_barrier": summary["fraction_with_barrier"]
        >= TARGET["fraction_with_barrier"],
        "median_cpu_s": summary["median_cpu_s"] <= TARGET["median_s"],
        "median_wall_s": summary["median_s"] <= TARGET["median_s"],
        "max_s": summary["max_s"] <= TARGET["max_s"] and not timeouts,
    }
    return {
        "benchmark": "bvse_throughput",
        "settings": {"resolution_angstrom": resolution, "timeout_s": timeout_s, "cores": 1},
        "machine": {
            "platform": platform.platform(),
            "python": sys.version.split()[0],
            "cpu_count": os.cpu_count(),
            "load_average": os.getloadavg(),
        },
        "target": TARGET,
        "summary": summary,
        "failures": failures,
        "structures": rows,
    }


def main(argv: list[str] | None = None) -> int:
    """Command line: see the module docstring."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cifs", type=Path, default=DEFAULT_CIFS, help="Folder of CIFs.")
    parser.add_argument("--limit", type=int, default=None, help="Only the first N files.")
    parser.add_argument("--timeout", type=float, default=120.0, help="Limit per structure, s.")
    parser.add_argument("--resolution", type=float, default=DEFAULT_RESOLUTION_ANGSTROM)
    parser.add_argument("--out", type=Path, required=True, help="JSON report to write.")
    args = parser.parse_args(argv)
    if not args.cifs.is_dir():
        print(f"Error: CIF folder {args.cifs} does not exist.", file=sys.stderr)
        return 1
    cifs = sorted(args.cifs.glob("*.cif"))[: args.limit]
    report = run(cifs, args.resolution, args.timeout)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1))
    print(json.dumps(report["summary"], indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
