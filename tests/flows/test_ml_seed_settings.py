"""The ML seed's settings are the QE NEB Maker's (``QeNebFlowMaker.ml_seed``): they reach
the CHGNet NEB Makers of the ML band seed and of the ML NEB over every hop, they are in the
result key, and the QE document records them. Nothing heavy runs: no pw.x, no CHGNet band
(the one ML step run here stops at the hop setup of a structure without Li)."""

from __future__ import annotations

import json
from dataclasses import asdict, replace

import pytest
from monty.json import MontyDecoder, MontyEncoder
from pymatgen.core import Lattice, Structure

from sseflows.campaign.plan import result_key
from sseflows.core.candidate import Candidate
from sseflows.core.errors import ConfigurationError
from sseflows.core.images import MlBand, MlSeedSettings
from sseflows.core.neb import NebDoc
from sseflows.data.prototypes import pymatgen_structure
from sseflows.flows.tiers import (
    default_ml_seed_maker,
    matching_ml_maker,
    ml_band_seed,
    ml_hops_maker,
)
from sseflows.forcefields.neb import ChgnetNebMaker
from sseflows.qe.flows import QeNebFlowMaker, _with_hop_choice

SETTING_NAMES = (
    "force_field_name",
    "image_method",
    "fmax_ev_per_angstrom",
    "max_steps",
    "climbing_image",
)


def _li2o() -> Candidate:
    return Candidate.from_structure(pymatgen_structure("Li2O"), "li2o")


def test_defaults_are_the_seed_as_it_always_ran():
    """MlSeedSettings() builds exactly the ML Maker the seed used before it existed:
    ChgnetNebMaker(image_method="linear", replace_lower_endpoint=False)."""
    before = ChgnetNebMaker(image_method="linear", replace_lower_endpoint=False)
    assert default_ml_seed_maker() == before
    assert default_ml_seed_maker(MlSeedSettings()) == before
    assert QeNebFlowMaker().ml_seed == MlSeedSettings()
    defaults = MlSeedSettings()
    assert (defaults.fmax_ev_per_angstrom, defaults.max_steps) == (0.05, 300)
    assert defaults.image_method == "linear" and defaults.climbing_image


def test_the_ml_makers_carry_the_qe_makers_settings():
    """matching_ml_maker (the ML band seed) and ml_hops_maker (every hop) build their
    ChgnetNebMaker from QeNebFlowMaker.ml_seed, on the QE Maker's hops and supercell."""
    settings = MlSeedSettings(
        image_method="idpp", fmax_ev_per_angstrom=0.08, max_steps=120, climbing_image=False
    )
    maker = QeNebFlowMaker(ml_seed=settings, hop_index=1, min_length=7.0, max_hop_length=3.5)
    for ml in (matching_ml_maker(maker), ml_hops_maker(maker)):
        assert isinstance(ml, ChgnetNebMaker)
        assert {name: getattr(ml, name) for name in SETTING_NAMES} == asdict(settings)
        assert (ml.hop_index, ml.min_length, ml.max_hop_length) == (1, 7.0, 3.5)
        assert ml.replace_lower_endpoint is False
    assert ml_hops_maker(maker).hops == "all"
    assert matching_ml_maker(QeNebFlowMaker()).fmax_ev_per_angstrom == 0.05


def test_an_explicit_ml_maker_is_still_used_as_given():
    """A test's own ML Maker wins over the QE Maker's settings (hops and supercell still
    follow the QE Maker)."""
    maker = QeNebFlowMaker(ml_seed=MlSeedSettings(max_steps=50), hop_index=1)
    own = ChgnetNebMaker(max_steps=7, fmax_ev_per_angstrom=0.2, n_images=3)
    ml = matching_ml_maker(maker, own)
    assert (ml.max_steps, ml.fmax_ev_per_angstrom, ml.hop_index) == (7, 0.2, 1)
    assert ml_hops_maker(maker, own).max_steps == 7


def test_result_key_follows_the_ml_seed_settings():
    """Equal settings, equal key; any ML seed setting changed, another key."""
    candidate = _li2o()
    base = result_key(candidate, QeNebFlowMaker())
    assert result_key(candidate, QeNebFlowMaker(ml_seed=MlSeedSettings())) == base
    changes = [
        {"fmax_ev_per_angstrom": 0.1},
        {"max_steps": 100},
        {"image_method": "bvse"},
        {"climbing_image": False},
    ]
    keys = {result_key(candidate, QeNebFlowMaker(ml_seed=MlSeedSettings(**c))) for c in changes}
    assert len(keys) == len(changes) and base not in keys


