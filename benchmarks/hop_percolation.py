"""BVSE percolation barriers next to the ML NEB percolation barriers of the demo structures.

For each structure: the BVSE gate's E_1D/E_2D/E_3D (``sseflows.gates.bvse.barriers.
percolation_barriers``, 0.2 Å grid) and the CHGNet NEB engine over every symmetry-distinct
Li hop up to the structure's hop-length cut-off (``ChgnetNebMaker(hops="all")``, small
settings: 3 images, 0.1 eV/Å, linear images, a small supercell), whose hop barriers the
percolation analysis (``sseflows.core.percolation``) turns into E_1D/E_2D/E_3D. The two
scales differ (BVSE: a Li⁺ probe in a rigid framework; NEB: a relaxed vacancy hop); what
should agree is which dimension opens first, e.g. LiFePO4's 1D channel. Results are written
after each structure, so a long run can be read while it goes.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/hop_percolation.py --out hop_percolation.json
    OMP_NUM_THREADS=1 python benchmarks/hop_percolation.py --out quick.json --systems Li2O
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time

from pymatgen.core import Structure

from sseflows.core.candidate import Candidate
from sseflows.data.prototypes import PROTOTYPES, pymatgen_structure
from sseflows.forcefields.neb import ChgnetNebMaker
from sseflows.gates.bvse.barriers import percolation_barriers

CUTOFFS_ANGSTROM = {
    "Li2O": 3.5,
    "Li2S": 4.5,
    "LiCl": 4.5,
    "LiF": 4.5,
    "Li3OCl": 4.5,
    "Li3N": 4.0,
    "LiFePO4": 6.0,
}
"""Hop-length cut-off per structure, Å: the nearest Li–Li shells (LiFePO4 up to 6 Å so that
the hops between its [010] channels are in the network)."""


def structure_of(name: str) -> Structure:
    """The demo structure ``name`` (pymatgen's or a prototype), as its primitive cell."""
    cell = pymatgen_structure(name) if name not in PROTOTYPES else PROTOTYPES[name]()
    return cell.get_primitive_structure()


def _round(value: float | None) -> float | None:
    return None if value is None else round(float(value), 3)


def run_one(name: str, maker: ChgnetNebMaker) -> dict:
    """BVSE and CHGNet percolation barriers of one structure."""
    structure = structure_of(name)
    start = time.perf_counter()
    bvse = percolation_barriers(structure, name)
    bvse_wall = time.perf_counter() - start
    cutoff = CUTOFFS_ANGSTROM.get(name, maker.max_hop_length)
    hop_maker = ChgnetNebMaker(**{**vars(maker), "max_hop_length": cutoff})
    doc = hop_maker.compute(Candidate.from_structure(structure, name))
    return {
        "name": name,
        "formula": structure.composition.reduced_formula,
        "n_atoms": len(structure),
        "bvse": {
            "e1d_ev": _round(bvse.e1d_ev),
            "e2d_ev": _round(bvse.e2d_ev),
            "e3d_ev": _round(bvse.e3d_ev),
            "wall_s": round(bvse_wall, 1),
        },
        "neb": {
            "max_hop_length_angstrom": cutoff,
            "status": doc.status,
            "reason": doc.reason,
            "e1d_ev": _round(doc.e1d_ev),
            "e2d_ev": _round(doc.e2d_ev),
            "e3d_ev": _round(doc.e3d_ev),
            "limiting_hops": doc.limiting_hops,
            "supercell_atoms": None
            if doc.supercell_matrix is None
            else len(structure) * round(abs(_det(doc.supercell_matrix))),
            "wall_s": None if doc.wall_s is None else round(doc.wall_s, 1),
            "hops": [
                {
                    "index": hop.index,
                    "length_angstrom": round(hop.length_angstrom, 3),
                    "multiplicity": hop.multiplicity,
                    "status": hop.status,
                    "barrier_ev": _round(hop.barrier_ev),
                    "barrier_back_ev": _round(hop.barrier_back_ev),
                    "percolation_barrier_ev": _round(hop.percolation_barrier_ev),
                    "iterations": hop.iterations,
                    "converged": hop.converged,
                    "reason": hop.reason,
                }
                for hop in doc.hops
            ],
        },
    }


def _det(matrix: list[list[int]]) -> float:
    import numpy as np

    return float(np.linalg.det(np.asarray(matrix, dtype=float)))


def _cell(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


def table(rows: list[dict]) -> str:
    """The README table (markdown)."""
    lines = [
        "| structure | BVSE E_1D / E_2D / E_3D (eV) | CHGNet NEB E_1D / E_2D / E_3D (eV) "
        "| distinct hops (≤ cut-off) | limiting hop 1D / 3D |",
        "|---|---|---|---|---|",
    ]
    for row in rows:
        b, n = row["bvse"], row["neb"]
        hops = ", ".join(
            f"{h['length_angstrom']:.2f} Å: {_cell(h['percolation_barrier_ev'])}" for h in n["hops"]
        )
        lim = n["limiting_hops"]
        lines.append(
            f"| {row['name']} | {_cell(b['e1d_ev'])} / {_cell(b['e2d_ev'])} / {_cell(b['e3d_ev'])} "
            f"| {_cell(n['e1d_ev'])} / {_cell(n['e2d_ev'])} / {_cell(n['e3d_ev'])} "
            f"| {len(n['hops'])} (≤ {n['max_hop_length_angstrom']:g} Å): {hops} "
            f"| {lim.get('1D', '–')} / {lim.get('3D', '–')} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--systems", nargs="*", default=list(CUTOFFS_ANGSTROM))
    parser.add_argument("--min-length", type=float, default=6.0)
    parser.add_argument("--n-images", type=int, default=3)
    parser.add_argument("--fmax", type=float, default=0.1)
    parser.add_argument("--max-steps", type=int, default=200)
    args = parser.parse_args()
    maker = ChgnetNebMaker(
        n_images=args.n_images, min_length=args.min_length, fmax_ev_per_angstrom=args.fmax,
        max_steps=args.max_steps, endpoint_max_steps=100, endpoint_fmax=args.fmax,
        image_method="linear", max_atoms=200,
    )  # fmt: skip
    result: dict = {
        "settings": {
            "min_length_angstrom": args.min_length,
            "n_images": args.n_images,
            "fmax_ev_per_angstrom": args.fmax,
            "max_steps": args.max_steps,
            "cutoffs_angstrom": CUTOFFS_ANGSTROM,
            "image_method": "linear",
        },
        "machine": {
            "platform": platform.platform(),
            "omp_threads": os.environ.get("OMP_NUM_THREADS"),
        },
        "systems": [],
    }
    for name in args.systems:
        start = time.perf_counter()
        row = run_one(name, maker)
        row["total_wall_s"] = round(time.perf_counter() - start, 1)
        result["systems"].append(row)
        result["table"] = table(result["systems"])
        with open(args.out, "w") as handle:
            json.dump(result, handle, indent=1)
        print(table([row]).splitlines()[-1], flush=True)
    print(result["table"])


if __name__ == "__main__":
    main()
