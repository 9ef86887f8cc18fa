"""Featurisation throughput and peak memory of each ranking representation on OBELiX train.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/rank_featurise.py --out rank_featurise.json \
        [--obelix ../shared/data/obelix] [--limit N] [--chgnet-limit 40]

Inputs: the OBELiX train labels with a parsed CIF (``sseflows.data.label_sources.
import_obelix``, read in place), in file order; 77 % of them are partially occupied and
go through the descriptors' ordered approximant. Each representation runs in a fresh
spawned process, so ``peak_rss_mb`` (``ru_maxrss`` of that process, MB) is its own: library
imports, model loading and the featurisation. ``structures_per_s`` is timed around
``featurise`` alone, after a one-structure warm-up (imports, CHGNet loading) whose time is
reported as ``warmup_s``. CHGNet is the slow one (~1–3 s per structure on one core), so it
runs on the first ``--chgnet-limit`` structures unless told otherwise. Failures are counted
and listed with their reasons. No cache is used.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import resource
import time
import warnings
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OBELIX = REPO.parent / "shared" / "data" / "obelix"
REPRESENTATIONS = ("magpie", "soap", "soap-sine", "chgnet")
DEFAULT_CHGNET_LIMIT = 40


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def load_inputs(obelix: Path, limit: int | None) -> list[Any]:
    """FeatureInput rows for the OBELiX train labels that have a structure."""
    from sseflows.data.label_sources import import_obelix
    from sseflows.rank.descriptors.base import FeatureInput

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        labels = import_obelix(obelix).labels
    rows = [
        FeatureInput.from_structure(label.label_id, label.structure)
        for label in labels
        if label.structure is not None
    ]
    return rows[:limit] if limit else rows


def run_one(name: str, obelix: str, limit: int | None) -> dict[str, Any]:
    """Featurise with representation ``name`` (in a fresh process)."""
    warnings.simplefilter("ignore")
    from sseflows.rank.descriptors.base import representation_from_name

    t0 = time.perf_counter()
    inputs = load_inputs(Path(obelix), limit)
    load_s = time.perf_counter() - t0
    representation = representation_from_name(name)
    t0 = time.perf_counter()
    representation.featurise(inputs[:1])
    warmup_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    matrix = representation.featurise(inputs)
    elapsed = time.perf_counter() - t0
    disordered = sum(1 for row in inputs if row.structure and not row.structure.is_ordered)
    return {
        "representation": name,
        "settings": representation.settings(),
        "n_features": int(matrix.X.shape[1]),
        "n_structures": len(inputs),
        "n_disordered": disordered,
        "n_atoms_total": int(sum(len(row.structure) for row in inputs if row.structure)),
        "n_failed": len(matrix.failures),
        "failures": matrix.failures,
        "load_inputs_s": round(load_s, 2),
        "warmup_s": round(warmup_s, 2),
        "featurise_s": round(elapsed, 2),
        "structures_per_s": round(len(inputs) / elapsed, 3) if elapsed > 0 else None,
        "peak_rss_mb": round(peak_rss_mb(), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="JSON file to write")
    parser.add_argument("--obelix", type=Path, default=DEFAULT_OBELIX)
    parser.add_argument("--limit", type=int, default=None, help="first N structures only")
    parser.add_argument("--chgnet-limit", type=int, default=DEFAULT_CHGNET_LIMIT)
    parser.add_argument("--representations", nargs="+", default=list(REPRESENTATIONS))
    args = parser.parse_args()
    if not (args.obelix / "train.csv").is_file():
        raise SystemExit(f"OBELiX train split not found in {args.obelix}")

    context = multiprocessing.get_context("spawn")
    results = []
    for name in args.representations:
        limit = args.limit
        if name == "chgnet" and args.chgnet_limit:
            limit = min(limit or args.chgnet_limit, args.chgnet_limit)
        with context.Pool(1) as pool:
            result = pool.apply(run_one, (name, str(args.obelix), limit))
        print(
            f"{name:10s} {result['n_structures']:4d} structures "
            f"{result['structures_per_s']:8.2f}/s  peak {result['peak_rss_mb']:7.1f} MB  "
            f"failed {result['n_failed']}"
        )
        results.append(result)
    report = {
        "benchmark": "rank_featurise",
        "obelix": str(args.obelix),
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "results": results,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
