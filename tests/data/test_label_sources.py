"""Importers of the OBELiX and Laskowski label sets, checked on the real files."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import pytest

from sseflows.data.label_sources import (
    LabelImport,
    import_laskowski,
    import_laskowski_clustering,
    parse_sigma,
    reduced_formula,
)


def test_parse_sigma() -> None:
    assert parse_sigma("1.58489e-06") == (1.58489e-06, False)
    assert parse_sigma("<1E-10") == (1e-10, True)
    assert parse_sigma("1.2E\u22124") == (1.2e-4, False)  # typographic minus
    for bad, message in [("", "no conductivity"), ("n/a", "not a number"), ("<1E10", "outside")]:
        with pytest.raises(ValueError, match=message):
            parse_sigma(bad)


def test_reduced_formula() -> None:
    assert reduced_formula("Li7BiO6") == ("Li7BiO6", False)
    # 0.7 Li2S + 0.3 P2S5 = Li1.4 P0.6 S2.2 = Li7P3S11 (the glass-ceramic's composition)
    assert reduced_formula("0.7Li2S-0.3P2S5") == ("Li7P3S11", True)
    assert reduced_formula("0.9(0.6Li2S-0.4SiS2)-0.1Li4SiO4")[1] is True
    with pytest.raises(ValueError, match="ambiguous amount 'P05'"):
        reduced_formula("Li3.5Si0.5P05S4")
    with pytest.raises(ValueError, match="cannot be parsed"):
        reduced_formula("Li3PS4 – 2 wt% Al2O3")


def test_obelix_counts(obelix_import: LabelImport, obelix_dir: Path) -> None:
    with (obelix_dir / "train.csv").open(encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    cifs = {p.stem for p in (obelix_dir / "cifs").glob("*.cif")}
    labels = obelix_import.labels
    assert len(labels) + len(obelix_import.skipped) == len(rows)
    assert obelix_import.skipped == []
    assert len({label.label_id for label in labels}) == len(labels)
    assert sum(label.structure is not None for label in labels) == len(cifs)
    bounds = [r for r in rows if r["Ionic conductivity (S cm-1)"].startswith("<")]
    assert sum(label.sigma_upper_bound for label in labels) == len(bounds)


def test_obelix_hand_checked_row(obelix_import: LabelImport) -> None:
    """train.csv: ``jqc,Li7BiO6,...,1.58489e-06,...,10.1002/zaac.200500231,...,155950.0``;
    log10(1.58489e-6) = -5.8000; cifs/jqc.cif has Li on 0.875-occupied sites (Li8 × 0.875 = 7)."""
    label = next(x for x in obelix_import.labels if x.label_id == "obelix:jqc")
    assert label.formula == "Li7BiO6"
    assert label.sigma_rt_s_per_cm == pytest.approx(1.58489e-06)
    assert label.log10_sigma_rt == pytest.approx(-5.8, abs=1e-4)
    assert label.reference == "doi:10.1002/zaac.200500231"
    assert label.provenance["icsd_id"] == 155950
    assert label.kind == "experimental" and label.source == "obelix"
    assert label.structure.composition.reduced_formula == "Li7BiO6"
    assert not label.structure.is_ordered


def test_obelix_upper_bound(obelix_import: LabelImport) -> None:
    """``47i,Li4P2O7,...,<1E-10``: no value, flagged bound, log10 of the bound."""
    label = next(x for x in obelix_import.labels if x.label_id == "obelix:47i")
    assert label.sigma_rt_s_per_cm is None
    assert label.sigma_upper_bound is True
    assert label.log10_sigma_rt == pytest.approx(-10.0)
    assert label.provenance["sigma_bound_s_per_cm"] == pytest.approx(1e-10)


def test_obelix_cif_only_where_present(obelix_import: LabelImport, obelix_dir: Path) -> None:
    for label in obelix_import.labels:
        entry = label.label_id.split(":", 1)[1]
        has_cif = (obelix_dir / "cifs" / f"{entry}.cif").is_file()
        assert (label.structure is not None) == has_cif, entry


@pytest.fixture(scope="module")
def laskowski(shared_dir: Path) -> tuple[Path, LabelImport]:
    path = shared_dir / "data" / "laskowski2023" / "digitized_data_for_SSEs.csv"
    if not path.is_file():
        pytest.skip(f"{path} is absent")
    return path, import_laskowski(path)


def test_laskowski_counts_and_bom(laskowski: tuple[Path, LabelImport]) -> None:
    path, result = laskowski
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")  # the file has a UTF-8 BOM
    n_rows = len(path.read_text(encoding="utf-8-sig").splitlines()) - 1
    assert len(result.labels) + len(result.skipped) == n_rows
    assert len(result.labels) > 0.9 * n_rows  # the BOM did not hide the Structure column
    assert all(reason.startswith("Laskowski line ") for reason in result.skipped)
    assert any("'<1E10'" in reason for reason in result.skipped)
    assert any("ambiguous amount 'P05'" in reason for reason in result.skipped)


def test_laskowski_hand_checked_rows(laskowski: tuple[Path, LabelImport]) -> None:
    """Line 4: ``Li7BiO6,8.80E-07,0.58,2,155950``; line 12: ``Li4P2O7,<1E-10,1.617,2,248414``."""
    _, result = laskowski
    by_id = {label.label_id: label for label in result.labels}
    li7bio6 = by_id["laskowski2023:4"]
    assert li7bio6.formula == "Li7BiO6"
    assert li7bio6.sigma_rt_s_per_cm == pytest.approx(8.8e-7)
    assert li7bio6.log10_sigma_rt == pytest.approx(math.log10(8.8e-7))
    assert li7bio6.log10_sigma_rt == pytest.approx(-6.0555, abs=1e-4)
    assert li7bio6.ea_ev == pytest.approx(0.58)
    assert li7bio6.provenance["icsd_id"] == 155950
    assert li7bio6.provenance["space_group_number"] == 2
    bound = by_id["laskowski2023:12"]
    assert (bound.formula, bound.sigma_upper_bound, bound.sigma_rt_s_per_cm) == (
        "Li4P2O7",
        True,
        None,
    )
    assert bound.ea_ev == pytest.approx(1.617)
    assert bound.provenance["icsd_id"] == 248414


def test_polymorph_labels_are_dropped_from_formulas() -> None:
    assert reduced_formula("α-Li8GeP4") == ("Li8GeP4", False)
    assert reduced_formula("r-LiAlO2") == ("LiAlO2", False)
    assert reduced_formula("β-Li3PS4") == ("Li3PS4", False)


def test_laskowski_clustering_label_set(laskowski: tuple[Path, LabelImport]) -> None:
    """First row: ``LiAlSi3O8,1.30E-10,2,81980`` (formula, σ S/cm, space group, ICSD id)."""
    path = laskowski[0].parent / "semi_supervised_labels.csv"
    if not path.is_file():
        pytest.skip(f"{path} is absent")
    result = import_laskowski_clustering(path)
    n_rows = len(path.read_text(encoding="utf-8-sig").splitlines())
    assert len(result.labels) + len(result.skipped) == n_rows == 344
    assert len(result.skipped) <= 2  # one unbalanced parenthesis in the source
    first = result.labels[0]
    assert first.label_id == "laskowski2023-clustering:1"
    assert (first.formula, first.structure) == ("LiAlSi3O8", None)
    assert first.sigma_rt_s_per_cm == pytest.approx(1.3e-10)
    assert first.provenance["space_group_number"] == 2
    assert first.provenance["icsd_id"] == 81980
    assert first.provenance["reference_is_compilation"] is True
