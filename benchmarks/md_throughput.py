"""CHGNet MD throughput on CPU, and σ_RT of an ordered Li10GeP2S12 cell next to experiment.

Usage::

    OMP_NUM_THREADS=1 nice python benchmarks/md_throughput.py --out md.json [--steps 350]

1. Throughput: atomate2 ``ForceFieldMDMaker`` (CHGNet, NVT Langevin, 2 fs) on the ordered
   Li10GeP2S12 cell below repeated 1x1x1, 1x1x2 and 2x2x1 (50, 100, 200 atoms),
   ``--throughput-steps`` steps each; MD steps/s and atom-steps/s are timed around the MD
   loop only, after a 3-step warm-up on the same calculator; ``peak_rss_mb`` is the
   process's peak resident memory after each size (``ru_maxrss``, monotonic).
2. Li10GeP2S12: the structure shipped with pymatgen (``util/structures/Li10GeP2S12.json``,
   P4₂/nmc, partial Li and Ge/P occupancies) is ordered: the Li 16h sites get occupancy
   0.75 and the Li 8f sites 0.5 (Li20 instead of Li20.2), the 4d sites Ge0.5P0.5, oxidation
   states Li+, Ge4+, P5+, S2−, then pymatgen's ``OrderDisorderedStructureTransformation``
   (fast Ewald minimisation) picks the lowest-Ewald-energy ordering (50 atoms, Li20Ge2P4S24).
   CHGNet MD at each temperature (``--equilibration`` steps discarded, ``--steps`` analysed),
   then the tier's own MSD → Arrhenius → Nernst–Einstein path. The experimental value is
   σ_RT ≈ 1.2e-2 S/cm (Kamaya et al., Nat. Mater. 10, 682, 2011).

3. The approximant path (issue 13 §4): the same disordered LGPS through the MD tier's own
   ordering step (:func:`sseflows.core.approximant.order_disordered` with the MD Maker's
   default ``ApproximantSettings``, then the ML relaxation of the best
   ``--approximant-relax`` orderings, :func:`sseflows.forcefields.approximant.
   lowest_relaxed_approximant`), its MD cell by the tier's size rule
   (:func:`sseflows.md.engines.md_supercell`, 10 Å, ≤ 400 atoms) and ``--throughput-steps``
   CHGNet MD steps on that cell: approximant size, rounding, energy spreads, the time of
   each step. ``--approximant-only`` runs just this part.

With the default step counts (0.7 ps analysed per temperature, chosen so the whole run
takes ~10–15 min on 2 shared cores) every temperature is flagged ``too_short`` (< 5 ps)
and the standard document fails, as it should. A second analysis with the duration and
MSD floors switched off (``diagnostic_no_floor``) shows what these short runs give; it is
*not* a converged σ_RT (that needs ~10⁴ steps per temperature, as in Kang et al.).
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import time
import warnings
from pathlib import Path

import numpy as np
from pymatgen.core import Structure

EXPERIMENT_SIGMA_RT_S_PER_CM = 1.2e-2
EXPERIMENT_REFERENCE = "Kamaya et al., Nat. Mater. 10, 682 (2011): 12 mS/cm at 27 °C"
LGPS_JSON = "util/structures/Li10GeP2S12.json"


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def ordered_lgps() -> Structure:
    """Ordered Li20Ge2P4S24 from pymatgen's disordered LGPS (see module docstring)."""
    import pymatgen.core
    from pymatgen.transformations.standard_transformations import (
        OrderDisorderedStructureTransformation,
    )

    path = Path(pymatgen.core.__file__).parent.parent / LGPS_JSON
    structure = Structure.from_file(str(path))
    for i, site in enumerate(structure):
        occ = site.species.as_dict()
        if set(occ) == {"Li"} and occ["Li"] < 0.67:
            new = {"Li+": 0.5}  # 8f
        elif set(occ) == {"Li"} and occ["Li"] < 1.0:
            new = {"Li+": 0.75}  # 16h
        elif set(occ) == {"Li"}:
            new = {"Li+": 1.0}
        elif "Ge" in occ:
            new = {"Ge4+": 0.5, "P5+": 0.5}
        elif set(occ) == {"P"}:
            new = {"P5+": 1.0}
        else:
            new = {"S2-": 1.0}
        structure.replace(i, new, site.frac_coords)
    ordered = OrderDisorderedStructureTransformation(algo=0).apply_transformation(structure)
    ordered.remove_oxidation_states()
    return ordered


