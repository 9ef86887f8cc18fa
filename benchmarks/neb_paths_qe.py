"""QE NEB iterations and wall time with linear, BVSE-seeded and ML-band images on tiny real
QE systems.

Systems: LiF rock salt (8-atom conventional cell) and Li2O antifluorite (12-atom
conventional cell), each with one Li vacancy (tot_charge -1) and its shortest hop; pw.x/neb.x
at 20 Ry with PAW pslibrary pseudopotentials at Γ, 3 images, the protocol's path threshold
(0.05 eV/Å) and climbing-image restart. Every method starts from the same relaxed
endpoints (the endpoint steps are reused from the first run), rattled 0.02 Å before their
relaxation as the protocol does (``--rattle 0`` keeps them symmetric: a linear band between
mirror-symmetric endpoints keeps that symmetry, since the forces that would break it
vanish, and converges on the symmetric path, a higher stationary path than the MEP). Each
row also gives how far its starting band lay from every converged band (moving Li,
framework rms; :func:`band_distance`). The ML-band seed
(``--methods ml``) is the CHGNet band of the same hop and cell
(:func:`sseflows.flows.tiers.ml_band_seed`) mapped onto the DFT endpoints; its wall time
(potential loading, CHGNet endpoint relaxations and band) is added to the ML total. Target
(issue 13): the ML band needs ≥ 30 % fewer QE iterations than linear and ≥ 25 % less wall
time (neb.x plus the ML step) and reaches the same saddle within 0.05 eV. Runnable alone::

    python benchmarks/neb_paths_qe.py --pseudo-dir ../shared/pseudos/pslibrary-1.0.0 --out qe.json
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
from jobflow import run_locally
from pymatgen.core import Lattice, Structure

from sseflows.core.candidate import Candidate
from sseflows.core.images import seed_images
from sseflows.flows.tiers import bvse_seed_path, ml_band_seed
from sseflows.qe.flows import QeNebFlowMaker
from sseflows.qe.makers import QeNebMaker, QeRelaxMaker
from sseflows.qe.neb_input import NebPathSettings
from sseflows.qe.parsers import parse_pw_output
from sseflows.qe.sets import PwInputGenerator
from sseflows.stores import build_job_store

RATTLE_ANGSTROM = QeNebFlowMaker.endpoint_rattle_angstrom
"""Endpoint rattle of the protocol (Å): symmetry-broken endpoints, so no band is held on a
symmetric path by forces that vanish only by symmetry."""

METHODS = ("linear", "bvse", "ml")


def lif(a: float = 4.03) -> Structure:
    """Rock-salt LiF, conventional cell (8 atoms), a = 4.03 Å."""
    return Structure.from_spacegroup(
        "Fm-3m", Lattice.cubic(a), ["Li", "F"], [[0, 0, 0], [0.5, 0, 0]]
    )


def tiny_maker(
    work_dir: Path,
    pseudo_dir: str,
    method: str,
    path_thr: float,
    rattle: float = 0.0,
    rattle_seed: int = 0,
    vacancy_charge: float = -1.0,
    nstep_path: int = 100,
) -> QeNebFlowMaker:
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
            path=NebPathSettings(n_images=3, path_thr_ev_per_ang=path_thr, nstep_path=nstep_path),
            launcher="",
        ),
        work_dir=str(work_dir),
        min_length=4.0,
        image_method=method,
        endpoint_rattle_angstrom=rattle,
        rattle_seed=rattle_seed,
        vacancy_charge=vacancy_charge,
    )


def li2o(a: float = 4.62) -> Structure:
    """Antifluorite Li2O, conventional cell (12 atoms), a = 4.62 Å."""
    return Structure.from_spacegroup(
        "Fm-3m", Lattice.cubic(a), ["Li", "O"], [[0.25, 0.25, 0.25], [0, 0, 0]]
    )


SYSTEMS = {"LiF": lif, "Li2O": li2o}


def band_distance(band: list[Structure], reference: list[Structure]) -> dict | None:
    """How far ``band`` lies from ``reference`` (same atoms, same images), in Å: over the
    intermediate images, the largest displacement of the moving Li (the atom that moves most
    between the reference's endpoints) and the largest root-mean-square displacement of the
    other atoms (the framework), minimum image. None when the bands do not match."""
    if len(band) != len(reference) or len(band) < 3 or len(band[0]) != len(reference[0]):
        return None
    lattice = reference[0].lattice
    hop = reference[-1].frac_coords - reference[0].frac_coords
    hop -= np.rint(hop)
    moving = int(np.argmax(np.linalg.norm(lattice.get_cartesian_coords(hop), axis=1)))
    li, framework = [], []
    for image, ref in zip(band[1:-1], reference[1:-1], strict=True):
        diff = image.frac_coords - ref.frac_coords
        diff -= np.rint(diff)
        norms = np.linalg.norm(lattice.get_cartesian_coords(diff), axis=1)
        li.append(float(norms[moving]))
        rest = np.delete(norms, moving)
        framework.append(float(np.sqrt(np.mean(rest**2))))
    return {
        "li_max_angstrom": round(max(li), 3),
        "framework_rms_max_angstrom": round(max(framework), 3),
    }


def _reduction(reference: float | None, value: float | None) -> float | None:
    if not reference or value is None:
        return None
    return round((reference - value) / reference, 3)


def system_comparison(
    name: str,
    structure: Structure,
    pseudo_dir: str,
    path_thr: float,
    methods,
    root: Path,
    vacancy_charge: float = -1.0,
    nstep_path: int = 100,
    rattle: float = RATTLE_ANGSTROM,
    rattle_seed: int = 0,
) -> dict:
    """Every seeding method on one system; iterations, barriers and wall times per method,
    and how far each starting band lay from the converged bands (:func:`band_distance`)."""
    rows = []
    finals: dict[str, list[Structure]] = {}
    starts: dict[str, list[Structure] | None] = {}
    shared_ends = None
    candidate = Candidate.from_structure(structure, name)
    for method in methods:
        work = root / name / method
        if shared_ends is not None:  # same relaxed endpoints for every method
            shutil.copytree(shared_ends, work / name / "hop0", dirs_exist_ok=True,
                            ignore=shutil.ignore_patterns("neb"))  # fmt: skip
        maker = tiny_maker(
            work, pseudo_dir, method, path_thr, rattle=rattle, rattle_seed=rattle_seed,
            vacancy_charge=vacancy_charge, nstep_path=nstep_path,
        )  # fmt: skip
        seed = bvse_seed_path(structure, 0) if method == "bvse" else None
        band, ml_wall = None, 0.0
        if method == "ml":
            start = time.perf_counter()
            band = ml_band_seed(candidate, maker)
            ml_wall = time.perf_counter() - start
        flow = maker.make(candidate, li_path_cart=seed, ml_band=band)
        store = build_job_store("memory")
        start = time.perf_counter()
        responses = run_locally(flow, store=store, log=False)
        flow_wall = time.perf_counter() - start
        if flow.output.uuid not in responses:  # a job raised: say so, go on
            rows.append({"method": method, "status": "error", "reason": "a job of the flow "
                         "raised (jobflow logs it)", "iterations": None, "barrier_ev": None,
                         "total_wall_s": 0.0})  # fmt: skip
            continue
        doc = responses[flow.output.uuid][1].output
        shared_ends = shared_ends or (work / name / "hop0")
        # neb.x wall of every run the flow made (restarts included): the flow's wall less
        # the endpoint relaxations, which only the first method runs (the others reuse them)
        endpoints_wall = 0.0 if shared_ends != work / name / "hop0" else _endpoints_wall(work)
        neb_wall = flow_wall - endpoints_wall
        final = [Structure.from_dict(d) for d in doc.images or []]
        start_band = _starting_band(final, method, seed, band)
        finals[method] = final
        starts[method] = start_band
        rows.append({
            "method": method,
            "status": doc.status,
            "reason": doc.reason,
            "image_method_used": doc.settings.get("image_method"),
            "seed_fallback": doc.seed_fallback,
            "plain_iterations": doc.plain_iterations,
            "climb_iterations": doc.climb_iterations,
            "iterations": doc.iterations,
            "barrier_ev": doc.barrier_ev,
            "converged": doc.converged,
            "climbing_image": doc.climbing_image,
            "neb_wall_s": round(neb_wall, 1),
            "ml_wall_s": round(ml_wall, 1),
            "total_wall_s": round(neb_wall + ml_wall, 1),
            "flow_wall_s": round(flow_wall, 1),
            "endpoints_wall_s": round(endpoints_wall, 1),
            "neb_wall_last_runs_s": round(doc.wall_s or 0.0, 1),
            "ml_iterations": None if band is None else band.get("iterations"),
            "ml_barrier_ev": None if band is None else band.get("barrier_ev"),
            "ml_converged": None if band is None else band.get("converged"),
            "bvse_seed_points": None if seed is None else len(seed),
            "endpoint_replacements": len(doc.endpoint_replacements or []),
            "start_from_own_final": None if start_band is None
            else band_distance(start_band, final),
        })  # fmt: skip
    by = {r["method"]: r for r in rows}
    for row in rows:  # every starting band against every converged band
        row["start_from_final_of"] = {
            other: band_distance(starts.get(row["method"]), band)
            for other, band in finals.items() if starts.get(row["method"]) is not None
        }  # fmt: skip
    lin = by.get("linear") or {}
    summary: dict = {}
    for method, row in by.items():
        if method == "linear":
            continue
        same = None
        if row["barrier_ev"] is not None and lin.get("barrier_ev") is not None:
            same = abs(row["barrier_ev"] - lin["barrier_ev"]) <= 0.05
        summary[method] = {
            "iteration_reduction_vs_linear": _reduction(lin.get("iterations"), row["iterations"]),
            "wall_reduction_vs_linear": _reduction(lin.get("total_wall_s"), row["total_wall_s"]),
            "barrier_diff_vs_linear_ev": None
            if same is None
            else round(row["barrier_ev"] - lin["barrier_ev"], 4),
            "same_saddle_within_0.05_ev": same,
        }
    return {"system": name, "n_atoms": len(structure), "rows": rows, "vs_linear": summary}


def _endpoints_wall(work: Path) -> float:
    """Wall time (s) of the endpoint relaxations under ``work`` (pw.x's own WALL figure)."""
    walls = [parse_pw_output(out).wall_s for out in work.glob("*/hop0/relax_*/pw.out")]
    return float(sum(w or 0.0 for w in walls))


def _starting_band(
    final: list[Structure], method: str, seed, band: dict | None
) -> list[Structure] | None:
    """The band neb.x started from, rebuilt from the (fixed) endpoints of the converged one
    with the flow's own seeding rule; None without a band."""
    if len(final) < 3:
        return None
    hop = final[-1].frac_coords - final[0].frac_coords
    hop -= np.rint(hop)
    moving = int(np.argmax(np.linalg.norm(final[0].lattice.get_cartesian_coords(hop), axis=1)))
    images, _ = seed_images(final[0], final[-1], len(final) - 2, moving, method, seed, band)
    return images


def qe_comparison(
    pseudo_dir: str,
    path_thr: float = 0.05,
    methods=METHODS,
    systems=tuple(SYSTEMS),
    vacancy_charge: float = -1.0,
    nstep_path: int = 100,
    rattle: float = RATTLE_ANGSTROM,
    rattle_seed: int = 0,
) -> dict:
    """Run the seeding methods on every system; iterations, barriers and wall per method,
    and the ML band's target check (summed over systems)."""
    root = Path(tempfile.mkdtemp(prefix="neb_paths_qe_"))
    try:
        results = [
            system_comparison(
                name,
                SYSTEMS[name](),
                pseudo_dir,
                path_thr,
                methods,
                root,
                vacancy_charge,
                nstep_path,
                rattle,
                rattle_seed,
            )
            for name in systems
        ]
    finally:
        shutil.rmtree(root, ignore_errors=True)
    totals: dict = {}
    for method in methods:
        rows = [r for res in results for r in res["rows"] if r["method"] == method]
        totals[method] = {
            "iterations": sum(r["iterations"] or 0 for r in rows),
            "total_wall_s": round(sum(r["total_wall_s"] for r in rows), 1),
        }
    target = None
    if "ml" in totals and "linear" in totals:
        its = _reduction(totals["linear"]["iterations"], totals["ml"]["iterations"])
        wall = _reduction(totals["linear"]["total_wall_s"], totals["ml"]["total_wall_s"])
        same = all(res["vs_linear"].get("ml", {}).get("same_saddle_within_0.05_ev")
                   for res in results)  # fmt: skip
        target = {
            "iteration_reduction": its,
            "wall_reduction": wall,
            "same_saddle": same,
            "met": bool(
                its is not None and its >= 0.30 and wall is not None and wall >= 0.25 and same
            ),
        }
    return {
        "settings": f"20 Ry, dual 4, Gamma, 3 images, Li vacancy (tot_charge {vacancy_charge:g}), "
        f"no supercell, at most {nstep_path} iterations per neb.x run, endpoints rattled "
        f"{rattle:g} Å (seed {rattle_seed}) before their relaxation",
        "path_thr_ev_per_ang": path_thr,
        "systems": results,
        "totals": totals,
        "ml_target": target,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pseudo-dir", default="../shared/pseudos/pslibrary-1.0.0")
    parser.add_argument("--path-thr", type=float, default=0.05, help="eV/Å")
    parser.add_argument("--methods", nargs="+", default=list(METHODS), help="also: idpp")
    parser.add_argument("--systems", nargs="+", default=list(SYSTEMS), choices=list(SYSTEMS))
    parser.add_argument(
        "--vacancy-charge", type=float, default=-1.0,
        help="tot_charge of the vacancy cells: -1 (Li+ vacancy, the protocol) or 0 (neutral, "
        "the charge state the ML potential sees)",
    )  # fmt: skip
    parser.add_argument("--nstep-path", type=int, default=100, help="per neb.x run")
    parser.add_argument("--rattle-seed", type=int, default=0, help="seed of the rattle")
    parser.add_argument(
        "--rattle", type=float, default=RATTLE_ANGSTROM,
        help="endpoint rattle before the relaxations, Å (the protocol's 0.02; 0: symmetric "
        "endpoints, whose linear band keeps their mirror symmetry)",
    )  # fmt: skip
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    result = qe_comparison(
        str(Path(args.pseudo_dir).resolve()), args.path_thr, args.methods, args.systems,
        args.vacancy_charge, args.nstep_path, args.rattle, args.rattle_seed,
    )  # fmt: skip
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
