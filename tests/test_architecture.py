"""The one-way import rule of ARCHITECTURE.md, checked on the code itself."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "sseflows"
TIERS = {"gates", "qe", "forcefields", "md"}
ALLOWED = {
    "core": set(),
    "settings": {"core"},
    "stores": {"core", "settings"},
    "data": {"core", "settings", "stores"},
    **{tier: {"core", "settings", "stores"} for tier in TIERS},
    "rank": {"core", "data", "settings", "stores"},
    "flows": {"core", "data", "settings", "stores", "rank", *TIERS},
}
"""What each layer may import (packages of sseflows); layers above flows are unrestricted
in this test but never imported from below."""


def imports_by_package() -> dict[str, set[str]]:
    """``{package: sseflows packages it imports}`` from the source's ``from`` imports."""
    found: dict[str, set[str]] = defaultdict(set)
    for path in PACKAGE.rglob("*.py"):
        source = path.relative_to(PACKAGE).parts[0].removesuffix(".py")
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sseflows."):
                target = node.module.split(".")[1]
                if target != source:
                    found[source].add(target)
    return found


def test_layers_import_only_downwards():
    graph = imports_by_package()
    assert graph["gates"] and graph["campaign"]  # the scan sees the code
    for package, allowed in ALLOWED.items():
        assert graph.get(package, set()) <= allowed, (package, graph.get(package))


def test_no_tier_imports_another_tier():
    graph = imports_by_package()
    for tier in TIERS:
        assert not graph.get(tier, set()) & (TIERS - {tier}), (tier, graph[tier])
