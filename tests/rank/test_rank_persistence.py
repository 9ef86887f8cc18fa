"""A trained ranking model: skops round trip, provenance, refusals, failures, the RankMaker."""

from __future__ import annotations

import collections
import json
from pathlib import Path

import numpy as np
import pytest
import skops.io as sio
from jobflow import run_locally
from pymatgen.core import Composition, Lattice, Structure
from pymatgen.core.periodic_table import DummySpecies

from sseflows.core.candidate import Candidate
from sseflows.core.errors import ConfigurationError
from sseflows.rank.descriptors.base import FeatureInput, representation_from_name
from sseflows.rank.maker import RankMaker, TrainingSpec, order_records, trained_model
from sseflows.rank.model import RankModel, train_rank_model
from sseflows.rank.persistence import load_rank_model, provenance_path
from sseflows.rank.schemas import RankDoc
from sseflows.rank.table import TrainingTable
from sseflows.stores import build_job_store
from tests.rank.conftest import SMALL_ENSEMBLE, TOY_SIGMA_S_PER_CM, is_one_sentence

CANDIDATES = [
    FeatureInput("argyrodite", Composition("Li6PS5Cl")),  # a training composition
    FeatureInput("new-halide", Composition("Li2.5Y0.5Zr0.5Cl6")),
    FeatureInput("oxide", Composition("Li5La3Ta2O12")),
]


def unfeaturisable() -> FeatureInput:
    """A composition with a dummy species: Magpie has no data for 'X'."""
    return FeatureInput("mystery", Composition({"Li": 1, DummySpecies("X"): 1}))


def test_saved_model_predicts_like_the_trained_one(
    toy_model: RankModel, toy_model_path: Path
) -> None:
    loaded = load_rank_model(toy_model_path)
    assert isinstance(loaded, RankModel)
    assert loaded.version == toy_model.version and len(loaded.version) == 12
    before, after = toy_model.predict(CANDIDATES), loaded.predict(CANDIDATES)
    assert [r["candidate_id"] for r in after] == ["argyrodite", "new-halide", "oxide"]
    for first, second in zip(before, after, strict=True):
        assert first.keys() == second.keys()
        for key, value in first.items():
            if isinstance(value, float):
                assert second[key] == pytest.approx(value, rel=1e-9, abs=1e-12)
            else:
                assert second[key] == value


def test_provenance_json_beside_the_model(toy_table: TrainingTable, toy_model_path: Path) -> None:
    path = provenance_path(toy_model_path)
    assert path == toy_model_path.with_suffix(".json")
    provenance = json.loads(path.read_text())
    assert provenance["label_ids"] == sorted(f"toy:{i}" for i in range(30))
    assert provenance["labels_hash"] == toy_table.labels_hash()
    assert provenance["n_rows"] == 30 and provenance["excluded_rows"] == {}
    assert provenance["representation"] == {
        "name": "magpie",
        "settings": {"preset": "magpie", "li_content": True},
    }
    assert provenance["estimator"]["model"] == "ensemble"
    assert provenance["estimator"]["n_members"] == SMALL_ENSEMBLE["n_members"]
    assert provenance["threshold_s_per_cm"] == pytest.approx(1e-4)
    assert provenance["censored_convention"] == "obelix"
    assert provenance["label_source"] == "toy"
    versions = provenance["versions"]
    assert {"numpy", "scikit-learn", "lightgbm", "pymatgen", "matminer"} <= set(versions)
    assert versions["numpy"] == np.__version__
    assert len(provenance["model_version"]) == 12


def test_model_version_changes_with_the_labels(toy_table: TrainingTable, toy_model: RankModel):
    changed = TrainingTable(list(toy_table.rows[:-1]), toy_table.threshold_s_per_cm)
    other = train_rank_model(
        changed, representation_from_name("magpie"), model_settings=dict(SMALL_ENSEMBLE)
    )
    assert other.provenance["labels_hash"] != toy_model.provenance["labels_hash"]
    assert other.version != toy_model.version


