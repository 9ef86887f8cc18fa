"""Reading candidates from structure files and folders; bad input becomes a failure."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from data_helpers import li2o, licl_rocksalt, nacl

from sseflows.core.errors import CandidateError
from sseflows.data.readers import read_candidates, read_structure_file


def test_read_cif_file(tmp_path: Path, write_cif) -> None:
    path = write_cif(tmp_path / "Li2O sample.cif", li2o())
    candidate = read_structure_file(path)
    assert candidate.id == "Li2O_sample"  # the space is not allowed in ids
    assert candidate.formula == "Li2O"
    assert len(candidate.structure) == 12
    assert candidate.source == str(path)
    assert candidate.provenance["reader"] == "cif"


def test_read_json_and_poscar(tmp_path: Path) -> None:
    li2o().to(filename=str(tmp_path / "li2o.json"))
    li2o().to(filename=str(tmp_path / "POSCAR"))
    assert read_structure_file(tmp_path / "li2o.json").formula == "Li2O"
    poscar = read_structure_file(tmp_path / "POSCAR", candidate_id="li2o-poscar")
    assert (poscar.id, poscar.formula) == ("li2o-poscar", "Li2O")


def test_explicit_unsafe_id_is_rejected(tmp_path: Path, write_cif) -> None:
    path = write_cif(tmp_path / "x.cif", li2o())
    with pytest.raises(CandidateError, match=r"Candidate '\.\./x'.*must not be a path"):
        read_structure_file(path, candidate_id="../x")


def test_unparsable_cif(bad_cif: Path) -> None:
    with pytest.raises(CandidateError, match=r"Candidate 'broken': broken\.cif cannot be parsed"):
        read_structure_file(bad_cif)


def test_unknown_format(tmp_path: Path) -> None:
    path = tmp_path / "li2o.xyzw"
    path.write_text("nothing")
    with pytest.raises(CandidateError, match=r"li2o\.xyzw cannot be read"):
        read_structure_file(path)


def test_folder_reads_sorted_and_collects_failures(tmp_path: Path, write_cif, bad_cif) -> None:
    folder = bad_cif.parent
    write_cif(folder / "b_licl.cif", licl_rocksalt())
    write_cif(folder / "a_li2o.cif", li2o())
    write_cif(folder / "c_nacl.cif", nacl())
    (folder / "README.txt").write_text("not a structure")

    result = read_candidates([folder])

    assert result.ids == ["a_li2o", "b_licl"]
    reasons = {f.candidate_id: f.reason for f in result.failures}
    assert set(reasons) == {"broken", "c_nacl"}
    assert reasons["c_nacl"] == "Candidate 'c_nacl': NaCl contains no lithium."
    assert reasons["broken"].startswith("Candidate 'broken': broken.cif cannot be parsed")
    assert all(f.reason.count(".") >= 1 and "\n" not in f.reason for f in result.failures)


def test_duplicate_file_names_get_suffixes(tmp_path: Path, write_cif) -> None:
    one = write_cif(tmp_path / "a" / "x.cif", li2o())
    two = write_cif(tmp_path / "b" / "x.cif", licl_rocksalt())
    result = read_candidates([one, two])
    assert result.ids == ["x", "x_2"]
    assert result.candidates[1].provenance["renamed_from"] == "x"
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "x.cif").write_text("not a cif")
    failed = read_candidates([one, tmp_path / "c" / "x.cif"])
    assert failed.failures[0].candidate_id == "x_2"
    assert failed.failures[0].reason.startswith("Candidate 'x_2': x.cif cannot be parsed")


def test_missing_path_and_empty_folder(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    result = read_candidates([tmp_path / "nope.cif", tmp_path / "empty"])
    assert result.candidates == []
    assert "does not exist" in result.failures[0].reason
    assert "holds no structure files" in result.failures[1].reason


def test_huge_cell_fails(tmp_path: Path, write_cif) -> None:
    big = li2o()
    big.make_supercell([2, 2, 2])  # 96 sites
    path = write_cif(tmp_path / "big.cif", big)
    result = read_candidates([path], max_sites=50)
    assert result.failures[0].reason == ("Candidate 'big': has 96 sites, above the limit of 50.")
    assert read_candidates([path], max_sites=96).ids == ["big"]


def test_all_sources_together(tmp_path: Path, write_cif) -> None:
    """A CIF, a CSV row and an MP document of the same Li2O are merged into the first."""
    write_cif(tmp_path / "li2o.cif", li2o())
    csv = tmp_path / "list.csv"
    csv.write_text("path,id,band_gap_ev\nli2o.cif,li2o-csv,5.0\n")
    docs = tmp_path / "mp.json"
    supercell = li2o()
    supercell.make_supercell([1, 1, 2])
    docs.write_text(
        json.dumps(
            [{"material_id": "mp-1960", "structure": supercell.as_dict(), "energy_above_hull": 0}]
        )
    )
    result = read_candidates([tmp_path / "li2o.cif"], csv=csv, mp_documents=docs)
    assert result.ids == ["li2o"]
    kept = result.candidates[0]
    assert (kept.band_gap_ev, kept.e_hull_ev_per_atom, kept.mp_id) == (5.0, 0.0, "mp-1960")
    assert result.merges[0].merged_ids == ["li2o-csv", "mp-1960"]
    assert read_candidates([tmp_path / "li2o.cif"], csv=csv, deduplicate=False).ids == [
        "li2o",
        "li2o-csv",
    ]


def test_all_obelix_cifs_read_or_fail_clearly(obelix_dir: Path) -> None:
    """All 254 OBELiX CIFs (195 partially occupied): none crashes, none fails to parse;
    the only failures are CIFs whose sites hold no Li (the LLTO family lists La/Ti/O)."""
    result = read_candidates([obelix_dir / "cifs"], deduplicate=False)
    assert len(result.candidates) + len(result.failures) == 254
    assert not [f for f in result.failures if "cannot be parsed" in f.reason]
    for failure in result.failures:
        assert failure.reason.startswith(f"Candidate '{failure.candidate_id}': ")
        assert failure.reason.endswith("contains no lithium.")
    assert sum(not c.structure.is_ordered for c in result.candidates) > 150
