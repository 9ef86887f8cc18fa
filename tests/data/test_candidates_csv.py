"""Candidate lists in CSV: relative paths, property columns, mp-id rows, bad rows.

The mp-id rows use a fake structure lookup (a dict) standing in for the MP snapshot or
web API, which cannot be reached from the test machine.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from data_helpers import li2o, licl_rocksalt

from sseflows.core.errors import ConfigurationError
from sseflows.data.candidates_csv import read_candidates_csv
from sseflows.data.readers import ReadFailure, read_candidates


def test_relative_paths_and_properties(tmp_path: Path, write_cif) -> None:
    write_cif(tmp_path / "structures" / "li2o.cif", li2o())
    write_cif(tmp_path / "licl.cif", licl_rocksalt())
    csv = tmp_path / "lists" / "candidates.csv"
    csv.parent.mkdir()
    csv.write_text(
        "path,id,e_hull_ev_per_atom,band_gap_ev\n"
        "../structures/li2o.cif,,0.0,5.1\n"
        f"{tmp_path / 'licl.cif'},rock-salt,0.012,\n"
    )
    result = read_candidates(csv=csv)
    assert result.failures == []
    li2o_cand, licl_cand = result.candidates
    assert (li2o_cand.id, li2o_cand.formula) == ("li2o", "Li2O")
    assert (li2o_cand.e_hull_ev_per_atom, li2o_cand.band_gap_ev) == (0.0, 5.1)
    assert (licl_cand.id, licl_cand.e_hull_ev_per_atom, licl_cand.band_gap_ev) == (
        "rock-salt",
        0.012,
        None,
    )
    assert li2o_cand.provenance["csv_line"] == 2


def test_unsafe_id_is_a_failure_not_sanitised(tmp_path: Path, write_cif) -> None:
    write_cif(tmp_path / "li2o.cif", li2o())
    csv = tmp_path / "c.csv"
    csv.write_text("path,id\nli2o.cif,../../etc/passwd\nli2o.cif,ok\n")
    result = read_candidates(csv=csv)
    assert result.ids == ["ok"]
    (failure,) = result.failures
    assert failure.reason.startswith("Candidate '../../etc/passwd': the id must use only")
    assert "/" not in failure.candidate_id and ".." not in failure.candidate_id
    assert failure.source == f"{csv}:2"


def test_mp_id_rows_use_the_lookup(tmp_path: Path) -> None:
    known = {"mp-1960": li2o()}
    csv = tmp_path / "mp.csv"
    csv.write_text("mp_id,band_gap_ev\nmp-1960,4.9\nmp-999999,\n")
    items = read_candidates_csv(csv, structure_lookup=known.get)
    candidate, failure = items
    assert (candidate.id, candidate.mp_id, candidate.formula) == ("mp-1960", "mp-1960", "Li2O")
    assert candidate.band_gap_ev == 4.9
    assert isinstance(failure, ReadFailure)
    assert failure.reason == "Candidate 'mp-999999': no structure was found for mp-999999."


def test_mp_id_rows_without_a_structure_source(tmp_path: Path) -> None:
    csv = tmp_path / "mp.csv"
    csv.write_text("mp_id\nmp-1960\n")
    (failure,) = read_candidates(csv=csv).failures
    assert "mp-1960 has no structure source" in failure.reason


def test_bad_rows(tmp_path: Path, write_cif) -> None:
    write_cif(tmp_path / "li2o.cif", li2o())
    csv = tmp_path / "c.csv"
    csv.write_text("path,mp_id,e_hull_ev_per_atom\nli2o.cif,,abc\n,,\nmissing.cif,,\n")
    reasons = [f.reason for f in read_candidates(csv=csv).failures]
    assert reasons[0] == "Candidate 'li2o': e_hull_ev_per_atom 'abc' is not a number."
    assert (
        reasons[1]
        == "Candidate 'csv-line-3': line 3 gives neither a path, an mp_id nor a composition."
    )
    assert reasons[2].startswith("Candidate 'missing': file ") and "does not exist" in reasons[2]


def test_csv_configuration_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="does not exist"):
        read_candidates(csv=tmp_path / "nope.csv")
    csv = tmp_path / "c.csv"
    csv.write_text("file,name\na.cif,a\n")
    with pytest.raises(ConfigurationError, match="needs a 'path', 'mp_id' or 'composition' column"):
        read_candidates(csv=csv)
