"""The labelled set as a training table: merged duplicates, censored rows, class, groups."""

from __future__ import annotations

import math

import numpy as np
import pytest
from pymatgen.core import Lattice, Structure

from sseflows.core.label import Label
from sseflows.rank.table import OBELIX_CENSORED_LOG10, build_training_table


def measured(label_id: str, formula: str, sigma: float, **kwargs) -> Label:
    return Label(label_id=label_id, formula=formula, sigma_rt_s_per_cm=sigma, **kwargs)


def bound(label_id: str, formula: str, log10_bound: float, **kwargs) -> Label:
    """An upper bound ``σ < 10**log10_bound`` as the OBELiX importer writes it."""
    return Label(
        label_id=label_id,
        formula=formula,
        log10_sigma_rt=log10_bound,
        sigma_upper_bound=True,
        provenance={"sigma_bound_s_per_cm": 10**log10_bound},
        **kwargs,
    )


def rocksalt_licl(a: float = 5.14) -> Structure:
    return Structure.from_spacegroup(
        "Fm-3m", Lattice.cubic(a), ["Li", "Cl"], [[0, 0, 0], [0.5] * 3]
    )


def cscl_licl(a: float = 3.2) -> Structure:
    return Structure(Lattice.cubic(a), ["Li", "Cl"], [[0, 0, 0], [0.5] * 3])


def test_duplicates_merge_to_the_median_log10_sigma() -> None:
    """Three labels of Li3PS4 (one written Li6P2S8): median of log10 σ = −6, −3.699, −2.301."""
    labels = [
        measured("a", "Li3PS4", 2e-4),
        measured("b", "Li6P2S8", 1e-6),
        measured("c", "Li3PS4", 5e-3),
        measured("d", "Li7P3S11", 1e-2),
    ]
    table = build_training_table(labels)
    assert len(table) == 2
    row = table.rows[0]
    assert row.formula == "Li3PS4"
    assert sorted(row.label_ids) == ["a", "b", "c"]
    assert row.log10_sigma == pytest.approx(math.log10(2e-4), abs=1e-9)
    assert not row.censored
    assert table.y() == pytest.approx([math.log10(2e-4), -2.0], abs=1e-9)
    assert table.label_ids() == ["a", "b", "c", "d"]


def test_an_even_group_takes_the_mean_of_the_middle_pair() -> None:
    table = build_training_table([measured("a", "LiI", 1e-7), measured("b", "LiI", 1e-5)])
    assert table.rows[0].log10_sigma == pytest.approx(-6.0, abs=1e-9)


def test_all_censored_group_stays_censored_at_the_lowest_bound() -> None:
    table = build_training_table([bound("a", "Li2O", -10.0), bound("b", "Li2O", -8.0)])
    (row,) = table.rows
    assert row.censored
    assert row.log10_sigma == pytest.approx(-10.0)
    assert table.y("obelix") == pytest.approx([OBELIX_CENSORED_LOG10])
    assert table.y("obelix")[0] == pytest.approx(-15.0)
    assert table.y("bound") == pytest.approx([-10.0])
    assert table.censored().tolist() == [True]
    with pytest.raises(ValueError, match="censored convention"):
        table.y("zero")  # type: ignore[arg-type]


def test_mixed_group_median_uses_the_convention_for_the_censored_label() -> None:
    """σ < 1e-10 and σ = 1e-3: median of (−15, −3) = −9 (obelix); of (−10, −3) = −6.5 (bound)."""
    labels = [bound("a", "LiBr", -10.0), measured("b", "LiBr", 1e-3)]
    obelix = build_training_table(labels, convention="obelix")
    assert not obelix.rows[0].censored
    assert obelix.rows[0].log10_sigma == pytest.approx(-9.0)
    assert obelix.y("obelix") == pytest.approx([-9.0])
    assert obelix.y("bound") == pytest.approx([-9.0])  # not censored: the median stands
    as_bound = build_training_table(labels, convention="bound")
    assert as_bound.rows[0].log10_sigma == pytest.approx(-6.5)


def test_superionic_threshold_counts_equality_and_never_a_censored_row() -> None:
    labels = [
        measured("at", "Li3YCl6", 1e-4),
        measured("below", "Li3YBr6", 9.9e-5),
        measured("above", "Li6PS5Cl", 3e-3),
        bound("bounded", "Li3InCl6", -3.0),  # "< 1e-3": could be anything below
    ]
    table = build_training_table(labels)
    assert table.threshold_s_per_cm == pytest.approx(1e-4)
    assert table.superionic().tolist() == [True, False, True, False]
    stricter = build_training_table(labels, threshold_s_per_cm=1e-3)
    assert stricter.superionic().tolist() == [False, False, True, False]


