"""Campaign specs in workflows/ encode the published funnels and validate strictly."""

from __future__ import annotations

from pathlib import Path

import pytest

from sseflows.campaign.spec import load_campaign_spec
from sseflows.core.errors import ConfigurationError

WORKFLOWS = Path(__file__).resolve().parents[2] / "workflows"


def test_laskowski_funnel_thresholds() -> None:
    spec = load_campaign_spec(WORKFLOWS / "laskowski2023.yaml")
    assert spec.gates.mp.e_hull_max_ev_per_atom == pytest.approx(0.070)
    assert spec.gates.mp.band_gap_min_ev == 1.0
    assert spec.gates.bvse.ea_max_ev == 0.6
    assert spec.neb.top_k == 10 and spec.neb.require_e_hull_zero
    assert spec.neb.min_length == 10.0


def test_kang_aimd_protocol() -> None:
    spec = load_campaign_spec(WORKFLOWS / "kang.yaml")
    assert spec.gates.bvse is None
    assert spec.gates.mp.e_hull_max_ev_per_atom == float("inf")  # E_hull = 0 is a filter
    assert spec.md.temperatures_k == [600, 800, 1000, 1200]
    assert (spec.md.equilibration_steps, spec.md.production_steps) == (3000, 10000)
    assert spec.md.timestep_fs == 2.0


def test_every_shipped_spec_loads() -> None:
    names = {load_campaign_spec(p).name for p in WORKFLOWS.glob("*.yaml")}
    assert {"laskowski2023", "mchaffie2025", "kang"} <= names