def test_records_of_composition_only_candidates(toy_model: RankModel) -> None:
    records = {r["candidate_id"]: r for r in toy_model.predict(CANDIDATES)}
    known = records["argyrodite"]
    assert known["status"] == "completed"
    assert known["formula"] == "Li6PS5Cl"
    assert known["near_training"] is True
    assert known["novelty"] == pytest.approx(0.0, abs=1e-6)  # it is a training row
    new = records["new-halide"]
    assert new["near_training"] is False
    assert new["novelty"] > 0
    for record in records.values():
        assert 0.0 <= record["p_superionic"] <= 1.0
        assert record["p_superionic_sd"] >= 0.0
        assert record["log10_sigma_lo"] <= record["log10_sigma"] <= record["log10_sigma_hi"]
        assert record["model_version"] == toy_model.version
    # Li2O (σ = 1e-12 in the toy set) scores below the argyrodite (3e-3)
    insulator = toy_model.predict([FeatureInput("li2o", Composition("Li2O"))])[0]
    assert insulator["log10_sigma"] < known["log10_sigma"]


def test_a_candidate_whose_features_fail_gets_a_reason_the_others_finish(
    toy_model: RankModel,
) -> None:
    records = toy_model.predict([CANDIDATES[0], unfeaturisable(), CANDIDATES[1]])
    assert [r["status"] for r in records] == ["completed", "failed", "completed"]
    failed = records[1]
    assert failed["candidate_id"] == "mystery"
    assert "mystery" in failed["reason"]
    assert "Magpie" in failed["reason"]
    assert is_one_sentence(failed["reason"]), failed["reason"]
    assert "p_superionic" not in failed
    assert records[2]["p_superionic"] == pytest.approx(
        toy_model.predict([CANDIDATES[1]])[0]["p_superionic"]
    )


def test_loading_with_other_representation_settings_is_refused(toy_model_path: Path) -> None:
    assert isinstance(
        load_rank_model(toy_model_path, representation_from_name("magpie")), RankModel
    )
    for other in (
        representation_from_name("magpie", li_content=False),
        representation_from_name("magpie+soap"),
    ):
        with pytest.raises(ConfigurationError) as caught:
            load_rank_model(toy_model_path, other)
        message = str(caught.value)
        assert "representation" in message
        assert is_one_sentence(message), message


def test_a_file_with_a_foreign_type_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "counter.skops"
    sio.dump(collections.Counter({"Li": 3}), path)
    with pytest.raises(ConfigurationError, match=r"collections\.Counter") as caught:
        load_rank_model(path)
    assert is_one_sentence(str(caught.value))


def test_files_that_are_no_ranking_model_are_refused(tmp_path: Path) -> None:
    array = tmp_path / "array.skops"
    sio.dump(np.arange(3.0), array)
    with pytest.raises(ConfigurationError, match="no sseflows ranking model"):
        load_rank_model(array)
    text = tmp_path / "text.skops"
    text.write_text("not a zip file\n")
    with pytest.raises(ConfigurationError, match="not a skops file"):
        load_rank_model(text)
    with pytest.raises(ConfigurationError, match="does not exist") as caught:
        load_rank_model(tmp_path / "absent.skops")
    assert is_one_sentence(str(caught.value))


def test_training_needs_featurisable_rows(toy_table: TrainingTable) -> None:
    soap = representation_from_name("soap")  # composition-only rows have no structure
    with pytest.raises(ConfigurationError) as caught:
        train_rank_model(toy_table, soap, model_settings=dict(SMALL_ENSEMBLE))
    assert "0 of 30" in str(caught.value)
    assert is_one_sentence(str(caught.value))


def test_order_records_best_first_failures_last() -> None:
    records = [
        {"candidate_id": "a", "status": "completed", "p_superionic": 0.2},
        {"candidate_id": "b", "status": "failed", "reason": "x."},
        {"candidate_id": "c", "status": "completed", "p_superionic": 0.9},
    ]
    ordered = order_records(records, "p_superionic")
    assert [(r["candidate_id"], r["rank"]) for r in ordered] == [("c", 1), ("a", 2), ("b", None)]
    with pytest.raises(ValueError, match="unknown order"):
        order_records(records, "novelty")


