"""Overriding any Maker default from a plain mapping (a YAML file or a campaign spec).

``apply_overrides(QeNebFlowMaker(), {"min_length": 12, "neb_maker": {"path": {"n_images": 7},
"generator": {"ecutwfc": 60, "user_input": {"electrons": {"mixing_beta": 0.3}}}}})`` returns
a new Maker; nested dataclasses (Makers, generators, path settings) are updated field by
field, and ``None`` for a nested Maker switches that step off. Unknown keys are a
:class:`ConfigurationError` that names them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import yaml

from sseflows.core.errors import ConfigurationError

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

T = TypeVar("T", bound="DataclassInstance")


def apply_overrides(obj: T, overrides: Mapping[str, Any], where: str = "") -> T:
    """Copy of dataclass ``obj`` with ``overrides`` applied recursively."""
    if not dataclasses.is_dataclass(obj):
        raise ConfigurationError(f"Cannot apply overrides to {type(obj).__name__} at '{where}'.")
    names = {f.name for f in dataclasses.fields(obj)}
    unknown = sorted(set(overrides) - names)
    if unknown:
        raise ConfigurationError(
            f"Unknown settings {unknown} for {type(obj).__name__}"
            + (f" at '{where}'" if where else "")
            + f"; known ones are {sorted(names)}."
        )
    changes: dict[str, Any] = {}
    for key, value in overrides.items():
        current = getattr(obj, key)
        is_instance = dataclasses.is_dataclass(current) and not isinstance(current, type)
        if is_instance and isinstance(value, Mapping):
            changes[key] = apply_overrides(current, value, f"{where}.{key}".lstrip("."))
        elif isinstance(current, tuple) and isinstance(value, list):
            changes[key] = tuple(value)
        else:
            changes[key] = value
    return dataclasses.replace(obj, **changes)


def load_overrides(path: str | Path) -> dict[str, Any]:
    """A YAML mapping of overrides."""
    path = Path(path)
    try:
        loaded = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigurationError(f"Cannot read settings file {path}: {exc}.") from exc
    if not isinstance(loaded, dict):
        raise ConfigurationError(f"Settings file {path} must hold a mapping.")
    return loaded
