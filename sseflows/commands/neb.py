"""``sseflows neb CIF``: one Li-vacancy migration barrier with QE CI-NEB or CHGNet NEB.

``--hop N`` computes that one distinct hop. Without it the engines' defaults hold: CHGNet
computes every hop and the command prints them all, the percolation barriers with their
limiting hops and the candidate's (percolating) barrier; QE computes the limiting hop of a
CHGNet NEB over every hop (``hop_choice="limiting"``) and says which hop that was."""

from __future__ import annotations

import json
from pathlib import Path

import typer


def neb(
    cif: Path = typer.Argument(..., exists=True, help="Structure file (CIF, POSCAR, JSON)."),
    engine: str = typer.Option("qe", "--engine", help="qe (pw.x + neb.x) or chgnet."),
    min_length: float | None = typer.Option(
        None, "--min-length", help="Supercell vector length, Å [engine's default: 10]."
    ),
    images: int | None = typer.Option(
        None, "--images", min=1, help="Intermediate NEB images [engine's default: 5]."
    ),
    ecutwfc: float | None = typer.Option(
        None, "--ecutwfc", help="Cutoff, Ry (skips the convergence step)."
    ),
    kspacing: float | None = typer.Option(None, "--kspacing", help="k-spacing, 1/Å."),
    pseudo_dir: str | None = typer.Option(None, "--pseudo-dir", help="Pseudopotential folder."),
    np_: int | None = typer.Option(None, "--np", help="MPI ranks (mpirun -np N)."),
    hop: int | None = typer.Option(
        None,
        "--hop",
        min=0,
        help="Compute only this distinct hop (index, shortest first) [chgnet: every hop; "
        "qe: the limiting hop of a CHGNet NEB over every hop, hop 0 without CHGNet].",
    ),
    json_out: Path | None = typer.Option(
        None, "--json", help="Write the NebDoc (every hop, percolation barriers) as JSON here."
    ),
    store: str | None = typer.Option(None, "--store", help="Store spec (default: the db setting)."),
    work_dir: str | None = typer.Option(None, "--work-dir", help="QE run directories [qe_runs]."),
    image_method: str = typer.Option(
        "auto",
        "--image-method",
        help="Initial images: auto (qe: the CHGNet band mapped onto the DFT endpoints when "
        "CHGNet is installed; else, and for chgnet, Li on the BVSE path), ml, bvse, linear "
        "or idpp.",
    ),
    bvse_path: bool = typer.Option(
        True, "--bvse/--no-bvse", help="--no-bvse is short for --image-method linear."
    ),
    ml_seed_fmax: float | None = typer.Option(
        None,
        "--ml-seed-fmax",
        help="qe only: force threshold of the CHGNet NEB runs the QE band starts from (its "
        "ML band, the NEB over every hop), eV/Å [0.05].",
    ),
    ml_seed_steps: int | None = typer.Option(
        None,
        "--ml-seed-steps",
        min=1,
        help="qe only: optimiser steps of those CHGNet NEB runs (both stages together) [300].",
    ),
    ml_seed_images: str | None = typer.Option(
        None,
        "--ml-seed-images",
        help="qe only: initial images of those CHGNet NEB runs: linear, idpp or bvse [linear].",
    ),
) -> None:
    """Li-vacancy migration barrier of one structure: every hop (CHGNet), the limiting hop
    (QE), or hop ``--hop``."""
    from sseflows.campaign.neb import neb_maker, neb_option_problem, run_neb

    problem = neb_option_problem(engine, image_method)
    if problem is not None:
        typer.echo(f"Error: {problem}", err=True)
        raise typer.Exit(2)
    ml_seed = {
        "fmax_ev_per_angstrom": ml_seed_fmax,
        "max_steps": ml_seed_steps,
        "image_method": ml_seed_images,
    }
    maker = neb_maker(
        engine, min_length, images, hop, image_method if bvse_path else "linear", ecutwfc,
        kspacing, pseudo_dir, f"mpirun -np {np_}" if np_ else None, work_dir, ml_seed=ml_seed,
    )  # fmt: skip
    from rich.console import Console

    from sseflows.report.progress import StepProgress

    with StepProgress(Console(stderr=True), "neb") as progress:
        progress(f"{engine} NEB of {cif.name}: endpoints, band, climbing image")
        run = run_neb(cif, maker, store)
    candidate, doc = run.candidate, run.doc
    if maker.image_method == "bvse" and not run.seeded:
        typer.echo("BVSE path unavailable; images are interpolated linearly.", err=True)
    record = doc.model_dump(mode="json", exclude={"images": True, "hops": {"__all__": {"images"}}})
    if json_out:
        json_out.write_text(json.dumps(record, indent=1) + "\n")
    from sseflows.report.console import wide_console
    from sseflows.report.neb import barrier_line, hop_origin, hops_table, percolation_table

    console = wide_console()
    if doc.hops:  # every hop computed: all of them, then the percolation barriers
        console.print(hops_table(doc))
        console.print(percolation_table(doc))
    origin = hop_origin(doc)
    if origin is not None:
        typer.echo(origin)
    if doc.status == "failed":
        typer.echo(f"failed: {doc.reason}")
        raise typer.Exit(1)
    typer.echo(barrier_line(candidate.formula, doc, run.hop_index))


def register(app: typer.Typer) -> None:
    """Add ``sseflows neb``."""
    app.command("neb")(neb)