def throughput(n_steps: int, seed: int, base: Structure) -> list[dict]:
    """Steps/s for the ordered LGPS cell repeated 1x1x1, 1x1x2 and 2x2x1 (50, 100, 200 atoms)."""
    from sseflows.md.engines import chgnet_md_maker

    rows = []
    for repeat in ((1, 1, 1), (1, 1, 2), (2, 2, 1)):
        cell = base.make_supercell(repeat, in_place=False)
        maker = chgnet_md_maker(800.0, 3, 2.0, traj_interval=1, seed=seed)
        maker.run_ase(cell)  # warm-up: model load and first-call overheads, not timed
        maker.n_steps, maker.traj_interval = n_steps, n_steps
        result = maker.run_ase(cell)
        seconds = float(result.elapsed_time)
        rows.append(
            {
                "cell": "Li20Ge2P4S24 x{}x{}x{}".format(*repeat),
                "n_atoms": len(cell),
                "steps": n_steps,
                "seconds": seconds,
                "steps_per_s": n_steps / seconds,
                "atom_steps_per_s": n_steps * len(cell) / seconds,
                "peak_rss_mb": peak_rss_mb(),
            }
        )
        print(json.dumps(rows[-1]), flush=True)
    return rows


def lgps_conductivity(args: argparse.Namespace, cell: Structure) -> dict:
    """CHGNet MD of ordered LGPS at each temperature → ConductivityDoc (two analyses)."""
    from sseflows.md.analysis import DiffusionSettings
    from sseflows.md.arrhenius import li_density_per_cm3
    from sseflows.md.conductivity import (
        ConductivitySettings,
        analyze_trajectory,
        conductivity_doc,
    )
    from sseflows.md.engines import chgnet_md_maker
    from sseflows.md.trajectory import from_pymatgen_trajectory

    frame_fs = args.timestep * args.interval
    discard = int(np.ceil(args.equilibration / args.interval))
    trajectories, timings = [], []
    for temperature in args.temperatures:
        maker = chgnet_md_maker(
            temperature,
            args.equilibration + args.steps,
            args.timestep,
            args.interval,
            seed=args.seed,
        )
        result = maker.run_ase(cell)
        timings.append(float(result.elapsed_time))
        trajectories.append(
            from_pymatgen_trajectory(result.trajectory, frame_fs, source=f"LGPS {temperature} K")
        )
        print(f"LGPS {temperature} K: {timings[-1]:.1f} s", flush=True)
    density = li_density_per_cm3(cell)
    out = {
        "ordering": "16h Li 0.75, 8f Li 0.5, 4d Ge0.5P0.5; Ewald-ordered (pymatgen, fast algo)",
        "formula": cell.composition.formula,
        "n_atoms": len(cell),
        "lattice_abc_a": list(cell.lattice.abc),
        "li_density_per_cm3": density,
        "temperatures_k": list(args.temperatures),
        "steps_per_temperature": args.equilibration + args.steps,
        "production_steps": args.steps,
        "md_seconds": timings,
        "steps_per_s": (args.equilibration + args.steps) * len(timings) / sum(timings),
        "experimental_sigma_rt_s_per_cm": EXPERIMENT_SIGMA_RT_S_PER_CM,
        "experimental_reference": EXPERIMENT_REFERENCE,
    }
    analyses = {
        "standard": ConductivitySettings(),
        "diagnostic_no_floor": ConductivitySettings(
            diffusion=DiffusionSettings(
                min_li_msd_a2=0.0, min_diffusivity_cm2_per_s=0.0, min_duration_ps=0.0
            )
        ),
    }
    for label, settings in analyses.items():
        results = [
            analyze_trajectory(
                traj, t, frame_fs, trajectories[0].species, discard, settings.diffusion
            )
            for traj, t in zip(trajectories, args.temperatures, strict=True)
        ]
        doc = conductivity_doc("Li10GeP2S12-ordered", results, density, settings, "chgnet")
        out[label] = {
            key: value
            for key, value in doc.model_dump(mode="json").items()
            if key
            in (
                "status",
                "reason",
                "diffusivities_cm2_per_s",
                "diffusivity_errs_cm2_per_s",
                "flags",
                "ea_ev",
                "ea_err_ev",
                "sigma_rt_s_per_cm",
                "sigma_rt_range_s_per_cm",
            )
        }
        out[label]["li_msd_end_a2"] = [r.li_msd_end_a2 for r in results]
    return out


