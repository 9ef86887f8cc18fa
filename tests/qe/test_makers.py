"""QeRelaxMaker / QeNebMaker helpers and real runs on tiny systems (runs marked slow)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from jobflow import JobStore, run_locally
from maggma.stores import MemoryStore
from pymatgen.core import Lattice, Structure

from sseflows.qe.makers import (
    NebStages,
    QeNebMaker,
    QeRelaxMaker,
    follow_displacement,
    neb_doc,
)
from sseflows.qe.neb_input import NebPathSettings
from sseflows.qe.parsers import parse_neb_output
from sseflows.qe.sets import PwInputGenerator
from tests.conftest import require_executable
from tests.qe.structures import h3, lif_primitive

FIX = Path(__file__).parent / "fixtures"


def test_follow_displacement_unwraps_wrapped_atoms():
    """A Li stored at x = -0.1 (fractional) that pw.x printed wrapped at 0.95 comes back at
    -0.05: the nearest image of the moved position to the reference."""
    ref = Structure(Lattice.cubic(5.0), ["Li", "F"], [[-0.1, 0, 0], [0.5, 0.5, 0.5]])
    moved = Structure(Lattice.cubic(5.0), ["Li", "F"], [[0.95, 0, 0], [0.5, 0.5, 0.52]])
    out = follow_displacement(ref, moved)
    assert out.frac_coords[0] == pytest.approx([-0.05, 0, 0])
    assert out.frac_coords[1] == pytest.approx([0.5, 0.5, 0.52])


def test_neb_doc_from_example01():
    """NebDoc from the parsed example01 run: barrier 0.190352 eV, 3 intermediate images,
    image positions from the .path file (first H at -4.5667 bohr = -2.4166 Å)."""
    result = parse_neb_output(FIX / "neb_h3_example01" / "neb.out")
    images = [h3([-4.5667, 0.0, 1.5578]) for _ in range(5)]
    doc = neb_doc("h3", images, result)
    assert doc.status == "completed" and doc.engine == "qe" and doc.n_images == 3
    assert doc.barrier_ev == pytest.approx(0.190352, abs=1e-6)
    first = Structure.from_dict(doc.images[0])
    assert first.cart_coords[0, 0] == pytest.approx(-4.5667 * 0.529177, abs=1e-4)
    assert doc.supercell_lengths_angstrom[0] == pytest.approx(12 * 0.529177, abs=1e-4)


def test_li2o_band_below_its_endpoints_is_reported_not_a_converged_zero_barrier():
    """The real issue-9 run (conventional Li2O, 25 Ry, Γ, 3 images, QE 6.7): neb.x says
    converged, the highest image is an endpoint and the middle image lies 1.89 eV below both
    (-3651.7235 against -3649.8317 eV). The document must not carry that 0 eV barrier."""
    result = parse_neb_output(FIX / "neb_li2o_below_endpoints" / "neb.out")
    assert result.converged and result.barrier_ev == pytest.approx(0.0, abs=1e-6)
    assert result.absolute_energies_ev[2] - result.absolute_energies_ev[0] == pytest.approx(
        -1.8917, abs=1e-4
    )
    images = [Structure.from_dict(d) for d in [_li2o_stub()] * 5]
    doc = neb_doc("Li2O", images, result).judged(0.05)
    assert doc.status == "failed" and doc.barrier_ev is None and doc.barrier_back_ev is None
    assert doc.reason == (
        "Candidate 'Li2O': image 2 lies 1.892 eV below the lower endpoint (tolerance 0.05 "
        "eV), so the endpoints are not minima; no barrier is reported (the band is kept for "
        "inspection)."
    )
    assert doc.energies_ev[2] == pytest.approx(-1.8917, abs=1e-4)  # the band is kept
    assert len(doc.images) == 5


def _li2o_stub() -> dict:
    """An 11-atom structure standing in for the images (positions come from hop.path)."""
    cell = Structure.from_spacegroup(
        "Fm-3m", Lattice.cubic(4.02), ["Li", "O"], [[0.25] * 3, [0, 0, 0]]
    )
    cell.remove_sites([0])
    return cell.as_dict()


def test_neb_stages_count_the_climbing_iterations_of_a_restart():
    """neb.x numbers a restart's iterations on from its path file: the real restart in
    ``neb_h3_restart_ci`` runs iterations 4..12 after a 3-iteration run, so 9 are its own."""
    first = parse_neb_output(FIX / "neb_h3_nstep" / "neb.out")
    restart = parse_neb_output(FIX / "neb_h3_restart_ci" / "neb.out")
    assert (first.iterations, restart.iterations) == (3, 12)
    stages = NebStages(plain=first, climb=restart)
    assert stages.final is restart and stages.climb_iterations == 9
    assert stages.wall_s == pytest.approx(first.wall_s + restart.wall_s)
    assert NebStages(plain=first).climb_iterations == 0


@pytest.mark.slow
def test_neb_maker_job_plain_then_climbing(tmp_path, pseudo_dir, monkeypatch):
    """QE example01 (H2 + H) through QeNebMaker.make: plain NEB, then CI restart from the
    plain run's path file; images go to the data store."""
    require_executable("neb.x")
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    first, last = h3([-4.56670009, 0.0, 1.55776676]), h3([-1.55776676, 0.0, 4.56670009])
    images = [
        Structure(first.lattice, first.species, first.cart_coords * (1 - t) + last.cart_coords * t,
                  coords_are_cartesian=True)
        for t in np.linspace(0, 1, 5)
    ]  # fmt: skip
    gen = PwInputGenerator(
        pseudo_dir=str(pseudo_dir), ecutwfc=20, dual=5, kspacing=None, degauss_ry=0.03,
        user_input={"electrons": {"mixing_beta": 0.3}},
    )  # fmt: skip
    maker = QeNebMaker(
        generator=gen, path=NebPathSettings(path_thr_ev_per_ang=0.1, ds=2.0),
        work_dir=str(tmp_path), launcher="",
    )  # fmt: skip
    job = maker.make(images, "h3", tot_charge=0.0)
    store = JobStore(MemoryStore(), additional_stores={"data": MemoryStore()})
    doc = run_locally(job, store=store, create_folders=False, log=False)[job.uuid][1].output
    assert doc.converged and doc.climbing_image and doc.n_images == 3
    plain = parse_neb_output(tmp_path / "h3" / "neb" / "plain" / "neb.out")
    assert plain.converged and not plain.climbing_image
    assert doc.plain_converged and doc.plain_iterations == plain.iterations
    assert doc.climb_iterations >= 1  # neb.x numbers the restart's iterations on
    assert doc.iterations == doc.plain_iterations + doc.climb_iterations
    assert doc.barrier_ev == pytest.approx(0.1903, abs=0.01)  # example01 with CI, 5 images
    assert store.additional_stores["data"].count() == 1


@pytest.mark.slow
def test_vc_relax_shrinks_stretched_cell(tmp_path, pseudo_dir, monkeypatch):
    """LiF stretched to a = 4.4 Å relaxes back to a smaller cell (20 Ry, k-spacing 0.5)."""
    require_executable("pw.x")
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    gen = PwInputGenerator(
        calculation="vc-relax", pseudo_dir=str(pseudo_dir), ecutwfc=30, dual=4, kspacing=0.5,
        forc_conv_thr_ev_per_ang=0.05, conv_thr_ry_per_atom=1e-8,
    )  # fmt: skip
    start = lif_primitive(4.4)
    result = QeRelaxMaker(generator=gen, work_dir=str(tmp_path), launcher="").run_relax(
        start, "lif", step="cell_relax"
    )
    assert result.converged and result.calculation == "vc-relax"
    assert result.structure.volume < 0.95 * start.volume
