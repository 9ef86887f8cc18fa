"""``sseflows neb CIF``: one Li-vacancy migration barrier with QE CI-NEB or CHGNet NEB."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import typer

from sseflows.core.errors import CandidateError
from sseflows.core.images import METHODS


def qe_protocol_maker(
    min_length: float,
    images: int,
    hop: int,
    ecutwfc: float | None,
    kspacing: float | None,
    pseudo_dir: str | None,
    launcher: str | None,
    work_dir: str,
    image_method: str = "bvse",
):
    """The QE protocol Maker with the CLI's overrides applied to every step.

    An explicit ``ecutwfc`` skips the cutoff/k-mesh convergence (the k-spacing is then
    ``kspacing`` or the generators' default). ``image_method`` is ``bvse`` (the
    protocol), ``linear`` or ``idpp``.
    """
    from sseflows.qe.flows import QeNebFlowMaker

    base = QeNebFlowMaker()

    def gen(generator):
        updates = {"pseudo_dir": pseudo_dir or generator.pseudo_dir}
        if ecutwfc is not None:
            updates["ecutwfc"] = ecutwfc
        if kspacing is not None:
            updates["kspacing"] = kspacing
        return replace(generator, **updates)

    conv = None
    if ecutwfc is None and base.convergence_maker is not None:
        conv = replace(
            base.convergence_maker, generator=gen(base.convergence_maker.generator),
            launcher=launcher,
        )  # fmt: skip
    cell = base.cell_relax_maker
    cell = replace(cell, generator=gen(cell.generator), launcher=launcher) if cell else None
    ends = base.endpoint_relax_maker
    neb = base.neb_maker
    return replace(
        base,
        convergence_maker=conv,
        cell_relax_maker=cell,
        endpoint_relax_maker=replace(ends, generator=gen(ends.generator), launcher=launcher),
        neb_maker=replace(
            neb, generator=gen(neb.generator), path=replace(neb.path, n_images=images),
            launcher=launcher,
        ),
        min_length=min_length,
        hop_index=hop,
        work_dir=work_dir,
        image_method=image_method,
    )  # fmt: skip


def _li_path(structure, hop) -> np.ndarray | None:
    from sseflows.gates.bvse.barriers import bvse_li_path

    try:
        points, _ = bvse_li_path(structure, hop.site_a, hop.site_b, hop.jimage)
    except (CandidateError, ValueError) as exc:
        typer.echo(f"BVSE path unavailable ({exc}); images are interpolated linearly.", err=True)
        return None
    return np.asarray(points)


def neb(
    cif: Path = typer.Argument(..., exists=True, help="Structure file (CIF, POSCAR, JSON)."),
    engine: str = typer.Option("qe", "--engine", help="qe (pw.x + neb.x) or chgnet."),
    min_length: float = typer.Option(10.0, "--min-length", help="Supercell vector length, Å."),
    images: int = typer.Option(5, "--images", min=1, help="Intermediate NEB images."),
    ecutwfc: float | None = typer.Option(
        None, "--ecutwfc", help="Cutoff, Ry (skips the convergence step)."
    ),
    kspacing: float | None = typer.Option(None, "--kspacing", help="k-spacing, 1/Å."),
    pseudo_dir: str | None = typer.Option(None, "--pseudo-dir", help="Pseudopotential folder."),
    np_: int | None = typer.Option(None, "--np", help="MPI ranks (mpirun -np N)."),
    hop: int = typer.Option(0, "--hop", min=0, help="Distinct hop index, shortest first."),
    json_out: Path | None = typer.Option(None, "--json", help="Write the NebDoc as JSON here."),
    store: str | None = typer.Option(None, "--store", help="Store spec (default: the db setting)."),
    work_dir: str = typer.Option("qe_runs", "--work-dir", help="QE run directories."),
    image_method: str = typer.Option(
        "bvse",
        "--image-method",
        help="Initial images: bvse (the protocol: Li on the BVSE path), linear or idpp.",
    ),
    bvse_path: bool = typer.Option(
        True, "--bvse/--no-bvse", help="--no-bvse is short for --image-method linear."
    ),
) -> None:
    """Li-vacancy migration barrier of hop ``--hop`` of one structure."""
    from jobflow import run_locally

    from sseflows.core.hops import enumerate_li_hops
    from sseflows.data.files import read_structure_file
    from sseflows.stores import build_job_store

    if engine not in ("qe", "chgnet"):
        typer.echo(f"Error: unknown engine {engine!r}; use qe or chgnet.", err=True)
        raise typer.Exit(2)
    if image_method not in METHODS:
        typer.echo(
            f"Error: unknown image method {image_method!r}; use {', '.join(METHODS)}.", err=True
        )
        raise typer.Exit(2)
    if not bvse_path:
        image_method = "linear"
    candidate = read_structure_file(cif)
    hops = enumerate_li_hops(candidate.structure, candidate_id=candidate.id)
    if hop >= len(hops):
        raise CandidateError(candidate.id, f"--hop {hop} requested but {len(hops)} hops exist")
    path = _li_path(candidate.structure, hops[hop]) if image_method == "bvse" else None
    if engine == "chgnet":
        from sseflows.forcefields.neb import ChgnetNebMaker

        maker = ChgnetNebMaker(
            n_images=images, min_length=min_length, hop_index=hop, image_method=image_method
        )
        flow = maker.make(candidate, path)
    else:
        launcher = f"mpirun -np {np_}" if np_ else None
        maker = qe_protocol_maker(
            min_length, images, hop, ecutwfc, kspacing, pseudo_dir, launcher, work_dir,
            image_method,
        )  # fmt: skip
        flow = maker.make(candidate, path)
    responses = run_locally(flow, store=build_job_store(store), create_folders=False)
    doc = responses[flow.output.uuid][1].output
    record = doc.model_dump(mode="json", exclude={"images"})
    if json_out:
        json_out.write_text(json.dumps(record, indent=1) + "\n")
    if doc.status == "failed":
        typer.echo(f"failed: {doc.reason}")
        raise typer.Exit(1)
    typer.echo(
        f"{candidate.formula} hop {hop} ({doc.hop.length_angstrom:.3f} Å): barrier "
        f"{doc.barrier_ev:.3f} eV (back {doc.barrier_back_ev:.3f} eV), "
        f"{'converged' if doc.converged else 'NOT converged'}, {doc.iterations} iterations "
        f"({doc.plain_iterations} plain{', ' if doc.climbing_image else ''}"
        f"{f'{doc.climb_iterations} climbing image' if doc.climbing_image else ''})"
    )


def register(app: typer.Typer) -> None:
    """Add ``sseflows neb``."""
    app.command("neb")(neb)
