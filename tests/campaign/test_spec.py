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
    assert spec.gates.mp.e_hull_max_ev_per_atom == 0.0
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
