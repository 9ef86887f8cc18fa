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


COMMAND_IMPORTS = (
    "sseflows.campaign",
    "sseflows.report",
    "sseflows.settings",
    "sseflows.core.errors",
)
"""What a command module may import from sseflows (a package and its modules): commands
parse, call one use case and print."""


def sseflows_imports(folder: str) -> dict[str, set[str]]:
    """``{file: sseflows modules it imports}`` for the modules of ``sseflows/<folder>/``,
    every import statement counted, those inside functions and ``TYPE_CHECKING`` too."""
    found: dict[str, set[str]] = defaultdict(set)
    for path in sorted((PACKAGE / folder).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                if node.level:  # relative: resolve against the file's package
                    parts = ("sseflows", *path.relative_to(PACKAGE).parent.parts)
                    base = ".".join(parts[: len(parts) - node.level + 1])
                    module = f"{base}.{node.module}" if node.module else base
                else:
                    module = node.module or ""
                if module == "sseflows":
                    found[path.name] |= {f"sseflows.{a.name}" for a in node.names}
                elif module.startswith("sseflows."):
                    found[path.name].add(module)
            elif isinstance(node, ast.Import):
                found[path.name] |= {
                    a.name for a in node.names if a.name.split(".")[0] == "sseflows"
                }
    return found


def _within(module: str, allowed: tuple[str, ...]) -> bool:
    return any(module == name or module.startswith(name + ".") for name in allowed)


def test_commands_import_only_campaign_report_settings_and_errors():
    found = sseflows_imports("commands")
    assert found["screen.py"]  # the scan sees the code
    for name, modules in found.items():
        bad = sorted(m for m in modules if not _within(m, COMMAND_IMPORTS))
        assert not bad, (name, bad)


def test_campaign_never_imports_commands():
    for name, modules in sseflows_imports("campaign").items():
        bad = sorted(m for m in modules if _within(m, ("sseflows.commands", "sseflows.cli")))
        assert not bad, (name, bad)
