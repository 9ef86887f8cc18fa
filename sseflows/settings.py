"""The one place that reads configuration.

Precedence, lowest first: built-in defaults, the YAML file ``~/.sseflows.yaml`` (or the
file named by ``SSEFLOWS_CONFIG``), environment variables, then explicit overrides passed
to :func:`load_settings`. Settings are read when :func:`load_settings` is called, never at
import time, so tests and CLI flags can change them.

Environment variables: ``SSEFLOWS_DB`` (store spec), ``MP_API_KEY``,
``SSEFLOWS_MP_SNAPSHOT``, ``SSEFLOWS_PSEUDO_DIR`` or ``ESPRESSO_PSEUDO``,
``SSEFLOWS_QE_LAUNCHER`` (e.g. ``"mpirun -np 4"``), ``SSEFLOWS_PW_CMD``,
``SSEFLOWS_NEB_CMD``, ``SSEFLOWS_WORKERS``, ``SSEFLOWS_BVSE_TIMEOUT_S``, ``MP_API_ENDPOINT``,
``SSEFLOWS_SERVICE_TIMEOUT_S``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import yaml

from sseflows.core.errors import ConfigurationError


def default_db_path() -> str:
    """Default persistent store folder: ``~/.sseflows/db``."""
    return str(Path.home() / ".sseflows" / "db")


def default_descriptor_cache() -> str:
    """Default folder of the ranking descriptor cache: ``~/.sseflows/descriptor-cache``."""
    return str(Path.home() / ".sseflows" / "descriptor-cache")


@dataclass(frozen=True)
class Settings:
    """Configuration of one sseflows process: site facts only (executables, launcher,
    stores, services, time limits). Science (gate thresholds, protocol settings) lives on
    the Makers' fields and reaches them from campaign specs and CLI flags.

    Attributes:
        db: Store spec: a folder (persistent MontyStore), ``memory``, or a ``mongodb://`` URI.
        mp_api_key: Materials Project API key; the live API is used only when set. Never
            printed, logged or stored.
        mp_api_endpoint: Materials Project API address (mp-api's ``MP_API_ENDPOINT``).
        service_timeout_s: How long to wait for a network service (the MP API, a MongoDB
            store or LaunchPad) before calling it unreachable, s.
        mp_snapshot: Store spec or JSON file holding MP summary documents for offline runs.
        pseudo_dir: Folder with pseudopotential files for Quantum ESPRESSO.
        qe_launcher: Prefix for pw.x/neb.x, e.g. ``"mpirun -np 4"`` or ``"srun"``.
        pw_cmd: pw.x executable.
        neb_cmd: neb.x executable.
        workers: Processes for per-candidate parallel work (0 = all cores).
        bvse_timeout_s: Wall-time limit per structure in the BVSE gate, s.
        descriptor_cache: Folder caching ranking descriptors (one file per structure and
            representation settings); empty disables the cache.
    """

    db: str = field(default_factory=default_db_path)
    mp_api_key: str | None = field(default=None, repr=False)
    mp_api_endpoint: str = "https://api.materialsproject.org/"
    service_timeout_s: float = 5.0
    mp_snapshot: str | None = None
    pseudo_dir: str | None = None
    qe_launcher: str = ""
    pw_cmd: str = "pw.x"
    neb_cmd: str = "neb.x"
    workers: int = 0
    bvse_timeout_s: float = 120.0
    descriptor_cache: str = field(default_factory=default_descriptor_cache)

    @property
    def n_workers(self) -> int:
        """Number of worker processes to use (``workers``, or all cores when 0)."""
        return self.workers if self.workers > 0 else (os.cpu_count() or 1)


_ENV = {
    "SSEFLOWS_DB": "db",
    "MP_API_KEY": "mp_api_key",
    "PMG_MAPI_KEY": "mp_api_key",
    "MP_API_ENDPOINT": "mp_api_endpoint",
    "SSEFLOWS_SERVICE_TIMEOUT_S": "service_timeout_s",
    "SSEFLOWS_MP_SNAPSHOT": "mp_snapshot",
    "ESPRESSO_PSEUDO": "pseudo_dir",
    "SSEFLOWS_PSEUDO_DIR": "pseudo_dir",
    "SSEFLOWS_QE_LAUNCHER": "qe_launcher",
    "SSEFLOWS_PW_CMD": "pw_cmd",
    "SSEFLOWS_NEB_CMD": "neb_cmd",
    "SSEFLOWS_WORKERS": "workers",
    "SSEFLOWS_BVSE_TIMEOUT_S": "bvse_timeout_s",
    "SSEFLOWS_DESCRIPTOR_CACHE": "descriptor_cache",
}


def _config_file() -> Path:
    return Path(os.environ.get("SSEFLOWS_CONFIG", Path.home() / ".sseflows.yaml"))


def _coerce(name: str, value: Any) -> Any:
    kind = {f.name: f.type for f in fields(Settings)}[name]
    try:
        if kind in ("int",):
            return int(value)
        if kind in ("float",):
            return float(value)
    except (TypeError, ValueError) as exc:
        raise ConfigurationError(f"Setting '{name}' must be a number, got {value!r}.") from exc
    return None if value in ("", None) and kind.endswith("None") else value


def load_settings(**overrides: Any) -> Settings:
    """Read settings now: defaults < YAML file < environment < ``overrides`` (None ignored)."""
    values: dict[str, Any] = {}
    path = _config_file()
    if path.is_file():
        try:
            loaded = yaml.safe_load(path.read_text()) or {}
        except yaml.YAMLError as exc:
            raise ConfigurationError(f"Config file {path} is not valid YAML: {exc}.") from exc
        if not isinstance(loaded, dict):
            raise ConfigurationError(f"Config file {path} must hold a mapping of settings.")
        known = {f.name for f in fields(Settings)}
        unknown = set(loaded) - known
        if unknown:
            raise ConfigurationError(
                f"Config file {path} has unknown settings {sorted(unknown)}; "
                f"known ones are {sorted(known)} (gate thresholds belong in a campaign "
                "spec or on the command line)."
            )
        values.update(loaded)
    for env, name in _ENV.items():
        if os.environ.get(env):
            values[name] = os.environ[env]
    values.update({k: v for k, v in overrides.items() if v is not None})
    coerced = {name: _coerce(name, value) for name, value in values.items()}
    return replace(Settings(), **coerced)