def test_groups_are_connected_components_of_doi_or_composition() -> None:
    """A–B share a DOI, B–C share a composition (C is computed, so a row of its own): one
    group of three; D shares nothing."""
    labels = [
        measured("A", "LiCl", 1e-9, reference="10.1/x"),
        measured("B", "Li2O", 1e-12, reference="10.1/x"),
        Label(
            label_id="C",
            formula="Li2O",
            log10_sigma_rt=-11.0,
            kind="computed",
            method="md-chgnet",
            reference="10.1/y",
            fidelity={"engine": "chgnet", "converged": True},
        ),
        measured("D", "LiBr", 1e-8, reference="10.1/z"),
    ]
    table = build_training_table(labels)
    assert [row.row_id for row in table.rows] == ["A", "B", "C", "D"]
    groups = table.groups()
    assert groups[0] == groups[1] == groups[2]
    assert groups[3] != groups[0]
    assert len(set(groups.tolist())) == 2
    computed = table.rows[2]
    assert (computed.kind, computed.method) == ("computed", "md-chgnet")
    assert computed.fidelity["engine"] == "chgnet"


def test_labels_hash_is_stable_and_changes_with_a_value() -> None:
    labels = [measured("a", "LiCl", 1e-9), measured("b", "LiI", 1e-7)]
    first = build_training_table(labels).labels_hash()
    assert build_training_table(list(reversed(labels))).labels_hash() == first
    changed = [measured("a", "LiCl", 2e-9), measured("b", "LiI", 1e-7)]
    assert build_training_table(changed).labels_hash() != first
    renamed = [measured("a2", "LiCl", 1e-9), measured("b", "LiI", 1e-7)]
    assert build_training_table(renamed).labels_hash() != first
    assert len(first) == 64


def test_family_comes_from_provenance_else_the_formula() -> None:
    labels = [
        measured("a", "Li7La3Zr2O12", 3e-4, provenance={"family": "garnet"}),
        measured("b", "Li3PS4", 1e-4),
    ]
    table = build_training_table(labels)
    assert table.families() == ["garnet", "Li3PS4"]


def test_structures_merge_when_they_match_and_polymorphs_stay_apart() -> None:
    """Rock-salt LiCl twice (1 % apart) is one material; the CsCl-type polymorph another; a
    composition-only LiCl label cannot tell which polymorph it is and stays a row of its own."""
    labels = [
        Label(label_id="rs1", formula="LiCl", structure=rocksalt_licl(), sigma_rt_s_per_cm=1e-9),
        Label(
            label_id="rs2", formula="LiCl", structure=rocksalt_licl(5.19), sigma_rt_s_per_cm=1e-7
        ),
        Label(label_id="cs", formula="LiCl", structure=cscl_licl(), sigma_rt_s_per_cm=1e-5),
        measured("comp", "LiCl", 1e-3),
    ]
    table = build_training_table(labels)
    ids = sorted(sorted(row.label_ids) for row in table.rows)
    assert ids == [["comp"], ["cs"], ["rs1", "rs2"]]
    merged = next(row for row in table.rows if "rs1" in row.label_ids)
    assert merged.log10_sigma == pytest.approx(-8.0)
    assert merged.structure is not None
    # one polymorph only: the composition-only label joins it
    single = build_training_table([labels[0], labels[3]])
    assert len(single) == 1
    assert single.rows[0].log10_sigma == pytest.approx(-6.0)
    assert len(set(table.groups().tolist())) == 1  # same composition → one group


def test_subset_keeps_rows_and_threshold() -> None:
    labels = [measured(str(i), f, s) for i, (f, s) in enumerate([("LiCl", 1e-9), ("LiI", 1e-3)])]
    table = build_training_table(labels, threshold_s_per_cm=1e-3)
    part = table.subset([1])
    assert [row.row_id for row in part.rows] == ["1"]
    assert part.threshold_s_per_cm == pytest.approx(1e-3)
    assert part.superionic().tolist() == [True]
    assert np.array_equal(part.censored(), [False])


def test_a_compilation_reference_links_no_rows() -> None:
    """Two Laskowski rows cite the compilation, not their measurement: separate groups."""
    compiled = {"reference_is_compilation": True}
    labels = [
        measured("L1", "LiCl", 1e-9, reference="doi:compilation", provenance=compiled),
        measured("L2", "Li2O", 1e-12, reference="doi:compilation", provenance=compiled),
        measured("O1", "LiBr", 1e-8, reference="doi:paper"),
        measured("O2", "LiI", 1e-7, reference="doi:paper"),
    ]
    groups = build_training_table(labels).groups()
    assert groups[0] != groups[1]
    assert groups[2] == groups[3]
    assert len(set(groups.tolist())) == 3
