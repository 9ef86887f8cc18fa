"""Concurrent workers and killed workers on the embedded (file-backed) LaunchPad.

Each step runs in its own process, as on a cluster: FireWorks reads
``MONGOMOCK_SERVERSTORE_FILE`` when first imported, and what a step sees of the LaunchPad
is what the file holds. Nothing here sleeps to wait: every wait polls with a deadline.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="uses process groups")

ADD = """
import json, sys
from fireworks import Firework, ScriptTask, Workflow
from sseflows.campaign.fireworks import load_launchpad

lp = load_launchpad()
for spec in json.loads(sys.argv[1]):
    parents = []
    for name, script, priority in spec:
        fw = Firework(ScriptTask.from_str(script), name=name, spec={"_priority": priority},
                      parents=parents[-1:])
        parents.append(fw)
    lp.add_wf(Workflow(parents))
"""

STATES = """
import json
from sseflows.campaign.fireworks import load_launchpad

lp = load_launchpad()
fws = {fw["name"]: fw for fw in lp.fireworks.find({}, {"name": 1, "state": 1, "launches": 1,
                                                       "archived_launches": 1})}
launches = {l["launch_id"]: l for l in lp.launches.find({}, {"launch_id": 1, "fworker": 1})}
print(json.dumps({
    name: {
        "state": fw["state"],
        "launches": len(fw.get("launches", [])),
        "archived": len(fw.get("archived_launches", [])),
        "pids": [launches[i]["fworker"]["env"]["sseflows_worker"]["pid"]
                 for i in fw.get("launches", [])],
    }
    for name, fw in fws.items()
}))
"""


def _env(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ, MONGOMOCK_SERVERSTORE_FILE=str(tmp_path / "fw.json"))
    env["SSEFLOWS_CONFIG"] = str(tmp_path / "none.yaml")
    env["OMP_NUM_THREADS"] = "1"
    return env


def _python(tmp_path: Path, *args: str, timeout: float = 300) -> str:
    run = subprocess.run(
        [sys.executable, *args],
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=timeout,
    )
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-3000:]
    return run.stdout


def _sseflows(tmp_path: Path, *args: str, timeout: float = 300) -> str:
    return _python(tmp_path, "-c", "from sseflows.cli import app; app()", *args, timeout=timeout)


def _add(tmp_path: Path, workflows: list[list[tuple[str, str, int]]]) -> None:
    _python(tmp_path, "-c", ADD, json.dumps(workflows))


def _states(tmp_path: Path) -> dict[str, dict]:
    """The LaunchPad as a new process reads it from the file."""
    return json.loads(_python(tmp_path, "-c", STATES).strip().splitlines()[-1])


def _wait_for(condition, what: str, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(0.2)


def _lines(path: Path) -> list[str]:
    return path.read_text().split() if path.is_file() else []


def test_two_worker_processes_run_each_firework_once_and_save_every_state(
    tmp_path: Path,
) -> None:
    """``sseflows worker --processes 2``: six Fireworks, each run exactly once, both workers
    busy at the same time, and a new process reads every state back as COMPLETED."""
    runs, pids = tmp_path / "runs.txt", tmp_path / "pids.txt"
    # Each task notes its worker (the shell's parent) and waits, up to 120 s, until both
    # workers have started a task: the run is concurrent by construction, not by timing.
    script = (
        f"echo {{i}} >> {runs}; echo $PPID >> {pids}; n=0; "
        f'until [ "$(sort -u {pids} | wc -l)" -ge 2 ] || [ $n -ge 600 ]; '
        "do sleep 0.2; n=$((n+1)); done; sleep 1"
    )
    _add(tmp_path, [[(f"s{i}", script.format(i=i), 0)] for i in range(6)])
    assert {s["state"] for s in _states(tmp_path).values()} == {"READY"}

    _sseflows(
        tmp_path, "worker", "--processes", "2", "--launch-dir", str(tmp_path / "l"), "--sleep", "1"
    )

    states = _states(tmp_path)
    assert sorted(states) == [f"s{i}" for i in range(6)]
    assert {name: s["state"] for name, s in states.items()} == {
        f"s{i}": "COMPLETED" for i in range(6)
    }
    assert all(s["launches"] == 1 and s["archived"] == 0 for s in states.values())
    assert sorted(_lines(runs)) == [str(i) for i in range(6)]  # each ran exactly once
    workers = {s["pids"][0] for s in states.values()}
    assert len(workers) == 2 and {int(p) for p in _lines(pids)} == workers
    # a rerun finds nothing to do
    _sseflows(tmp_path, "worker", "--launch-dir", str(tmp_path / "l2"), "--sleep", "1")
    assert len(_lines(runs)) == 6


def test_a_killed_worker_is_recovered_without_recomputing_completed_work(
    tmp_path: Path,
) -> None:
    """SIGKILL a worker in the middle of a Firework, ``sseflows worker --recover``: the
    killed Firework and its child run again, the completed ones are not rerun."""
    counter = {name: tmp_path / f"{name}.runs" for name in ("a", "b", "slow", "after")}
    started = counter["slow"]
    quick = "echo x >> {path}"
    # the first run of "slow" blocks (up to 10 min, killed long before); a rerun is quick
    slow = f'echo x >> {started}; if [ "$(wc -l < {started})" -lt 2 ]; then sleep 600; fi'
    _add(
        tmp_path,
        [
            [("a", quick.format(path=counter["a"]), 10)],
            [("b", quick.format(path=counter["b"]), 10)],
            [("slow", slow, 1), ("after", quick.format(path=counter["after"]), 1)],
        ],
    )
    command = [sys.executable, "-c", "from sseflows.cli import app; app()", "worker"]
    command += ["--launch-dir", str(tmp_path / "l1"), "--sleep", "1"]
    worker = subprocess.Popen(
        command,
        env=_env(tmp_path),
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # the worker and its `sleep`, killed together like a node
    )
    try:
        _wait_for(lambda: started.is_file(), "the slow Firework to start", timeout=240)
    finally:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=60)

    before = _states(tmp_path)
    assert before["a"]["state"] == before["b"]["state"] == "COMPLETED"
    assert before["slow"]["state"] == "RUNNING"  # what the dead worker left behind
    assert before["after"]["state"] == "WAITING"

    out = _sseflows(tmp_path, "worker", "--recover", "--launch-dir", str(tmp_path / "l2"))
    assert "recovered 1 lost Firework(s) to rerun" in out

    after = _states(tmp_path)
    assert {name: s["state"] for name, s in after.items()} == dict.fromkeys(
        ("a", "b", "slow", "after"), "COMPLETED"
    )
    assert Counter({name: len(_lines(path)) for name, path in counter.items()}) == Counter(
        {"a": 1, "b": 1, "slow": 2, "after": 1}
    )
    assert after["a"]["launches"] == after["b"]["launches"] == 1
    assert after["slow"]["archived"] == 1 and after["slow"]["launches"] == 1
    # nothing is lost on a second recovery: no run is found lost, nothing reruns
    out = _sseflows(tmp_path, "worker", "--recover-only")
    assert "recovered 0 lost Firework(s)" in out
