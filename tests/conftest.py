"""Fixtures shared by the whole suite.

Data from ``../shared`` is read in place; tests that need it skip with a clear message when
the folder is absent.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
DEMO_SNAPSHOT = REPO / "sseflows" / "campaign" / "demo_inputs" / "mp_snapshot_demo.json"
"""The offline MP snapshot the demo ships with (package data)."""


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """``../shared`` beside the repository, or skip."""
    if not SHARED.is_dir():
        pytest.skip(f"shared data folder {SHARED} is absent")
    return SHARED


@pytest.fixture(scope="session")
def obelix_dir(shared_dir: Path) -> Path:
    """OBELiX training split (train.csv + cifs/)."""
    path = shared_dir / "data" / "obelix"
    if not path.is_dir():
        pytest.skip(f"OBELiX data {path} is absent")
    return path


@pytest.fixture(scope="session")
def pseudo_dir(shared_dir: Path) -> Path:
    """pslibrary 1.0.0 PAW pseudopotentials."""
    path = shared_dir / "pseudos" / "pslibrary-1.0.0"
    if not path.is_dir():
        pytest.skip(f"pseudopotential folder {path} is absent")
    return path


@pytest.fixture(scope="session")
def qe_fixtures(shared_dir: Path) -> Path:
    """Real pw.x outputs for Li3ErBr6."""
    path = shared_dir / "fixtures" / "qe" / "li3erbr6"
    if not path.is_dir():
        pytest.skip(f"QE fixtures {path} are absent")
    return path


def write_pool(folder: Path, names: list[str]) -> Path:
    """``folder`` with one CIF per name: a sseflows prototype, else a structure that ships
    with pymatgen (``Li2O``, ``LiFePO4``, ...)."""
    from pymatgen.io.cif import CifWriter

    from sseflows.data.prototypes import PROTOTYPES, pymatgen_structure

    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        structure = PROTOTYPES[name]() if name in PROTOTYPES else pymatgen_structure(name)
        CifWriter(structure).write_file(folder / f"{name}.cif")
    return folder


def require_executable(name: str) -> str:
    """Path of executable ``name`` or skip the test."""
    found = shutil.which(name)
    if not found:
        pytest.skip(f"{name} is not installed (make install puts Quantum ESPRESSO there)")
    return found


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """Keep tests away from the user's ~/.sseflows.yaml, store and MP key."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("SSEFLOWS_CONFIG", str(home / ".sseflows.yaml"))
    for var in ("MP_API_KEY", "PMG_MAPI_KEY", "SSEFLOWS_DB", "SSEFLOWS_MP_SNAPSHOT"):
        monkeypatch.delenv(var, raising=False)


BUILD_LEFTOVERS = ("__pycache__/", ".pytest_cache/", ".ruff_cache/", ".egg-info/", ".venv/")
"""Entries a test run may add to the repository (Python's and the tools' own caches)."""


def repository_entries() -> set[str] | None:
    """``git status`` entries (modified, untracked and ignored) of the repository, or None
    when it is no git checkout."""
    try:
        out = subprocess.run(
            ["git", "status", "--porcelain", "--ignored"],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return {line for line in out.splitlines() if not line.endswith(BUILD_LEFTOVERS)}


def pytest_sessionstart(session: pytest.Session) -> None:
    """Remember what the repository holds before the tests run."""
    session.config.stash[_ENTRIES_BEFORE] = repository_entries()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the run when the tests left files in the repository (tests write to tmp_path)."""
    before = session.config.stash.get(_ENTRIES_BEFORE, None)
    after = repository_entries()
    if before is None or after is None:
        return
    left = sorted(after - before)
    if left:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        message = f"the test run left files in the repository: {', '.join(left)}"
        if reporter is not None:
            reporter.write_line(f"ERROR: {message}", red=True, bold=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


_ENTRIES_BEFORE = pytest.StashKey[set | None]()
