"""What a compute node meets: the MP API configured but unreachable, a store or LaunchPad on
a closed port, and secrets that must never be printed, logged or stored.

Each scenario runs the real ``sseflows`` command in a subprocess (as a user would) with the
MP key set and ``MP_API_ENDPOINT`` / the store pointed at a closed local port (port 1), which
refuses connections at once, so nothing here needs or reaches the network.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from sseflows.campaign.results import query_tier_docs
from sseflows.stores import build_job_store
from tests.conftest import write_pool

MP_KEY = "mpkey-Zq8rT2vX9wY4uV7sP3nM"
PASSWORD = "pw-Lk5jH8gF2dS6aQ1w"
CLOSED = "127.0.0.1:1"


def _sseflows(args: list[str], home: Path, **env: str) -> subprocess.CompletedProcess:
    environ = {
        k: v for k, v in os.environ.items() if not k.startswith(("MP_", "PMG_", "SSEFLOWS_"))
    }
    environ |= {
        "HOME": str(home),
        "SSEFLOWS_CONFIG": str(home / ".sseflows.yaml"),
        "SSEFLOWS_SERVICE_TIMEOUT_S": "2",
        "OMP_NUM_THREADS": "1",
        **env,
    }
    command = [sys.executable, "-c", "from sseflows.cli import app; app()", *args]
    return subprocess.run(command, capture_output=True, text=True, env=environ, timeout=300)


@pytest.fixture()
def pool(tmp_path: Path) -> Path:
    return write_pool(tmp_path / "pool", ["Li2O", "LiCl"])


def _all_text(folder: Path) -> str:
    return "".join(p.read_text(errors="replace") for p in folder.rglob("*") if p.is_file())


def test_unreachable_mp_api_is_one_warning_and_candidates_go_on(pool: Path, tmp_path: Path):
    """Key set, API unreachable: exit 0, one warning line, each candidate ``unknown`` by the
    missing-data policy with the reason naming the unreachable API and no exception text;
    the key appears nowhere (output, JSON, stored documents)."""
    db, out = tmp_path / "db", tmp_path / "out.json"
    args = ["screen", str(pool), "--store", str(db), "--workers", "2", "--json", str(out)]
    run = _sseflows(args, tmp_path, MP_API_KEY=MP_KEY, MP_API_ENDPOINT=f"http://{CLOSED}/")
    assert run.returncode == 0, run.stderr
    both = run.stdout + run.stderr
    warnings = [line for line in both.splitlines() if "Materials Project API unreachable" in line]
    assert len(warnings) == 1, both  # asked once per run, warned once
    assert "Traceback" not in both and "ConnectionError" not in both
    records = {r["id"]: r for r in json.loads(out.read_text())}
    assert set(records) == {"Li2O", "LiCl"}
    assert all(r["e_hull_ev_per_atom"] is None for r in records.values())
    store = build_job_store(str(db))
    store.connect()
    mp_docs = {d["candidate_id"]: d for d in query_tier_docs(store, tier="mp")}
    assert set(mp_docs) == {"Li2O", "LiCl"}
    for doc in mp_docs.values():
        assert doc["status"] == "unknown"  # the missing-data policy, not a crash
        assert doc["reason"].startswith(
            "No Materials Project entry matched (Materials Project API unreachable); "
        )
        assert "Error" not in doc["reason"] and "Pool" not in doc["reason"]
    store.close()
    stored = _all_text(db)
    assert MP_KEY not in both + out.read_text() + stored


def test_mp_snapshot_still_answers_when_the_api_is_unreachable(tmp_path: Path):
    """The fallback order holds: what the snapshot knows is used, the rest is ``unknown``."""
    from sseflows.gates.mp.maker import MPGateMaker
    from sseflows.gates.mp.sources import UNREACHABLE, build_mp_source, live_api_problem
    from tests.conftest import DEMO_SNAPSHOT

    os.environ["MP_API_KEY"] = MP_KEY  # removed again by the autouse fixture
    os.environ["MP_API_ENDPOINT"] = f"http://{CLOSED}/"
    live_api_problem.cache_clear()
    source = build_mp_source(snapshot=str(DEMO_SNAPSHOT))
    assert source.name == "snapshot" and source.unavailable == [UNREACHABLE]
    assert source.by_formula("Li2O")[0].material_id == "mp-1960"
    assert MP_KEY not in repr(source.sources) and MP_KEY not in repr(MPGateMaker())
    live_api_problem.cache_clear()


def test_store_on_a_closed_port_is_a_configuration_error(pool: Path, tmp_path: Path):
    """A MongoDB URI with nothing listening: exit 2 within the service timeout, one sentence
    naming the host and the setting, never the password, no traceback."""
    uri = f"mongodb://alice:{PASSWORD}@{CLOSED}/sse"
    run = _sseflows(["screen", str(pool), "--store", uri, "--workers", "1"], tmp_path)
    assert run.returncode == 2, run.stdout + run.stderr
    lines = [line for line in run.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, run.stderr
    assert lines[0].startswith(f"Configuration error: The MongoDB store at {CLOSED} cannot be")
    assert "SSEFLOWS_DB" in lines[0]
    assert PASSWORD not in run.stdout + run.stderr and "Traceback" not in run.stderr


def test_launchpad_on_a_closed_port_is_a_configuration_error(pool: Path, tmp_path: Path):
    """``sseflows submit`` with a launchpad.yaml pointing at a closed port: exit 2, the host
    and the file named, never the password."""
    launchpad = tmp_path / "launchpad.yaml"
    launchpad.write_text(f"host: mongodb://bob:{PASSWORD}@{CLOSED}/fw\nname: fw\nuri_mode: true\n")
    run = _sseflows(
        ["submit", str(pool), "--launchpad", str(launchpad), "--store", "memory"], tmp_path
    )
    assert run.returncode == 2, run.stdout + run.stderr
    assert f"The FireWorks LaunchPad at {CLOSED} cannot be reached" in run.stderr
    assert str(launchpad) in run.stderr
    assert PASSWORD not in run.stdout + run.stderr and "Traceback" not in run.stderr
