"""Settings precedence: defaults < YAML < environment < explicit overrides."""

from __future__ import annotations

from pathlib import Path

import pytest

from sseflows.core.errors import ConfigurationError
from sseflows.settings import load_settings


def test_defaults_point_at_home_store() -> None:
    settings = load_settings()
    assert settings.db == str(Path.home() / ".sseflows" / "db")
    assert settings.mp_api_key is None
    # science is not a site setting: thresholds live on the gate Makers only
    assert not hasattr(settings, "e_hull_max_ev_per_atom")
    assert not hasattr(settings, "bvse_ea_max_ev")


def test_yaml_then_env_then_overrides(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = tmp_path / "conf.yaml"
    config.write_text("db: /from/yaml\nworkers: 3\nbvse_timeout_s: 30\n")
    monkeypatch.setenv("SSEFLOWS_CONFIG", str(config))
    assert load_settings().db == "/from/yaml"
    assert load_settings().workers == 3
    assert load_settings().bvse_timeout_s == 30.0
    monkeypatch.setenv("SSEFLOWS_DB", "memory")
    monkeypatch.setenv("ESPRESSO_PSEUDO", "/pseudos")
    assert load_settings().db == "memory"
    assert load_settings().pseudo_dir == "/pseudos"
    assert load_settings(db="mongodb://h/db", workers=None).db == "mongodb://h/db"


def test_bad_yaml_and_unknown_keys_fail_in_one_sentence(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = tmp_path / "conf.yaml"
    monkeypatch.setenv("SSEFLOWS_CONFIG", str(config))
    config.write_text("db: [unclosed\n")
    with pytest.raises(ConfigurationError, match="not valid YAML"):
        load_settings()
    config.write_text("dbb: x\n")
    with pytest.raises(ConfigurationError, match=r"unknown settings \['dbb'\]"):
        load_settings()
    config.write_text("workers: many\n")
    with pytest.raises(ConfigurationError, match="'workers' must be a number"):
        load_settings()
