"""``sseflows neb CIF``: argument handling and failures (the real QE flow is tested in
tests/qe/test_flows.py; here pw.x is deliberately missing so nothing heavy runs)."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from pymatgen.core import Lattice, Structure
from typer.testing import CliRunner

from sseflows.campaign.neb import neb_maker
from sseflows.cli import app
from tests.conftest import write_pool


def test_no_li_is_one_sentence_error(tmp_path):
    cif = tmp_path / "nacl.cif"
    Structure(Lattice.cubic(4.0), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]]).to(str(cif))
    result = CliRunner().invoke(app, ["neb", str(cif), "--store", "memory"])
    assert result.exit_code == 1
    assert "contains no Li" in result.output


def test_missing_pw_gives_failed_json(tmp_path, pseudo_dir, monkeypatch):
    """--ecutwfc skips convergence; pw.x is missing → failed NebDoc written to --json.
    --hop 0: that hop, no CHGNet NEB over every hop first (hop_choice "index")."""
    monkeypatch.setenv("SSEFLOWS_PW_CMD", "no-such-pw.x")
    cif = tmp_path / "lif.cif"
    Structure.from_spacegroup(
        "Fm-3m", Lattice.cubic(4.03), ["Li", "F"], [[0, 0, 0], [0.5, 0, 0]]
    ).to(str(cif))
    out = tmp_path / "doc.json"
    args = ["neb", str(cif), "--ecutwfc", "20", "--pseudo-dir", str(pseudo_dir), "--no-bvse"]
    args += ["--store", "memory", "--json", str(out), "--work-dir", str(tmp_path / "runs")]
    result = CliRunner().invoke(app, [*args, "--hop", "0"])
    assert result.exit_code == 1
    doc = json.loads(out.read_text())
    assert doc["status"] == "failed" and "no-such-pw.x" in doc["reason"]
    assert doc["settings"]["hop_index"] == 0 and doc["settings"]["hop_choice"] == "index"
    assert doc["limiting_hop_index"] is None and doc["hop_fallback"] is None


def test_protocol_maker_overrides_reach_every_step(tmp_path):
    maker = neb_maker(
        "qe", 8.0, 3, 1, ecutwfc=30.0, kspacing=0.4, pseudo_dir=str(tmp_path),
        launcher="mpirun -np 2", work_dir="runs",
    )  # fmt: skip
    assert maker.convergence_maker is None  # explicit cutoff: no convergence series
    assert maker.neb_maker.path.n_images == 3 and maker.hop_index == 1
    for step in (maker.cell_relax_maker, maker.endpoint_relax_maker, maker.neb_maker):
        assert step.generator.ecutwfc == 30.0 and step.generator.kspacing == 0.4
        assert step.generator.pseudo_dir == str(tmp_path) and step.launcher == "mpirun -np 2"
    assert maker.cell_relax_maker.generator.calculation == "vc-relax"
    assert maker.endpoint_relax_maker.generator.forc_conv_thr_ev_per_ang == 3e-4


def test_unknown_image_method_is_rejected(tmp_path):
    cif = tmp_path / "lif.cif"
    Structure.from_spacegroup(
        "Fm-3m", Lattice.cubic(4.03), ["Li", "F"], [[0, 0, 0], [0.5, 0, 0]]
    ).to(str(cif))
    result = CliRunner().invoke(app, ["neb", str(cif), "--image-method", "spline"])
    assert result.exit_code == 2
    assert "unknown image method 'spline'" in result.output


def test_image_method_reaches_the_protocol_maker(tmp_path):
    maker = neb_maker("qe", 8.0, 3, 0, "idpp", ecutwfc=30.0, pseudo_dir=str(tmp_path))
    assert maker.image_method == "idpp"
    assert neb_maker("qe", 8.0, 3, 0, "bvse", ecutwfc=30.0).image_method == "bvse"
    assert neb_maker("qe").image_method == "auto"  # the Maker's default when not given
    chgnet = neb_maker("chgnet", 6.0, 3, 1, "linear")
    assert (chgnet.min_length, chgnet.n_images, chgnet.hop_index) == (6.0, 3, 1)
    assert chgnet.image_method == "linear" and chgnet.force_field_name == "CHGNet"


def test_a_given_hop_computes_that_hop_only():
    """--hop N: CHGNet computes hop N alone (hops "one"), QE hop N (hop_choice "index");
    without it the engines' defaults: every hop, and the ML engine's limiting hop."""
    assert neb_maker("chgnet", hop_index=2).hops == "one"
    assert neb_maker("chgnet", hop_index=2).hop_index == 2
    assert neb_maker("chgnet").hops == "all"
    assert neb_maker("qe", hop_index=0).hop_choice == "index"
    assert neb_maker("qe").hop_choice == "limiting"


def test_missing_bvse_path_falls_back_to_linear_images(tmp_path, pseudo_dir, monkeypatch):
    """--image-method bvse on a structure whose BVSE path cannot be found (no softBV
    parameters for H⁻) falls back to linear images and says so; pw.x is deliberately
    missing so the run stops at the first QE step with a failed document."""
    monkeypatch.setenv("SSEFLOWS_PW_CMD", "no-such-pw.x")
    cif = tmp_path / "lih.cif"
    Structure.from_spacegroup(
        "Fm-3m", Lattice.cubic(4.08), ["Li", "H"], [[0, 0, 0], [0.5, 0, 0]]
    ).to(str(cif))
    args = ["neb", str(cif), "--ecutwfc", "20", "--pseudo-dir", str(pseudo_dir), "--hop", "0"]
    args += ["--store", "memory", "--work-dir", str(tmp_path / "runs"), "--image-method", "bvse"]
    result = CliRunner().invoke(app, args)
    assert "BVSE path unavailable" in result.output
    assert "images are interpolated linearly" in result.output


def _table_rows(output: str) -> list[list[str]]:
    """The body rows of the rich tables printed in ``output``, cell by cell."""
    return [
        [cell.strip() for cell in line.split("│")[1:-1]]
        for line in output.splitlines()
        if "│" in line
    ]


def _expected_rows(doc: dict) -> tuple[list[list[str]], list[list[str]]]:
    """The hop rows and percolation rows ``doc`` (the --json document) should print."""
    hops = []
    for hop in doc["hops"]:
        status = hop["status"] if hop["status"] == "completed" else f"{hop['status']}: "
        hops.append(
            [
                f"{hop['index']}{'*' if hop['index'] == doc['limiting_hop_index'] else ''}",
                f"{hop['length_angstrom']:.3f}",
                str(hop["multiplicity"]),
                "-" if hop["barrier_ev"] is None else f"{hop['barrier_ev']:.3f}",
                "-" if hop["barrier_back_ev"] is None else f"{hop['barrier_back_ev']:.3f}",
                status,
            ]
        )
    networks = []
    for dim in ("1D", "2D", "3D"):
        value, lim = doc[f"e{dim[0]}d_ev"], doc["limiting_hops"].get(dim)
        shown = "does not percolate" if value is None else f"{value:.3f}"
        networks.append([f"E_{dim}", shown, "-" if lim is None else str(lim)])
    return hops, networks


def _assert_printed(output: str, doc: dict) -> None:
    """Every hop and every percolation barrier of ``doc`` is printed with its numbers."""
    rows = _table_rows(output)
    hops, networks = _expected_rows(doc)
    for expected in hops:
        (row,) = [r for r in rows if r[:5] == expected[:5]]
        assert row[5].startswith(expected[5])  # a failed hop's reason follows, folded
    for expected in networks:
        assert expected in rows


def test_every_hop_is_printed_with_the_percolation_barriers(tmp_path, monkeypatch):
    """Without --hop the CHGNet document lists every hop: the command prints each (index,
    length, multiplicity, both barriers, status and a failed hop's reason), E_1D/E_2D/E_3D
    with their limiting hops (a network that does not percolate says so), and the
    candidate's barrier; --json holds the same numbers. The run itself is replaced by a
    hand-made document here (the real one is the test below)."""
    import sseflows.campaign.neb as use_case
    from sseflows.core.candidate import Candidate
    from sseflows.core.documents import HopBarrierDoc
    from sseflows.core.hops import enumerate_li_hops
    from sseflows.core.neb import NebDoc
    from sseflows.data.prototypes import pymatgen_structure

    structure = pymatgen_structure("Li2O")
    hops = enumerate_li_hops(structure, 4.5)[:3]
    barriers = [(0.254, 0.201), (0.612, 0.587), (None, None)]
    entries = [
        HopBarrierDoc(
            **hop.to_doc().model_dump(),
            index=i,
            status="completed" if fwd is not None else "failed",
            reason="" if fwd is not None else "Candidate 'li2o': the NEB did not converge.",
            barrier_ev=fwd,
            barrier_back_ev=back,
            percolation_barrier_ev=None if fwd is None else max(fwd, back or 0.0),
        )
        for i, (hop, (fwd, back)) in enumerate(zip(hops, barriers, strict=True))
    ]
    doc = NebDoc(
        candidate_id="li2o", engine="chgnet", status="completed", reason="ok", hops=entries,
        e1d_ev=0.254, e2d_ev=0.612, e3d_ev=None,
        limiting_hops={"1D": 0, "2D": 1, "3D": None}, limiting_hop_index=0, barrier_ev=0.254,
        barrier_back_ev=0.201, converged=True, climbing_image=True, iterations=40,
        plain_iterations=30, climb_iterations=10, hop=hops[0].to_doc(),
    )  # fmt: skip
    candidate = Candidate.from_structure(structure, "li2o")
    monkeypatch.setattr(use_case, "run_neb", lambda *a: use_case.NebRun(candidate, doc, False))
    cif, out = tmp_path / "li2o.cif", tmp_path / "doc.json"
    structure.to(str(cif))
    result = CliRunner().invoke(app, ["neb", str(cif), "--engine", "chgnet", "--json", str(out)])
    assert result.exit_code == 0, result.output
    stored = json.loads(out.read_text())
    assert [h["barrier_ev"] for h in stored["hops"]] == [0.254, 0.612, None]
    _assert_printed(result.output, stored)
    assert "failed: Candidate 'li2o': the NEB did not converge." in " ".join(
        " ".join(r) for r in _table_rows(result.output)
    )
    assert "barrier 0.254 eV (E_1D, limiting hop 0" in result.output
    assert "forward 0.254 eV, back 0.201 eV" in result.output


@pytest.mark.slow
def test_chgnet_prints_every_hop_it_computed(tmp_path, monkeypatch):
    """A real CHGNet NEB over every hop of Li2O through the command (the tiny settings of
    tests/forcefields/test_all_hops.py: two hops up to 3.5 Å, 3 images, 0.1 eV/Å; about
    a minute): the printed hops, percolation barriers and barrier are the document's."""
    import sseflows.campaign.neb as use_case

    real = use_case.neb_maker

    def tiny(*args, **kwargs):
        maker = real(*args, **kwargs)
        assert maker.hops == "all"  # no --hop: every hop
        return replace(
            maker, max_hop_length=3.5, fmax_ev_per_angstrom=0.1, max_steps=200,
            endpoint_max_steps=100,
        )  # fmt: skip

    monkeypatch.setattr(use_case, "neb_maker", tiny)
    cif = write_pool(tmp_path, ["Li2O"]) / "Li2O.cif"
    out = tmp_path / "doc.json"
    args = ["neb", str(cif), "--engine", "chgnet", "--min-length", "5.5", "--images", "3"]
    args += ["--image-method", "linear", "--store", "memory", "--json", str(out)]
    result = CliRunner().invoke(app, args)
    doc = json.loads(out.read_text())
    assert result.exit_code == (0 if doc["status"] == "completed" else 1), result.output
    assert [h["index"] for h in doc["hops"]] == [0, 1]
    assert doc["settings"]["hops"] == "all"
    _assert_printed(result.output, doc)
    assert doc["status"] == "completed", doc["reason"]
    lim = doc["limiting_hop_index"]
    assert doc["barrier_ev"] == doc["e1d_ev"] == doc["hops"][lim]["percolation_barrier_ev"]
    assert f"barrier {doc['barrier_ev']:.3f} eV (E_1D, limiting hop {lim}" in result.output


def test_qe_says_which_hop_it_computed_and_why(tmp_path, monkeypatch):
    """QE without --hop: the hop of its document (the ML limiting hop, or hop_index with
    the fallback sentence) is the one printed, with where it came from."""
    import sseflows.campaign.neb as use_case
    from sseflows.core.candidate import Candidate
    from sseflows.core.hops import enumerate_li_hops
    from sseflows.core.neb import NebDoc
    from sseflows.data.prototypes import pymatgen_structure

    structure = pymatgen_structure("Li2O")
    hops = enumerate_li_hops(structure, 4.5)
    candidate = Candidate.from_structure(structure, "li2o")
    cif = tmp_path / "li2o.cif"
    structure.to(str(cif))
    band = {"converged": True, "iterations": 12, "plain_iterations": 12, "barrier_ev": 0.41}
    fallback = "The chgnet NEB over every hop named no limiting hop (x), so hop 0 (hop_index) "
    fallback += "was computed instead."
    for hop, limiting, sentence in ((1, 1, None), (0, None, fallback)):
        doc = NebDoc(
            candidate_id="li2o", engine="qe", status="completed", reason="ok",
            hop=hops[hop].to_doc(), settings={"hop_index": hop}, limiting_hop_index=limiting,
            hop_fallback=sentence, barrier_back_ev=0.39, **band,
        )  # fmt: skip
        run = use_case.NebRun(candidate, doc, False)
        monkeypatch.setattr(use_case, "run_neb", lambda *a, run=run: run)
        result = CliRunner().invoke(app, ["neb", str(cif), "--store", "memory"])
        assert result.exit_code == 0, result.output
        length = f"{hops[hop].length_angstrom:.3f} Å"
        assert f"Li2O hop {hop} ({length}): barrier 0.410 eV (back 0.390 eV)" in result.output
        origin = sentence or f"Hop {hop} is the limiting hop of the ML NEB over every hop"
        assert origin in result.output


def test_ml_seed_options_reach_the_qe_maker(tmp_path, monkeypatch):
    """--ml-seed-fmax/--ml-seed-steps/--ml-seed-images set QeNebFlowMaker.ml_seed (what the
    run is given); unset ones keep the defaults."""
    import sseflows.campaign.neb as use_case
    from sseflows.core.images import MlSeedSettings

    seen = []

    def stop(cif, maker, store=None):
        seen.append(maker)
        raise use_case.CandidateError("x", "stopped by the test")

    monkeypatch.setattr(use_case, "run_neb", stop)
    cif = tmp_path / "lif.cif"
    Structure.from_spacegroup(
        "Fm-3m", Lattice.cubic(4.03), ["Li", "F"], [[0, 0, 0], [0.5, 0, 0]]
    ).to(str(cif))
    args = ["neb", str(cif), "--store", "memory", "--ml-seed-fmax", "0.1"]
    result = CliRunner().invoke(app, [*args, "--ml-seed-steps", "80", "--ml-seed-images", "idpp"])
    assert result.exit_code == 1 and "stopped by the test" in result.output
    assert seen[-1].ml_seed == MlSeedSettings(
        fmax_ev_per_angstrom=0.1, max_steps=80, image_method="idpp"
    )
    result = CliRunner().invoke(app, ["neb", str(cif), "--store", "memory"])
    assert result.exit_code == 1 and seen[-1].ml_seed == MlSeedSettings()
    assert neb_maker("qe", ml_seed={"max_steps": 40}).ml_seed.max_steps == 40


def test_ml_seed_options_are_refused_for_chgnet_and_bad_values(tmp_path, monkeypatch):
    """The chgnet engine has no ML seed: a one-sentence configuration error (exit 2), before
    anything runs; so is an image method the ML band cannot start from."""
    import sseflows.campaign.neb as use_case

    monkeypatch.setattr(use_case, "run_neb", lambda *a, **k: pytest.fail("it ran"))
    cif = tmp_path / "lif.cif"
    Structure.from_spacegroup(
        "Fm-3m", Lattice.cubic(4.03), ["Li", "F"], [[0, 0, 0], [0.5, 0, 0]]
    ).to(str(cif))
    for extra in (["--ml-seed-fmax", "0.1"], ["--ml-seed-steps", "10"]):
        result = CliRunner().invoke(app, ["neb", str(cif), "--engine", "chgnet", *extra])
        assert result.exit_code == 2, result.output
        assert "apply to the qe engine only" in result.output
    result = CliRunner().invoke(app, ["neb", str(cif), "--ml-seed-images", "ml"])
    assert result.exit_code == 2 and "image_method must be one of linear" in result.output
    with pytest.raises(use_case.ConfigurationError, match="qe engine only"):
        neb_maker("chgnet", ml_seed={"max_steps": 10})
    assert neb_maker("chgnet", ml_seed={"max_steps": None}).max_steps == 300  # unset: fine
