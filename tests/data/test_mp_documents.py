"""Materials Project summary documents saved as JSON (written here by hand: the MP web API
cannot be reached from the test machine)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from data_helpers import li2o, licl_rocksalt
from monty.serialization import dumpfn

from sseflows.core.errors import ConfigurationError
from sseflows.data.mp_documents import read_mp_documents
from sseflows.data.readers import ReadFailure


def test_documents_become_candidates(tmp_path: Path) -> None:
    docs = [
        {
            "material_id": "mp-1960",
            "structure": li2o().as_dict(),
            "energy_above_hull": 0.0,
            "band_gap": 4.97,
            "formula_pretty": "Li2O",
            "theoretical": False,
        },
        {"material_id": "mp-22905", "structure": licl_rocksalt().as_dict(), "band_gap": None},
        {"material_id": "mp-1", "band_gap": 1.0},
        {"structure": li2o().as_dict()},
    ]
    path = tmp_path / "docs.json"
    path.write_text(json.dumps({"data": docs}))
    first, second, no_structure, no_id = read_mp_documents(path)
    assert (first.id, first.mp_id, first.formula) == ("mp-1960", "mp-1960", "Li2O")
    assert (first.e_hull_ev_per_atom, first.band_gap_ev) == (0.0, 4.97)
    assert first.provenance["theoretical"] is False
    assert (second.formula, second.e_hull_ev_per_atom, second.band_gap_ev) == ("LiCl", None, None)
    assert isinstance(no_structure, ReadFailure)
    assert no_structure.reason == "Candidate 'mp-1': the document of mp-1 has no structure."
    assert isinstance(no_id, ReadFailure) and "has no material_id" in no_id.reason


def test_monty_serialised_documents(tmp_path: Path) -> None:
    """``dumpfn`` of documents holding Structure objects (how ``sseflows mp snapshot`` or a
    user would save MPRester results)."""
    path = tmp_path / "docs.json.gz"
    dumpfn([{"material_id": "mp-1960", "structure": li2o(), "energy_above_hull": 0.01}], path)
    (candidate,) = read_mp_documents(path)
    assert candidate.formula == "Li2O" and candidate.e_hull_ev_per_atom == 0.01


def test_bad_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="does not exist"):
        read_mp_documents(tmp_path / "none.json")
    path = tmp_path / "bad.json"
    path.write_text('{"material_id": "mp-1"}')
    with pytest.raises(ConfigurationError, match="must hold a list of documents"):
        read_mp_documents(path)
