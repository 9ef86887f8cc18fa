"""The BVSE gate Maker through jobflow: statuses, reasons, and where the grid is stored."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pymatgen.core
import pytest
from jobflow import run_locally
from pymatgen.core import Structure

from sseflows.core.candidate import Candidate
from sseflows.core.errors import ConfigurationError
from sseflows.gates.bvse.maker import BVSEGateMaker, judge
from sseflows.gates.bvse.schemas import BVSEDoc
from sseflows.stores import build_job_store

PMG = Path(pymatgen.core.__file__).parents[1] / "util" / "structures"


def candidate(name: str, cid: str | None = None) -> Candidate:
    return Candidate.from_structure(Structure.from_file(PMG / f"{name}.json"), cid or name)


def test_judge_statuses_and_reasons():
    assert judge(0.41, 1, "auto", 0.6) == (
        "passed",
        "BVSE E_1D = 0.410 eV < 0.6 eV (lowest percolating dimension).",
    )
    status, reason = judge(0.8, 3, 3, 0.6)
    assert status == "dropped" and "E_3D = 0.800 eV >= 0.6 eV" in reason
    status, reason = judge(None, None, "auto", 0.6)
    assert status == "dropped" and "does not percolate in any dimension" in reason
    assert "in 2D" in judge(None, 2, 2, 0.6)[1]


def test_invalid_settings_fail_fast():
    with pytest.raises(ConfigurationError, match="dimension"):
        BVSEGateMaker(dimension="4D")
    with pytest.raises(ConfigurationError, match="resolution"):
        BVSEGateMaker(resolution_angstrom=0.0)


def test_lifepo4_passes_and_its_grid_goes_to_the_data_store():
    store = build_job_store("memory")
    gate = BVSEGateMaker(ea_max_ev=0.6, resolution_angstrom=0.25)
    job = gate.make(candidate("LiFePO4"))
    responses = run_locally(job, store=store, ensure_success=True)
    doc = responses[job.uuid][1].output
    assert isinstance(doc, BVSEDoc)
    assert doc.status == "passed", doc.reason
    assert doc.gate_dimension == 1 and doc.gate_ea_ev == doc.e1d_ev < 0.6
    assert doc.e3d_ev is None or doc.e3d_ev - doc.e1d_ev > 0.2
    assert doc.path_sites is not None and len(doc.path_points_angstrom) >= 3
    assert max(doc.path_energies_ev) >= doc.e1d_ev - 0.03
    assert doc.settings["timeout_s"] == 120.0  # read from the settings at run time

    stored = store.docs_store.query_one({"uuid": job.uuid})["output"]
    assert "blob_uuid" in stored["bvse_grid"]  # a reference, not the numbers
    assert stored["e1d_ev"] == pytest.approx(doc.e1d_ev)
    blob = store.additional_stores["data"].query_one(
        {"blob_uuid": stored["bvse_grid"]["blob_uuid"]}
    )
    grid = np.array(blob["data"]["data"] if isinstance(blob["data"], dict) else blob["data"])
    assert grid.shape == tuple(doc.grid_shape)
    assert grid.min() == 0.0
    loaded = store.get_output(job.uuid, load=True)
    assert np.asarray(loaded["bvse_grid"]).shape == tuple(doc.grid_shape)


def test_structure_without_li_fails_with_a_clear_reason():
    doc = BVSEGateMaker(timeout_s=0).gate(candidate("SiO2"))
    assert doc.status == "failed"
    assert doc.reason == "Candidate 'SiO2': SiO2 contains no Li, so there is no Li+ to migrate."
    assert not doc.proceeds and doc.bvse_grid is None


def test_timeout_becomes_a_failed_document():
    doc = BVSEGateMaker(timeout_s=0.05).gate(candidate("Li10GeP2S12", "LGPS"))
    assert doc.status == "failed"
    assert "Candidate 'LGPS': BVSE did not finish within 0.05 s" in doc.reason


def test_requested_dimension_decides(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("SSEFLOWS_BVSE_TIMEOUT_S", "300")
    doc = BVSEGateMaker(dimension=3, resolution_angstrom=0.3, compute_path=False).gate(
        candidate("LiFePO4")
    )
    assert doc.settings["timeout_s"] == 300.0
    assert doc.gate_dimension == 3
    assert doc.status == "dropped" and doc.gate_ea_ev > 1.0  # LiFePO4 is 1D only
    assert doc.path_points_angstrom is None


def test_serialised_candidate_is_accepted():
    data = candidate("SiO2").model_dump()
    data["structure"] = data["structure"].as_dict()
    doc = BVSEGateMaker(timeout_s=0).gate(data)
    assert doc.candidate_id == "SiO2" and doc.status == "failed"