def test_rank_maker_runs_as_a_job(toy_model_path: Path) -> None:
    li2o = Structure.from_spacegroup(
        "Fm-3m", Lattice.cubic(4.61), ["O", "Li"], [[0, 0, 0], [0.25, 0.25, 0.25]]
    )
    candidates = [
        Candidate(id="oxide", formula="Li2O"),
        Candidate(id="argyrodite", formula="Li6PS5Cl"),
        Candidate.from_structure(li2o, "li2o-cif"),
        Candidate(id="halide", formula="Li3YCl6"),
    ]
    job = RankMaker(model_path=str(toy_model_path)).make(candidates)
    assert job.name == "rank"
    store = build_job_store("memory")
    responses = run_locally(job, store=store, log=False, ensure_success=True)
    with store:
        stored = store.query_one({"uuid": job.uuid})["output"]
    assert [doc["tier"] for doc in stored] == ["rank"] * 4
    docs = responses[job.uuid][1].output
    assert len(docs) == 4
    docs = [RankDoc.model_validate(d) if isinstance(d, dict) else d for d in docs]
    assert all(doc.tier == "rank" and doc.status == "completed" for doc in docs)
    assert [doc.rank for doc in docs] == [1, 2, 3, 4]
    probabilities = [doc.p_superionic for doc in docs]
    assert probabilities == sorted(probabilities, reverse=True)
    assert {doc.candidate_id for doc in docs} == {"oxide", "argyrodite", "li2o-cif", "halide"}
    assert docs[0].settings["order_by"] == "p_superionic"
    by_id = {doc.candidate_id: doc for doc in docs}
    # the structure candidate is Li2O too: same composition features, same numbers
    assert by_id["li2o-cif"].p_superionic == pytest.approx(by_id["oxide"].p_superionic)
    assert by_id["oxide"].near_training is True
    assert by_id["oxide"].formula == "Li2O"


def test_rank_maker_orders_by_log10_sigma(toy_model_path: Path) -> None:
    candidates = [Candidate(id=f"c{i}", formula=f) for i, f in enumerate(TOY_SIGMA_S_PER_CM)][:6]
    job = RankMaker(model_path=str(toy_model_path), order_by="log10_sigma").make(candidates)
    responses = run_locally(job, store=build_job_store("memory"), log=False, ensure_success=True)
    docs = responses[job.uuid][1].output
    docs = [RankDoc.model_validate(d) if isinstance(d, dict) else d for d in docs]
    values = [doc.log10_sigma for doc in docs]
    assert values == sorted(values, reverse=True)
    assert [doc.rank for doc in docs] == list(range(1, 7))


def test_rank_maker_trains_its_model_when_given_labels(tmp_path: Path, obelix_dir: Path) -> None:
    """With a TrainingSpec the job trains on OBELiX, saves the model, then ranks with it."""
    model_path = tmp_path / "trained.skops"
    spec = TrainingSpec(
        labels_source="obelix", labels_path=str(obelix_dir), model_settings=dict(SMALL_ENSEMBLE)
    )
    candidates = [
        Candidate(id="llzo", formula="Li7La3Zr2O12"),
        Candidate(id="li2o", formula="Li2O"),
    ]
    job = RankMaker(model_path=str(model_path), training=spec).make(candidates)
    responses = run_locally(job, store=build_job_store("memory"), log=False, ensure_success=True)
    docs = [
        RankDoc.model_validate(d) if isinstance(d, dict) else d
        for d in responses[job.uuid][1].output
    ]
    assert [doc.candidate_id for doc in docs] == ["llzo", "li2o"]  # the garnet ranks first
    saved = load_rank_model(model_path)
    assert docs[0].model_version == saved.version != ""
    assert saved.provenance["n_rows"] > 400  # OBELiX train after merging duplicates
    with pytest.raises(ConfigurationError, match="needs --labels-path"):
        trained_model(TrainingSpec(labels_source="obelix"), None)
