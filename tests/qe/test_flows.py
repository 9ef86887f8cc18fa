"""The QE CI-NEB protocol flow: bad input → failed NebDoc (no binary), and one real
end-to-end run with pw.x + neb.x on a tiny Li-vacancy cell (marked slow)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from jobflow import JobStore, run_locally
from maggma.stores import MemoryStore
from pymatgen.core import Lattice, Structure

from sseflows.core.candidate import Candidate
from sseflows.qe.flows import QeNebFlowMaker, endpoints_step
from sseflows.qe.jobs import run_qe
from sseflows.qe.makers import QeNebMaker, QeRelaxMaker
from sseflows.qe.neb_input import NebPathSettings
from sseflows.qe.sets import PwInputGenerator
from tests.conftest import require_executable
from tests.qe.structures import lif


def _run(flow):
    store = JobStore(MemoryStore(), additional_stores={"data": MemoryStore()})
    responses = run_locally(flow, store=store, create_folders=False, log=False)
    return responses[flow.output.uuid][1].output, store


def _tiny_maker(work_dir: Path, pseudo_dir: Path, **kwargs) -> QeNebFlowMaker:
    g = {"pseudo_dir": str(pseudo_dir), "ecutwfc": 20, "dual": 4, "kspacing": None}
    g["conv_thr_ry_per_atom"] = 1e-8
    return QeNebFlowMaker(
        convergence_maker=None,
        cell_relax_maker=None,
        endpoint_relax_maker=QeRelaxMaker(
            generator=PwInputGenerator(calculation="relax", forc_conv_thr_ev_per_ang=0.1, **g),
            launcher="",
        ),
        neb_maker=QeNebMaker(
            generator=PwInputGenerator(**g),
            path=NebPathSettings(n_images=3, path_thr_ev_per_ang=0.3),
            launcher="",
        ),
        work_dir=str(work_dir),
        **{"min_length": 4.0, **kwargs},
    )


@pytest.mark.parametrize(
    ("structure", "kwargs", "reason"),
    [
        (Structure(Lattice.cubic(4.0), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]]), {}, "no Li"),
        (
            Structure(Lattice.cubic(6.0), ["Li", "F"], [[0, 0, 0], [0.5, 0.5, 0.5]]),
            {"max_hop_length": 4.5},
            "no two Li sites are closer",
        ),
        (lif(), {"min_length": 30.0, "max_atoms": 50}, "max_atoms"),
    ],
)
def test_bad_input_gives_failed_doc(tmp_path, pseudo_dir, structure, kwargs, reason):
    """No Li, a lone Li without a neighbour within 4.5 Å, a supercell over max_atoms:
    a failed NebDoc with a one-sentence reason naming the candidate; nothing runs."""
    doc, _ = _run(
        _tiny_maker(tmp_path, pseudo_dir, **kwargs).make(Candidate.from_structure(structure, "bad"))
    )
    assert doc.status == "failed" and doc.engine == "qe"
    assert doc.reason.startswith("Candidate 'bad'") and reason in doc.reason


def test_missing_executable_gives_failed_doc(tmp_path, pseudo_dir, monkeypatch):
    monkeypatch.setenv("SSEFLOWS_PW_CMD", "no-such-pw.x")
    doc, _ = _run(_tiny_maker(tmp_path, pseudo_dir).make(Candidate.from_structure(lif(), "lif")))
    assert doc.status == "failed" and "no-such-pw.x" in doc.reason
    assert doc.hop is not None and doc.hop.site_a == 0  # the hop was chosen before pw.x


@pytest.mark.slow
def test_end_to_end_lif_vacancy_hop(tmp_path, pseudo_dir, monkeypatch):
    """LiF (8-atom cell, min_length 4 Å → no supercell), shortest hop (2.85 Å), one Li
    vacancy (tot_charge -1), endpoints relaxed, plain NEB with 3 images, then the CI
    restart; 20 Ry, Γ. The barrier is checked against separate pw.x scf runs on the first
    and the highest image of the final path: E(saddle) - E(first) must equal barrier_ev.
    Running the flow again reuses every step (no output file is rewritten)."""
    require_executable("pw.x")
    require_executable("neb.x")
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    maker = _tiny_maker(tmp_path, pseudo_dir)
    # unrattled here: at 20 Ry the egg-box noise makes rattled endpoints take ~50 BFGS steps
    # (270 s instead of 75 s); the rattle itself is tested below
    doc, store = _run(
        replace(maker, endpoint_rattle_angstrom=0.0).make(Candidate.from_structure(lif(), "lif"))
    )
    assert doc.status == "completed", doc.reason
    assert doc.converged and doc.climbing_image and doc.n_images == 3
    assert doc.plain_converged and doc.climb_iterations >= 1  # CI only after a converged band
    assert doc.iterations == doc.plain_iterations + doc.climb_iterations
    assert doc.hop.length_angstrom == pytest.approx(4.03 / np.sqrt(2), abs=1e-3)
    assert doc.supercell_matrix == [[1, 0, 0], [0, 1, 0], [0, 0, 1]]
    assert len(doc.energies_ev) == 5 and doc.energies_ev[0] == 0.0
    top = int(np.argmax(doc.energies_ev))
    assert 0 < top < 4 and doc.barrier_ev > 0.1
    assert doc.barrier_back_ev == pytest.approx(doc.barrier_ev - doc.energies_ev[-1])
    plain = tmp_path / "lif" / "hop0" / "neb" / "plain" / "neb.out"
    assert "CI_scheme                     =    no-CI" in plain.read_text()
    # images went to the data store
    data = store.additional_stores["data"]
    assert data.count() >= 1
    # independent check: pw.x scf on the first and the highest image of the final path
    images = [Structure.from_dict(d) for d in doc.images]
    scf = PwInputGenerator(
        pseudo_dir=str(pseudo_dir), ecutwfc=20, dual=4, kspacing=None, conv_thr_ry_per_atom=1e-8
    )
    e0 = run_qe(tmp_path / "check0", scf.get_input(images[0], -1), launcher="").energy_ev
    et = run_qe(tmp_path / "check_top", scf.get_input(images[top], -1), launcher="").energy_ev
    assert et - e0 == pytest.approx(doc.barrier_ev, abs=0.01)
    # rerun: every finished step is reused
    outputs = sorted((tmp_path / "lif").rglob("*.out"))
    stamps = [p.stat().st_mtime_ns for p in outputs]
    again, _ = _run(
        replace(maker, endpoint_rattle_angstrom=0.0).make(Candidate.from_structure(lif(), "lif"))
    )
    assert again.barrier_ev == pytest.approx(doc.barrier_ev)
    assert [p.stat().st_mtime_ns for p in outputs] == stamps


@pytest.mark.slow
def test_band_below_unrelaxed_endpoints_replaces_one_and_reports(tmp_path, pseudo_dir, monkeypatch):
    """Endpoints that are no minima, for real: LiF vacancy endpoints rattled by 0.3 Å and
    only computed (scf), not relaxed. pw.x/neb.x find the image (one, to keep it short)
    below them (3 images: 1.86 eV below, measured); the
    endpoint nearer the lowest image is replaced by that image (the endpoint protocol, here
    an scf), the NEB runs once more, and, the other endpoint still being high, the flow
    reports no barrier with the band kept."""
    require_executable("pw.x")
    require_executable("neb.x")
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    g = {"pseudo_dir": str(pseudo_dir), "ecutwfc": 20, "dual": 4, "kspacing": None}
    g["conv_thr_ry_per_atom"] = 1e-8  # as the NEB engine of _tiny_maker
    unrelaxed = QeRelaxMaker(generator=PwInputGenerator(calculation="scf", **g), launcher="")
    maker = _tiny_maker(tmp_path, pseudo_dir)
    one_image = replace(maker.neb_maker, path=replace(maker.neb_maker.path, n_images=1))
    maker = replace(
        maker, endpoint_relax_maker=unrelaxed, neb_maker=one_image, endpoint_rattle_angstrom=0.3
    )
    doc, store = _run(maker.make(Candidate.from_structure(lif(), "lif")))
    (record,) = doc.endpoint_replacements
    assert record["below_ev"] > 0.1 and record["endpoint"] in ("initial", "final")
    # the new endpoint is the image itself (an scf does not move it): it lies below_ev under
    # the lower endpoint, so at least that far under the replaced one (same scf settings)
    assert record["energy_change_ev"] <= -record["below_ev"] + 0.01
    hop = tmp_path / "lif" / "hop0"
    assert (hop / f"relax_replaced_{record['endpoint']}" / "pw.out").is_file()
    assert (hop / "neb_replaced" / "plain" / "neb.out").is_file()
    assert doc.status == "failed" and doc.barrier_ev is None
    assert doc.reason.startswith("Candidate 'lif': ")
    assert f"also after the {record['endpoint']} endpoint was replaced" in doc.reason
    assert len(doc.energies_ev) == 3 and doc.endpoint_rattle_angstrom == 0.3
    assert store.additional_stores["data"].count() >= 1  # the band is kept


def test_endpoints_are_rattled_before_their_relaxation(tmp_path, pseudo_dir):
    """The QE flow's endpoints leave the endpoints step symmetry-broken: every atom moved by
    endpoint_rattle_angstrom (0.02 Å by default), the same vector in both (hop unchanged)."""
    maker = _tiny_maker(tmp_path, pseudo_dir)
    rattled = endpoints_step.original(maker, "lif", {"structure": lif()})
    plain = endpoints_step.original(
        replace(maker, endpoint_rattle_angstrom=0.0), "lif", {"structure": lif()}
    )
    assert maker.endpoint_rattle_angstrom == 0.02
    for which in ("initial", "final"):
        moved = rattled[which].cart_coords - plain[which].cart_coords
        assert np.linalg.norm(moved, axis=1) == pytest.approx([0.02] * len(moved), abs=1e-9)
    np.testing.assert_allclose(
        rattled["final"].cart_coords - rattled["initial"].cart_coords,
        plain["final"].cart_coords - plain["initial"].cart_coords,
        atol=1e-9,
    )


def test_hop_index_numbers_the_input_structure_hops_not_the_relaxed_cells(tmp_path, pseudo_dir):
    """Hop N of the QE stage is hop N of the candidate's input structure (as for the BVSE
    gate and the ML NEB), carried onto the vc-relaxed cell by its sites: here the relaxation
    makes the a-hop (3.0 → 3.2 Å) longer than the b-hop (3.1 Å), which swaps their order in
    the relaxed cell, and hop 0 must stay the a-hop, measured 3.2 Å in the relaxed cell."""
    coords = [[0, 0, 0], [0.5, 0.5, 0.5]]
    given = Structure(Lattice.orthorhombic(3.0, 3.1, 6.0), ["Li", "F"], coords)
    relaxed = Structure(Lattice.orthorhombic(3.2, 3.1, 6.0), ["Li", "F"], coords)
    maker = _tiny_maker(tmp_path, pseudo_dir, endpoint_rattle_angstrom=0.0)
    ends = endpoints_step.original(maker, "orth", {"structure": relaxed}, given)
    assert [abs(x) for x in ends["hop"]["jimage"]] == [1, 0, 0]
    assert ends["hop"]["length_angstrom"] == pytest.approx(3.2)
    moved = ends["final"].cart_coords - ends["initial"].cart_coords
    assert np.linalg.norm(moved, axis=1).max() == pytest.approx(3.2)
    # numbered on the relaxed cell itself (no input structure), hop 0 is the b-hop
    own = endpoints_step.original(maker, "orth", {"structure": relaxed})
    assert [abs(x) for x in own["hop"]["jimage"]] == [0, 1, 0]


def test_flow_survives_json_round_trip(tmp_path, pseudo_dir):
    """Flows travel serialised (FireWorks): the decoded flow keeps nested settings and runs."""
    import json

    from monty.json import MontyDecoder, MontyEncoder

    nacl = Structure(Lattice.cubic(4.0), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    flow = _tiny_maker(tmp_path, pseudo_dir).make(
        Candidate.from_structure(nacl, "nacl"), np.zeros((4, 3))
    )
    decoded = json.loads(json.dumps(flow, cls=MontyEncoder), cls=MontyDecoder)
    maker = decoded.jobs[0].function_args[0]
    assert maker.neb_maker.path.path_thr_ev_per_ang == 0.3
    assert maker.neb_maker.generator.ecutwfc == 20
    doc, _ = _run(decoded)
    assert doc.status == "failed" and "no Li" in doc.reason