def test_settings_survive_serialisation_with_the_maker():
    maker = QeNebFlowMaker(ml_seed=MlSeedSettings(image_method="bvse", max_steps=90))
    assert QeNebFlowMaker.from_dict(maker.as_dict()).ml_seed == maker.ml_seed
    decoded = json.loads(json.dumps(maker, cls=MontyEncoder), cls=MontyDecoder)
    assert isinstance(decoded.ml_seed, MlSeedSettings) and decoded.ml_seed.max_steps == 90


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"force_field_name": "MACE"}, "force_field_name must be one of CHGNet"),
        ({"image_method": "ml"}, "image_method must be one of linear, idpp, bvse"),
        ({"fmax_ev_per_angstrom": 0.0}, "must be positive"),
        ({"max_steps": 0}, "at least 1"),
    ],
)
def test_invalid_settings_are_one_sentence(change, words):
    with pytest.raises(ConfigurationError, match=words) as err:
        MlSeedSettings(**change)
    message = str(err.value)
    assert message.endswith(".") and message.count(". ") == 0


def test_the_ml_band_records_its_settings_even_when_it_fails():
    """ml_band_seed on a structure without Li stops at the hop setup (no CHGNet run): the
    band is unusable, and its settings (those of the QE Maker) are recorded."""
    nacl = Structure(Lattice.cubic(4.0), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    maker = QeNebFlowMaker(ml_seed=MlSeedSettings(image_method="bvse", max_steps=42))
    band = ml_band_seed(Candidate.from_structure(nacl, "nacl"), maker)
    assert band["converged"] is False and "could not be computed" in band["reason"]
    assert band["settings"]["max_steps"] == 42 and band["settings"]["image_method"] == "bvse"
    assert MlBand.coerce(band).summary()["settings"] == band["settings"]


def test_the_qe_document_records_the_ml_seed_settings():
    """NebDoc.settings["ml_seed"] holds the QE Maker's settings (they chose the hop and
    seeded the band); NebDoc.ml_seed, the band's summary, holds those the band ran with."""
    settings = MlSeedSettings(fmax_ev_per_angstrom=0.1, max_steps=150)
    maker = QeNebFlowMaker(ml_seed=settings)
    doc = NebDoc(candidate_id="li2o", engine="qe", status="failed", reason="x.")
    recorded = _with_hop_choice(doc, maker, None)
    assert recorded.settings["ml_seed"] == asdict(settings)
    assert recorded.settings["hop_choice"] == "limiting"
    band = MlBand([], [], [], 0, True, settings={"max_steps": 150})
    assert band.summary()["settings"] == {"max_steps": 150}
    assert replace(settings, max_steps=300) == MlSeedSettings(fmax_ev_per_angstrom=0.1)


def test_the_ml_neb_over_every_hop_records_the_settings(monkeypatch):
    """ml_hops_neb with the QE Maker's settings (BVSE images: the paths are computed in the
    job) on a structure without Li fails at once, before the potential loads; its document
    records the settings it ran with."""
    from jobflow import Flow, JobStore, run_locally
    from maggma.stores import MemoryStore

    import sseflows.flows.tiers as tiers

    asked = []
    real = tiers.bvse_seed_paths
    monkeypatch.setattr(tiers, "bvse_seed_paths", lambda *a, **k: asked.append(a) or real(*a))
    nacl = Structure(Lattice.cubic(4.0), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    settings = MlSeedSettings(image_method="bvse", max_steps=33)
    ml = tiers.ml_hops_neb(
        ml_hops_maker(QeNebFlowMaker(ml_seed=settings, max_hop_length=3.5)),
        Candidate.from_structure(nacl, "x"),
    )
    store = JobStore(MemoryStore(), additional_stores={"data": MemoryStore()})
    run_locally(Flow([ml]), store=store, create_folders=False, log=False)
    (row,) = store.docs_store.query({"uuid": ml.uuid})
    assert row["output"]["status"] == "failed" and "no Li" in row["output"]["reason"]
    recorded = row["output"]["settings"]
    assert (recorded["max_steps"], recorded["image_method"], recorded["hops"]) == (
        33,
        "bvse",
        "all",
    )
    assert len(asked) == 1 and asked[0][1:] == (3.5, 0.1)  # max_hop_length Å, symprec Å