def lgps_approximant(args: argparse.Namespace) -> dict:
    """Disordered LGPS → the MD tier's approximant → its MD cell → MD steps/s (timed)."""
    import pymatgen.core

    from sseflows.core.approximant import ApproximantRelaxSettings, order_disordered
    from sseflows.forcefields.approximant import lowest_relaxed_approximant
    from sseflows.md.engines import chgnet_md_maker, md_supercell
    from sseflows.md.makers import MDArrheniusMaker

    maker = MDArrheniusMaker()
    structure = Structure.from_file(str(Path(pymatgen.core.__file__).parent.parent / LGPS_JSON))
    start = time.perf_counter()
    approximants = order_disordered(structure, "Li10GeP2S12", maker.approximant)
    ordering_s = time.perf_counter() - start
    relax = ApproximantRelaxSettings(
        n_relax=args.approximant_relax, max_steps=args.approximant_relax_steps
    )
    start = time.perf_counter()
    ordered, record = lowest_relaxed_approximant(approximants, relax)
    relax_s = time.perf_counter() - start
    cell = md_supercell(
        ordered, "Li10GeP2S12", maker.supercell_min_length_a, max_atoms=maker.supercell_max_atoms
    )
    md = chgnet_md_maker(800.0, 3, 2.0, traj_interval=1, seed=args.seed)
    md.run_ase(cell)  # warm-up
    md.n_steps, md.traj_interval = args.throughput_steps, args.throughput_steps
    seconds = float(md.run_ase(cell).elapsed_time)
    out = {
        "input_formula": structure.composition.formula,
        "approximant_formula": record.formula,
        "approximant_atoms": record.n_atoms,
        "disordered_supercell_sites": record.n_sites,
        "supercell_matrix": record.supercell_matrix,
        "reference_cell": record.reference_cell,
        "rounding": [
            {s.species: f"{s.count}/{g.sites} (target {s.target:.2f})" for s in g.species}
            for g in record.rounding
        ],
        "n_orderings": len(record.ewald_energies_ev_per_atom),
        "ewald_spread_ev_per_atom": record.ewald_spread_ev_per_atom,
        "search_complete": record.search_complete,
        "ml_energies_ev_per_atom": record.ml_energies_ev_per_atom,
        "ml_spread_ev_per_atom": record.ml_spread_ev_per_atom,
        "chosen_index": record.chosen_index,
        "relax_settings": {"n_relax": relax.n_relax, "max_steps": relax.max_steps},
        "ordering_s": ordering_s,
        "relax_s": relax_s,
        "md_cell_atoms": len(cell),
        "md_cell_abc_a": list(cell.lattice.abc),
        "md_steps": args.throughput_steps,
        "md_seconds": seconds,
        "md_steps_per_s": args.throughput_steps / seconds,
        "md_atom_steps_per_s": args.throughput_steps * len(cell) / seconds,
        "peak_rss_mb": peak_rss_mb(),
    }
    print(json.dumps(out), flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", required=True, help="JSON file to write.")
    parser.add_argument("--steps", type=int, default=350, help="LGPS production steps per T.")
    parser.add_argument("--equilibration", type=int, default=50, help="LGPS steps discarded.")
    parser.add_argument("--interval", type=int, default=1, help="Steps between stored frames.")
    parser.add_argument("--timestep", type=float, default=2.0, help="MD time step, fs.")
    parser.add_argument(
        "--temperatures", type=float, nargs="+", default=[600.0, 800.0, 1000.0, 1200.0]
    )
    parser.add_argument("--throughput-steps", type=int, default=20, help="Steps per cell size.")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads.")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--approximant-relax", type=int, default=3, help="Orderings relaxed with CHGNet."
    )
    parser.add_argument(
        "--approximant-relax-steps", type=int, default=100, help="Relaxation steps each."
    )
    parser.add_argument(
        "--approximant-only", action="store_true", help="Run only the approximant part (3)."
    )
    args = parser.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    warnings.filterwarnings("ignore")
    start = time.perf_counter()
    report = {
        "device": "cpu",
        "torch_threads": torch.get_num_threads(),
        "cpu": platform.processor() or platform.machine(),
    }
    report["lgps_approximant"] = lgps_approximant(args)
    if not args.approximant_only:
        lgps = ordered_lgps()
        report["throughput"] = throughput(args.throughput_steps, args.seed, lgps)
        report["lgps"] = lgps_conductivity(args, lgps)
    report["peak_rss_mb"] = peak_rss_mb()
    report["wall_s"] = time.perf_counter() - start
    Path(args.out).write_text(json.dumps(report, indent=1) + "\n")
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
