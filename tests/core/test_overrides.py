"""Overriding Maker defaults from YAML / mappings, and the shipped pseudo-map YAML files."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from sseflows.core.errors import ConfigurationError
from sseflows.core.overrides import apply_overrides, load_overrides
from sseflows.qe.flows import QeNebFlowMaker
from sseflows.qe.pseudos import FAMILIES, pseudo_map

REPO = Path(__file__).resolve().parents[2]


def test_yaml_overrides_reach_nested_fields(tmp_path):
    path = tmp_path / "qe.yaml"
    path.write_text(
        "min_length: 12\nconvergence_maker: null\n"
        "neb_maker:\n  path: {n_images: 7, k_max: 0.5}\n"
        "  generator: {ecutwfc: 60, user_input: {electrons: {mixing_beta: 0.3}}}\n"
        "endpoint_relax_maker: {generator: {forc_conv_thr_ev_per_ang: 0.001}}\n"
    )
    maker = apply_overrides(QeNebFlowMaker(), load_overrides(path))
    assert maker.min_length == 12 and maker.convergence_maker is None
    assert maker.neb_maker.path.n_images == 7 and maker.neb_maker.path.k_max == 0.5
    assert maker.neb_maker.path.path_thr_ev_per_ang == 0.05  # untouched default
    assert maker.neb_maker.generator.user_input["electrons"]["mixing_beta"] == 0.3
    assert maker.endpoint_relax_maker.generator.forc_conv_thr_ev_per_ang == 0.001
    assert QeNebFlowMaker().min_length == 10.0  # defaults not mutated


def test_unknown_key_is_named():
    with pytest.raises(ConfigurationError, match=r"n_imgs.*neb_maker\.path"):
        apply_overrides(QeNebFlowMaker(), {"neb_maker": {"path": {"n_imgs": 3}}})


def test_shipped_pseudo_yaml_matches_builtin_maps():
    for family, name in (
        ("pslibrary-1.0.0", "pslibrary_1.0.0.yaml"),
        ("sssp-efficiency-1.3", "sssp_efficiency_1.3.yaml"),
    ):
        path = REPO / "inputs" / "pseudos" / name
        assert yaml.safe_load(path.read_text()) == dict(FAMILIES[family])
        assert pseudo_map(path) == pseudo_map(family)


def test_pslibrary_map_covers_the_shared_folder(pseudo_dir):
    """Every UPF file in ../shared/pseudos/pslibrary-1.0.0 is the map's file for its element."""
    files = {p.name for p in pseudo_dir.glob("*.UPF")}
    mapped = set(pseudo_map("pslibrary-1.0.0").values())
    assert files <= mapped and len(files) == 32
