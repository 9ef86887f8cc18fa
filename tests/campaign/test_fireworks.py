"""A real FireWorks LaunchPad, embedded (mongomock-persistence file), runs sseflows flows.

FireWorks reads ``MONGOMOCK_SERVERSTORE_FILE`` when it is first imported, so each scenario
runs in a fresh Python process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import DEMO_SNAPSHOT, write_pool

SCRIPT = """
import json, sys
from jobflow import Flow
from sseflows.campaign.fireworks import load_launchpad, submit_flows, launch_local_worker
from sseflows.campaign.results import query_tier_docs
from sseflows.flows.failures import record_input_failure
from sseflows.stores import build_job_store

db, launch_dir = sys.argv[1], sys.argv[2]
lp = load_launchpad()
lp.reset("", require_password=False)
store = build_job_store(db)
flows = [(f"c{i}", Flow([record_input_failure(f"c{i}", f"c{i}.cif", f"reason {i}")]))
         for i in range(3)]
ids = submit_flows(flows, lp, store=store)
launch_local_worker(lp, launch_dir=launch_dir)
store.connect()
docs = query_tier_docs(store, tier="input")
states = sorted({fw["state"] for fw in lp.fireworks.find({}, {"state": 1})})
print(json.dumps({"ids": ids, "docs": sorted(d["candidate_id"] for d in docs), "states": states}))
"""


def test_embedded_launchpad_runs_submitted_flows(tmp_path: Path) -> None:
    env = dict(os.environ, MONGOMOCK_SERVERSTORE_FILE=str(tmp_path / "fw.json"))
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path / "db"), str(tmp_path / "launches")],
        env=env,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert sorted(result["ids"]) == ["c0", "c1", "c2"]
    assert all(len(fw_ids) == 1 for fw_ids in result["ids"].values())
    assert result["docs"] == ["c0", "c1", "c2"]
    assert result["states"] == ["COMPLETED"]
    assert (tmp_path / "fw.json").is_file()


SCREEN_SCRIPT = """
import json, sys
from sseflows.campaign.fireworks import load_launchpad, submit_flows, launch_local_worker
from sseflows.campaign.results import query_tier_docs
from sseflows.core.candidate import Candidate
from sseflows.data.prototypes import pymatgen_structure
from sseflows.flows.screening import ScreeningFlowMaker
from sseflows.gates.bvse.maker import BVSEGateMaker
from sseflows.gates.mp.maker import MPGateMaker
from sseflows.stores import build_job_store


db, launch_dir, snapshot = sys.argv[1:4]
lp = load_launchpad()
lp.reset("", require_password=False)
store = build_job_store(db)
maker = ScreeningFlowMaker(mp_gate=MPGateMaker(snapshot=snapshot, use_live=False),
                           bvse_gate=BVSEGateMaker(timeout_s=0, compute_path=False))
li2o = pymatgen_structure("Li2O")
flows = [
    ("good", maker.make(Candidate.from_structure(li2o, "good"))),
    ("unstable", maker.make(Candidate.from_structure(li2o, "unstable", e_hull_ev_per_atom=0.3,
                                                     band_gap_ev=5.0))),
]
submit_flows(flows, lp, store=store)
launch_local_worker(lp, launch_dir=launch_dir)
store.connect()
states = {fw["name"]: fw["state"] for fw in lp.fireworks.find({}, {"name": 1, "state": 1})}
docs = {f"{d['candidate_id']}/{d['tier']}": d["status"] for d in query_tier_docs(store)}
print(json.dumps({"states": states, "docs": docs}))
"""


def test_gate_drop_defuses_later_fireworks(tmp_path: Path) -> None:
    """Under FireWorks, stop_children of a dropped MP gate defuses that candidate's BVSE."""
    snapshot = DEMO_SNAPSHOT
    env = dict(os.environ, MONGOMOCK_SERVERSTORE_FILE=str(tmp_path / "fw.json"))
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            SCREEN_SCRIPT,
            str(tmp_path / "db"),
            str(tmp_path / "l"),
            str(snapshot),
        ],
        env=env,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=600,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["docs"] == {"good/mp": "passed", "good/bvse": "passed", "unstable/mp": "dropped"}
    assert result["states"]["mp gate unstable"] == "COMPLETED"
    assert result["states"]["bvse gate unstable"] == "DEFUSED"
    assert result["states"]["bvse gate good"] == "COMPLETED"


def test_screen_reuses_what_a_fireworks_worker_computed(tmp_path: Path) -> None:
    """``sseflows submit`` plans with the same result keys as ``sseflows screen``: after a
    worker ran the submitted workflows, ``screen`` with the same settings recomputes
    nothing, and a second ``submit`` submits nothing."""
    pool = write_pool(tmp_path / "pool", ["Li2O", "LiCl"])
    (pool / "broken.cif").write_text("data_x\nnot a cif\n")
    env = dict(os.environ, MONGOMOCK_SERVERSTORE_FILE=str(tmp_path / "fw.json"))
    env["SSEFLOWS_CONFIG"] = str(tmp_path / "none.yaml")
    common = ["--store", str(tmp_path / "db"), "--mp-snapshot", str(DEMO_SNAPSHOT)]

    def sseflows(*args: str) -> str:
        command = [sys.executable, "-c", "from sseflows.cli import app; app()", *args]
        run = subprocess.run(
            command, env=env, capture_output=True, text=True, cwd=tmp_path, timeout=600
        )
        assert run.returncode == 0, run.stdout + run.stderr[-3000:]
        return run.stdout

    assert "submitted 3 workflow(s)" in sseflows("submit", str(pool), *common)
    sseflows("worker", "--launch-dir", str(tmp_path / "launches"))
    screened = sseflows("screen", str(pool), *common, "--workers", "1")
    assert "reused stored results for 3 candidate(s)" in screened
    again = sseflows("submit", str(pool), *common)
    assert "3 candidate(s) already have stored results" in again
    assert "submitted 0 workflow(s)" in again
