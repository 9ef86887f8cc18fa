"""Representations (magpie, soap, chgnet, composites) checked on hand-derivable numbers."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from pymatgen.core import Composition, Lattice, Species, Structure

from sseflows.data.label_sources import read_cif_structure
from sseflows.rank.descriptors.base import (
    REPRESENTATIONS,
    CompositeRepresentation,
    FeatureInput,
    FeatureMatrix,
    inputs_from_rows,
    representation_from_description,
    representation_from_name,
)
from sseflows.rank.descriptors.magpie import li_content
from sseflows.rank.descriptors.soap import SoapRepresentation, sine_matrix, sine_spectrum
from sseflows.rank.table import TrainingRow


def li2o() -> Structure:
    """Antifluorite Li2O, a = 4.61 Å (conventional cell Li8O4)."""
    return Structure.from_spacegroup(
        "Fm-3m", Lattice.cubic(4.61), ["Li", "O"], [[0.25, 0.25, 0.25], [0, 0, 0]]
    )


def li3ps4_like() -> Structure:
    lattice = Lattice.orthorhombic(6.0, 6.5, 7.0)
    species = [Species("P", 5)] + [Species("S", -2)] * 4 + [Species("Li", 1)] * 3
    coords = [
        [0.0, 0.0, 0.0],
        [0.2, 0.2, 0.2],
        [-0.2, -0.2, 0.2],
        [0.2, -0.2, -0.2],
        [-0.2, 0.2, -0.2],
        [0.5, 0.5, 0.0],
        [0.5, 0.0, 0.5],
        [0.0, 0.5, 0.5],
    ]
    return Structure(lattice, species, coords)


def li_na_2o() -> Structure:
    """Li2O with every Li site Li0.5Na0.5 (disordered, neutral; Na -> Al0.5 when simplified)."""
    s = li2o()
    for i, site in enumerate(s):
        if site.specie.symbol == "Li":
            s.replace(i, {"Li": 0.5, "Na": 0.5})
    return s


def test_registry_names() -> None:
    assert {"magpie", "soap", "soap-sine", "chgnet"} <= set(REPRESENTATIONS)
    with pytest.raises(ValueError, match="unknown representation"):
        representation_from_name("megnet")


def test_li_content_by_hand() -> None:
    assert li_content(Composition("Li3PS4")) == pytest.approx((3 / 8, 3.0))
    assert li_content(Composition("Li12P4S16")) == pytest.approx((3 / 8, 3.0))
    assert li_content(Composition("Li7La3Zr2O12")) == pytest.approx((7 / 24, 7.0))
    assert li_content(Composition("LaCoO3")) == (0.0, 0.0)


def test_magpie_on_composition_only_rows() -> None:
    rep = representation_from_name("magpie")
    assert not rep.needs_structure
    m = rep.featurise(
        [FeatureInput("a", Composition("Li3PS4")), FeatureInput.from_structure("b", li2o())]
    )
    assert m.X.shape == (2, 134)
    assert m.failures == {}
    assert m.names[-2:] == ["li_fraction", "li_per_formula_unit"]
    assert m.X[0, -2:] == pytest.approx([3 / 8, 3.0])
    assert m.X[1, -2:] == pytest.approx([2 / 3, 2.0])
    mean_number = m.names.index("MagpieData mean Number")
    assert m.X[0, mean_number] == pytest.approx((3 * 3 + 15 + 4 * 16) / 8)
    assert np.isfinite(m.X).all()


def test_soap_defaults_and_length() -> None:
    rep = representation_from_name("soap")
    assert rep.settings() == {
        "scheme": "substituted-noli",
        "r_cut": 2.0,
        "n_max": 4,
        "l_max": 2,
        "sigma": 1.0,
        "sine_alpha": 0.0,
        "sine_length": 0,
        "seed": 0,
        "min_distance_a": 0.9,
    }
    assert isinstance(rep, SoapRepresentation)
    assert rep.species == ["Al", "S", "Mg"]
    assert len(rep.feature_names()) == (3 * 4) * (3 * 4 + 1) // 2 * (2 + 1)  # 234
    json.dumps(rep.settings())


def test_soap_invariant_under_supercell_and_translation() -> None:
    rep = SoapRepresentation()
    base = rep.vector(li3ps4_like())
    assert np.linalg.norm(base) > 0
    supercell = rep.vector(li3ps4_like() * (2, 1, 2))
    shifted = li3ps4_like()
    shifted.translate_sites(range(len(shifted)), [0.13, 0.07, 0.31])
    scale = np.abs(base).max()
    assert np.abs(supercell - base).max() < 1e-8 * scale
    assert np.abs(rep.vector(shifted) - base).max() < 1e-8 * scale


def test_soap_ignores_li_and_chemistry_of_the_same_framework() -> None:
    """substituted-noli: Li3PS4-like and the same cell with P→As, S→Se give one vector."""
    rep = SoapRepresentation()
    analogue = li3ps4_like()
    analogue.replace_species(
        {Species("P", 5): Species("As", 5), Species("S", -2): Species("Se", -2)}
    )
    a, b = rep.vector(li3ps4_like()), rep.vector(analogue)
    assert np.abs(a - b).max() < 1e-8 * np.abs(a).max()


def test_structure_representations_fail_composition_only_rows_with_a_reason() -> None:
    for name in ("soap", "soap-sine"):
        m = representation_from_name(name).featurise(
            [
                FeatureInput("comp-only", Composition("Li3PS4")),
                FeatureInput.from_structure("s", li2o()),
            ]
        )
        assert set(m.failures) == {"comp-only"}
        assert "needs a structure" in m.failures["comp-only"]
        assert "comp-only" in m.failures["comp-only"]
        assert np.isnan(m.X[0]).all()
        assert np.isfinite(m.X[1]).all()
        assert m.ok.tolist() == [False, True]


def test_soap_on_a_disordered_structure() -> None:
    m = representation_from_name("soap").featurise(
        [FeatureInput.from_structure("half", li_na_2o())]
    )
    assert m.failures == {}
    assert np.isfinite(m.X).all()


def test_sine_matrix_by_hand() -> None:
    """Two atoms in a cubic cell, a = 4 Å, along x by a/2: |a·sin²(π/2)| = a (in bohr)."""
    s = Structure(Lattice.cubic(4.0), ["Li", "O"], [[0, 0, 0], [0.5, 0, 0]])
    m = sine_matrix(s)
    bohr = 4.0 / 0.52917721067
    assert m[0, 1] == pytest.approx(3 * 8 / bohr)
    assert m[0, 0] == pytest.approx(0.5 * 3**2.4)
    spectrum = sine_spectrum(s, 4)
    assert spectrum[2:].tolist() == [0.0, 0.0]
    assert spectrum[:2] == pytest.approx(sorted(np.linalg.eigvalsh(m), key=lambda v: -abs(v)))


def test_soap_sine_appends_scaled_spectrum() -> None:
    rep = representation_from_name("soap-sine")
    assert rep.name == "soap-sine"
    assert isinstance(rep, SoapRepresentation)
    vector = rep.vector(li2o())
    n_soap = 234
    assert vector.size == n_soap + 128
    assert vector[n_soap:] == pytest.approx(3e-6 * sine_spectrum(li2o(), 128))
    assert vector[:n_soap] == pytest.approx(SoapRepresentation().vector(li2o()))


def test_composite_concatenates_and_joins_failures() -> None:
    rep = representation_from_name("magpie+soap", soap={"r_cut": 3.0})
    assert isinstance(rep, CompositeRepresentation)
    assert rep.name == "magpie+soap"
    assert rep.needs_structure
    inputs = [FeatureInput("c", Composition("Li3PS4")), FeatureInput.from_structure("s", li2o())]
    m = rep.featurise(inputs)
    assert m.X.shape == (2, 134 + len(rep.parts()[1].feature_names()))
    assert m.names[0].startswith("magpie:") and m.names[-1].startswith("soap:")
    assert list(m.failures) == ["c"] and m.failures["c"].startswith("soap:")
    assert np.isnan(m.X[0]).all() and np.isfinite(m.X[1]).all()
    rebuilt = representation_from_description(json.loads(json.dumps(rep.describe())))
    assert rebuilt.settings() == rep.settings()
    with pytest.raises(ValueError, match="name no part"):
        representation_from_name("magpie+soap", chgnet={})


def test_disordered_obelix_argyrodite(obelix_dir: Path) -> None:
    """OBELiX 09w, Li6.05P0.95Si0.05S5Br: 100 partially occupied sites; SOAP works."""
    rows = [FeatureInput.from_structure("09w", read_cif_structure(obelix_dir / "cifs" / "09w.cif"))]
    assert rows[0].structure is not None and not rows[0].structure.is_ordered
    m = representation_from_name("soap").featurise(rows)
    assert m.failures == {}
    assert np.isfinite(m.X).all()


def test_inputs_from_training_rows() -> None:
    row = TrainingRow("obelix:x", "Li2O", li2o().composition, li2o(), -5.0, False)
    (got,) = inputs_from_rows([row])
    assert (got.id, got.structure) == ("obelix:x", row.structure)


def test_feature_matrix_shape() -> None:
    m = FeatureMatrix(["a"], np.zeros(3), ["x", "y", "z"])
    assert m.X.shape == (1, 3)


@pytest.mark.slow
def test_chgnet_per_atom_feature_equal_for_cell_and_supercell() -> None:
    rep = representation_from_name("chgnet")
    m = rep.featurise(
        [
            FeatureInput.from_structure("cell", li2o()),
            FeatureInput.from_structure("supercell", li2o() * (2, 1, 1)),
            FeatureInput("comp-only", Composition("Li2O")),
            FeatureInput.from_structure("half", li_na_2o()),
        ]
    )
    assert m.X.shape == (4, 64)
    assert set(m.failures) == {"comp-only"}
    assert "needs a structure" in m.failures["comp-only"]
    scale = np.abs(m.X[0]).max()
    assert scale > 0
    assert np.abs(m.X[0] - m.X[1]).max() < 1e-4 * scale
    assert np.isfinite(m.X[3]).all()
