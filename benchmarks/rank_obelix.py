"""Ranking stage on OBELiX train: grouped CV per representation × model, replay, throughput.

Reads ``../shared/data/obelix`` in place (never copied). Writes one JSON with:

* ``cv`` — for each (representation, model): grouped 5-fold CV metrics (groups = same DOI or
  same composition, the OBELiX train/test rule) and the shuffled-label control. Structure
  representations can only use the rows with a CIF, so ``magpie`` is also scored on that
  subset (``magpie@cif``) for a like-for-like comparison.
* ``w_sigma`` — Laskowski's score of each representation: mean W_σ over clustering depths
  2–50 of the labelled rows (Ward, standardised features, NaN → column median) against 100
  random cluster assignments; lower than the control means the representation groups
  similar conductivities together.
* ``replay`` — the retrospective campaign (5 seed labels, batches of 5, budget 50, 20 seeds)
  for exploit / explore / UCB against random.
* ``throughput`` — ranking ``--n-candidates`` (20,000) compositions end to end (Magpie
  featurisation, ensemble, novelty, 5 % rule) on the cores given, wall time and peak RSS.

Usage: ``python benchmarks/rank_obelix.py --out benchmarks/results/rank_obelix.json``
(``--quick`` for a smoke run; ``--structure-reps soap,chgnet`` to add CHGNet, ~2.5 s per
structure on first featurisation, cached afterwards in ``--cache``).
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
from pymatgen.core import Composition

from sseflows.campaign.rank import REPLAY_MODEL_SETTINGS
from sseflows.data.label_sources import import_obelix
from sseflows.rank.clustering import score_representation
from sseflows.rank.descriptors.base import FeatureInput, representation_from_name
from sseflows.rank.ensemble import EnsembleSettings
from sseflows.rank.estimators import estimator_from_name
from sseflows.rank.evaluate import evaluate
from sseflows.rank.model import featurise, table_inputs, train_rank_model
from sseflows.rank.replay import replay
from sseflows.rank.table import build_training_table

OBELIX = Path(__file__).resolve().parents[2] / "shared" / "data" / "obelix"
MODELS: dict[str, dict[str, Any]] = {
    "ensemble-lgbm": {"name": "ensemble", "settings": {}},
    "ensemble-rf": {"name": "ensemble", "settings": {"learner": "rf", "min_child_samples": 1}},
    "kang": {"name": "kang", "settings": {"n_runs": 20}},
    "clusters": {"name": "clusters", "settings": {"depth": 60}},
}


def finite(payload: Any) -> Any:
    """inf/NaN → None, recursively (JSON has neither)."""
    if isinstance(payload, float):
        return payload if math.isfinite(payload) else None
    if isinstance(payload, dict):
        return {k: finite(v) for k, v in payload.items()}
    if isinstance(payload, list | tuple):
        return [finite(v) for v in payload]
    return payload


def cross_validation(table, reps: list[str], models: list[str], cache: Path) -> dict[str, Any]:
    """Grouped-CV report per representation × model (see the module docstring)."""
    results: dict[str, Any] = {}
    cif_rows = [i for i, row in enumerate(table.rows) if row.structure is not None]
    for rep_name in reps:
        rep = representation_from_name(rep_name)
        started = time.perf_counter()
        matrix = featurise(rep, table_inputs(table), cache)
        featurise_s = time.perf_counter() - started
        usable = [int(i) for i in np.flatnonzero(matrix.ok)]
        variants = {rep_name: usable}
        if not rep.needs_structure:
            variants[f"{rep_name}@cif"] = [i for i in usable if i in set(cif_rows)]
        for label, rows in variants.items():
            subset = table.subset(rows)
            for model_label in models:
                spec = MODELS[model_label]
                started = time.perf_counter()
                report = evaluate(
                    lambda spec=spec: estimator_from_name(spec["name"], **spec["settings"]),
                    matrix.X[rows],
                    subset,
                    split="grouped",
                )
                report["wall_s"] = round(time.perf_counter() - started, 1)
                report["featurise_s"] = round(featurise_s, 1)
                results[f"{label} / {model_label}"] = report
                model = report["model"]
                print(
                    f"{label:>16} / {model_label:<14} n={report['n']:3d} "
                    f"MAE {model['mae']:.2f} (unc {model['mae_uncensored']:.2f}) "
                    f"ρ {model['spearman']:.2f} AUC-PR {model['auc_pr']:.2f} "
                    f"MCC {model['mcc']:.2f} top10 {model['top10_hit_rate']:.1f} "
                    f"cov {model['interval_coverage']:.2f}  "
                    f"[control MAE {report['control']['mae']:.2f}]",
                    flush=True,
                )
    return results


def w_sigma_scores(table, reps: list[str], cache: Path) -> dict[str, Any]:
    """Laskowski's W_σ score per representation (see the module docstring); composition
    representations are also scored on the rows every structure representation featurises
    (``NAME@structure-rows``), for a like-for-like comparison."""
    matrices = {
        name: featurise(representation_from_name(name), table_inputs(table), cache) for name in reps
    }
    structure_ok = np.ones(len(table), dtype=bool)
    for name in reps:
        if representation_from_name(name).needs_structure:
            structure_ok &= matrices[name].ok
    variants = {name: matrices[name].ok for name in reps}
    for name in reps:
        if not representation_from_name(name).needs_structure and not structure_ok.all():
            variants[f"{name}@structure-rows"] = matrices[name].ok & structure_ok
    scores: dict[str, Any] = {}
    for label, mask in variants.items():
        rows = np.flatnonzero(mask)
        x = matrices[label.split("@")[0]].X[rows]
        x = np.where(np.isnan(x), np.nan_to_num(np.nanmedian(x, axis=0)), x)
        score = score_representation(x, table.subset(rows).y("bound"), np.ones(len(rows), bool))
        scores[label] = {
            "rows": len(rows),
            "mean_w_sigma": round(score.mean, 1),
            "control_mean": round(score.control_mean, 1),
            "control_sd": round(score.control_sd, 1),
            "ratio": round(score.ratio, 3),
        }
        print(f"W_σ {label}: {scores[label]}", flush=True)
    return scores


def perturbed_compositions(table, n: int, seed: int = 0) -> list[Composition]:
    """``n`` candidate compositions: training compositions with each amount scaled by
    a random factor in [0.8, 1.2] (a stand-in for a screening pool of that size)."""
    rng = np.random.default_rng(seed)
    base = [row.composition.element_composition for row in table.rows]
    out = []
    for i in range(n):
        composition = base[i % len(base)]
        out.append(
            Composition({el: amt * rng.uniform(0.8, 1.2) for el, amt in composition.items()})
        )
    return out


def throughput(table, n_candidates: int) -> dict[str, Any]:
    """Wall time and peak memory of training and ranking ``n_candidates`` compositions."""
    rep = representation_from_name("magpie")
    started = time.perf_counter()
    model = train_rank_model(table, rep)
    train_s = time.perf_counter() - started
    inputs = [
        FeatureInput(f"c{i}", composition, None)
        for i, composition in enumerate(perturbed_compositions(table, n_candidates))
    ]
    started = time.perf_counter()
    records = model.predict(inputs)
    rank_s = time.perf_counter() - started
    completed = sum(record["status"] == "completed" for record in records)
    return {
        "n_candidates": n_candidates,
        "completed": completed,
        "train_s": round(train_s, 1),
        "rank_s": round(rank_s, 1),
        "candidates_per_s": round(n_candidates / rank_s, 1),
        "projected_s_for_20000": round(20000 * rank_s / n_candidates, 1),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--obelix", type=Path, default=OBELIX)
    parser.add_argument("--structure-reps", default="soap", help="comma list; '' for none")
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--n-candidates", type=int, default=20000)
    parser.add_argument("--replay-seeds", type=int, default=20)
    parser.add_argument("--cache", type=Path, default=None, help="descriptor cache folder")
    parser.add_argument("--quick", action="store_true", help="smoke run: small everything")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    if not (args.obelix / "train.csv").is_file():
        raise SystemExit(f"OBELiX train split not found at {args.obelix}")
    cache = args.cache or Path(tempfile.mkdtemp(prefix="sseflows-rank-cache-"))
    started = time.perf_counter()
    table = build_training_table(import_obelix(args.obelix).labels)
    table_s = time.perf_counter() - started
    reps = ["magpie", *[r for r in args.structure_reps.split(",") if r]]
    models = args.models.split(",")
    if args.quick:
        reps, models = ["magpie"], ["ensemble-lgbm"]
        args.n_candidates, args.replay_seeds = 500, 2
    result: dict[str, Any] = {
        "n_rows": len(table),
        "n_with_structure": sum(row.structure is not None for row in table.rows),
        "n_censored": int(table.censored().sum()),
        "table_s": round(table_s, 1),
        "default": {
            "representation": "magpie",
            "model": "ensemble",
            **EnsembleSettings().as_dict(),
        },
    }
    result["cv"] = cross_validation(table, reps, models, cache)
    result["w_sigma"] = w_sigma_scores(table, reps, cache)
    magpie = featurise(representation_from_name("magpie"), table_inputs(table), cache)
    started = time.perf_counter()
    result["replay"] = replay(
        magpie.X,
        table,
        lambda: estimator_from_name("ensemble", **REPLAY_MODEL_SETTINGS),
        n_seeds=args.replay_seeds,
    )
    result["replay"]["wall_s"] = round(time.perf_counter() - started, 1)
    for name, figures in result["replay"]["strategies"].items():
        figures.pop("runs")
        print(f"replay {name:>8}: {figures}", flush=True)
    result["throughput"] = throughput(table, args.n_candidates)
    print(f"throughput: {result['throughput']}", flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(finite(result), indent=2))


if __name__ == "__main__":
    main()