def test_typo_is_one_clear_sentence(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\ngates:\n  mp: {e_hull_max: 0.1}\n")
    with pytest.raises(ConfigurationError, match=r"invalid at 'gates\.mp\.e_hull_max'"):
        load_campaign_spec(bad)
    with pytest.raises(ConfigurationError, match="does not exist"):
        load_campaign_spec(tmp_path / "missing.yaml")


def _stage_names(name: str) -> list[str]:
    return [stage for stage, _ in load_campaign_spec(WORKFLOWS / f"{name}.yaml").stages()]


def test_kang_funnel_in_order() -> None:
    """No TM -> E_g >= 1 eV -> E_hull = 0 -> oxidation limit > 3.7 V -> unanimous GB and
    LightGBM over 100 runs -> AIMD."""
    spec = load_campaign_spec(WORKFLOWS / "kang.yaml")
    assert _stage_names("kang") == ["mp", "filters", "rank", "md"]
    assert spec.gates.mp.band_gap_min_ev == 1.0
    f = spec.filters
    assert f.no_transition_metals and f.e_hull_zero and f.oxidation_limit_min_v == 3.7
    assert f.e_hull_zero_tol_ev_per_atom <= 1e-6
    rank = spec.rank
    assert rank.train.model == "kang" and rank.train.model_settings["n_runs"] == 100
    assert rank.train.threshold_s_per_cm == 1e-4 and rank.representation == "magpie"
    assert rank.superionic_all_runs and rank.stage == "after_gates"


def test_mchaffie_funnel_in_order() -> None:
    """E_g > 1 eV -> classifier P >= 0.5 -> novelty filter (5 %)."""
    spec = load_campaign_spec(WORKFLOWS / "mchaffie2025.yaml")
    assert _stage_names("mchaffie2025") == ["mp", "rank"]
    assert spec.gates.mp.band_gap_min_ev == 1.0 and spec.gates.bvse is None
    assert spec.rank.p_min == 0.5 and spec.rank.novelty_filter
    assert spec.rank.train.threshold_s_per_cm == 1e-4


def test_laskowski_funnel_in_order() -> None:
    """Cluster selection -> E_hull <= 70 meV, E_g >= 1 eV -> BVSE E_a < 0.6 eV -> NEB."""
    spec = load_campaign_spec(WORKFLOWS / "laskowski2023.yaml")
    assert _stage_names("laskowski2023") == ["rank", "mp", "bvse", "neb"]
    assert spec.rank.clusters and spec.rank.train.model == "clusters"
    assert spec.rank.train.threshold_s_per_cm == 1e-5 and spec.rank.representation == "soap"
    assert spec.rank.representation_settings["scheme"] == "substituted-noli"  # CAN


def test_no_notes_and_unknown_keys_are_one_sentence(tmp_path: Path) -> None:
    for path in WORKFLOWS.glob("*.yaml"):
        assert "notes" not in path.read_text()
    for text, where in [
        ("name: x\nnotes: {a: 1}\n", "notes"),
        ("name: x\nfilters: {no_tm: true}\n", "filters.no_tm"),
        ("name: x\nrank: {model_path: m.skops, topn: 3}\n", "rank.topn"),
    ]:
        bad = tmp_path / "bad.yaml"
        bad.write_text(text)
        with pytest.raises(ConfigurationError) as err:
            load_campaign_spec(bad)
        message = str(err.value)
        assert f"invalid at '{where}': unknown key" in message
        assert message.endswith(".") and message.count(". ") == 0


def test_rank_needs_exactly_one_model(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nrank: {top_n: 3}\n")
    with pytest.raises(ConfigurationError, match="exactly one of 'model_path' and 'train'"):
        load_campaign_spec(bad)
    bad.write_text("name: x\nrank: {train: {model: ensemble}, superionic_all_runs: true}\n")
    with pytest.raises(ConfigurationError, match="needs the 'kang' model"):
        load_campaign_spec(bad)


def test_neb_ml_seed_reaches_the_qe_maker(tmp_path: Path) -> None:
    """``neb.ml_seed`` sets the QE NEB Maker's ML seed settings; unset fields keep theirs."""
    from sseflows.campaign.makers import CampaignMakers
    from sseflows.core.images import MlSeedSettings

    path = tmp_path / "seed.yaml"
    path.write_text(
        "name: x\nneb:\n  engine: qe\n  ml_seed:\n    fmax_ev_per_angstrom: 0.1\n"
        "    max_steps: 150\n    image_method: idpp\n"
    )
    spec = load_campaign_spec(path)
    assert spec.neb.ml_seed.max_steps == 150
    maker = CampaignMakers.from_spec(spec).neb
    assert maker.ml_seed == MlSeedSettings(
        fmax_ev_per_angstrom=0.1, max_steps=150, image_method="idpp"
    )
    path.write_text("name: x\nneb: {engine: qe}\n")
    assert CampaignMakers.from_spec(load_campaign_spec(path)).neb.ml_seed == MlSeedSettings()


def test_neb_ml_seed_keys_and_engine_are_checked(tmp_path: Path) -> None:
    """An unknown key in ``neb.ml_seed``, a bad value, or ``ml_seed`` with the chgnet
    engine: the loader's one-sentence error."""
    from sseflows.campaign.makers import CampaignMakers

    bad = tmp_path / "bad.yaml"
    for text, where, words in [
        ("name: x\nneb: {ml_seed: {fmax: 0.1}}\n", "neb.ml_seed.fmax", "unknown key"),
        ("name: x\nneb: {ml_seed: {image_method: ml}}\n", "neb.ml_seed.image_method", "Input"),
        ("name: x\nneb: {ml_seed: {max_steps: 0}}\n", "neb.ml_seed.max_steps", "greater"),
        ("name: x\nneb: {engine: chgnet, ml_seed: {max_steps: 9}}\n", "neb", "qe engine only"),
    ]:
        bad.write_text(text)
        with pytest.raises(ConfigurationError) as err:
            load_campaign_spec(bad)
        message = str(err.value)
        assert f"invalid at '{where}': " in message and words in message
        assert message.endswith(".") and message.count(". ") == 0
    bad.write_text("name: x\nneb: {engine: qe, ml_seed: {max_steps: 9}}\n")
    with pytest.raises(ConfigurationError, match="qe engine only"):
        CampaignMakers.from_spec(load_campaign_spec(bad), neb_engine="chgnet")
