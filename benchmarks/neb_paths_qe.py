"""NEB iterations with BVSE-seeded, linear and IDPP images on a tiny real QE system.

LiF rock salt (8-atom conventional cell, one Li vacancy, tot_charge -1), shortest hop,
pw.x/neb.x at 20 Ry with PAW pslibrary pseudopotentials at Γ, 3 images, the protocol's
path threshold (0.05 eV/Å) and climbing-image restart. Every method starts from the same
relaxed endpoints (the endpoint steps are reused from the first run). Used by
``neb_paths.py --qe`` and runnable alone::

    python benchmarks/neb_paths_qe.py --pseudo-dir ../shared/pseudos/pslibrary-1.0.0 --out qe.json
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

from jobflow import run_locally
from pymatgen.core import Lattice, Structure

from sseflows.core.candidate import Candidate
from sseflows.flows.tiers import bvse_seed_path
from sseflows.qe.flows import QeNebFlowMaker
from sseflows.qe.makers import QeNebMaker, QeRelaxMaker
from sseflows.qe.neb_input import NebPathSettings
from sseflows.qe.sets import PwInputGenerator
from sseflows.stores import build_job_store

METHODS = ("linear", "idpp", "bvse")


def lif(a: float = 4.03) -> Structure:
    """Rock-salt LiF, conventional cell (8 atoms), a = 4.03 Å."""
    return Structure.from_spacegroup(
        "Fm-3m", Lattice.cubic(a), ["Li", "F"], [[0, 0, 0], [0.5, 0, 0]]
    )


def tiny_maker(work_dir: Path, pseudo_dir: str, method: str, path_thr: float) -> QeNebFlowMaker:
    """The protocol flow with tiny-system numerics (no convergence/cell steps)."""
    g = {"pseudo_dir": pseudo_dir, "ecutwfc": 20, "dual": 4, "kspacing": None,
         "conv_thr_ry_per_atom": 1e-8}  # fmt: skip
    return QeNebFlowMaker(
        convergence_maker=None,
        cell_relax_maker=None,
        endpoint_relax_maker=QeRelaxMaker(
            generator=PwInputGenerator(calculation="relax", forc_conv_thr_ev_per_ang=0.05, **g),
            launcher="",
        ),
        neb_maker=QeNebMaker(
            generator=PwInputGenerator(**g),
            path=NebPathSettings(n_images=3, path_thr_ev_per_ang=path_thr),
            launcher="",
        ),
        work_dir=str(work_dir),
        min_length=4.0,
        image_method=method,
    )


def qe_comparison(pseudo_dir: str, path_thr: float = 0.05, methods=METHODS) -> dict:
    """Run the three seeding methods on LiF and return iterations and barriers per method."""
    structure = lif()
    root = Path(tempfile.mkdtemp(prefix="neb_paths_qe_"))
    rows = []
    try:
        shared_ends = None
        for method in methods:
            work = root / method
            if shared_ends is not None:  # same relaxed endpoints for every method
                shutil.copytree(shared_ends, work / "LiF" / "hop0", dirs_exist_ok=True,
                                ignore=shutil.ignore_patterns("neb"))  # fmt: skip
            maker = tiny_maker(work, pseudo_dir, method, path_thr)
            seed = bvse_seed_path(structure, 0) if method == "bvse" else None
            flow = maker.make(Candidate.from_structure(structure, "LiF"), li_path_cart=seed)
            store = build_job_store("memory")
            start = time.perf_counter()
            responses = run_locally(flow, store=store, log=False)
            doc = responses[flow.output.uuid][1].output
            shared_ends = shared_ends or (work / "LiF" / "hop0")
            rows.append({
                "method": method,
                "status": doc.status,
                "reason": doc.reason,
                "iterations": doc.iterations,
                "barrier_ev": doc.barrier_ev,
                "converged": doc.converged,
                "climbing_image": doc.climbing_image,
                "wall_s": round(time.perf_counter() - start, 1),
                "bvse_seed_points": None if seed is None else len(seed),
            })  # fmt: skip
    finally:
        shutil.rmtree(root, ignore_errors=True)
    by = {r["method"]: r for r in rows}
    lin = (by.get("linear") or {}).get("iterations")
    bv = (by.get("bvse") or {}).get("iterations")
    return {
        "system": "LiF 8-atom cell, Li vacancy, 20 Ry, Gamma, 3 images",
        "path_thr_ev_per_ang": path_thr,
        "rows": rows,
        "bvse_vs_linear_reduction": None if not (lin and bv) else round((lin - bv) / lin, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pseudo-dir", default="../shared/pseudos/pslibrary-1.0.0")
    parser.add_argument("--path-thr", type=float, default=0.05, help="eV/Å")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    result = qe_comparison(str(Path(args.pseudo_dir).resolve()), args.path_thr)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
