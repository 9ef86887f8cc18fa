"""The learning loop as jobs: the loop flow run by jobflow equals the local loop round for
round, and on the embedded LaunchPad two concurrent workers drive it alone (rank → gates →
selection → CHGNet NEB → labels → a second round ranked by the refit model)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from jobflow import run_locally

from sseflows.campaign.campaign_flow import CampaignFlowSettings, build_campaign_flow
from sseflows.campaign.loop import list_rounds, open_rounds_store, run_loop
from sseflows.campaign.makers import CampaignMakers
from sseflows.campaign.spec import load_campaign_spec
from sseflows.data.label_store import open_label_store
from sseflows.data.readers import read_candidates
from sseflows.stores import build_job_store
from tests.campaign.test_campaign_loop import POOL, FakeMDMaker, _spec
from tests.conftest import DEMO_SNAPSHOT, write_pool
from tests.rank.conftest import toy_labels

REPO = Path(__file__).resolve().parents[2]
SIGMA = {"LiF": 1e-1, "Li3N": 1e-3}
"""σ_RT (S/cm) the fake MD tier returns; LiF is a hit (≥ 1e-4 S/cm), the rest are not."""

VOLATILE = ("created_at", "model", "results")
"""Round fields that differ between two runs by construction (times, model file paths,
job uuids); :func:`comparable` keeps what must agree from them."""


def comparable(doc: dict[str, Any]) -> dict[str, Any]:
    """A stored round without what differs between two stores (times, paths, job uuids)."""
    model = doc["model"]
    same = {k: v for k, v in doc.items() if k not in VOLATILE and k != "_id"}
    same["model"] = {k: model[k] for k in ("version", "labels_hash", "label_ids", "n_rows",
                                           "computed_label_ids")}  # fmt: skip
    same["results"] = {
        tier: [{k: v for k, v in row.items() if k != "job_uuid"} for row in rows]
        for tier, rows in doc["results"].items()
    }
    same["picks"] = [
        {k: (round(v, 9) if isinstance(v, float) else v) for k, v in pick.items()}
        for pick in doc["picks"]
    ]
    return same


def _makers(spec_path: Path) -> tuple[Any, CampaignMakers]:
    spec = load_campaign_spec(spec_path)
    makers = CampaignMakers.from_spec(spec, snapshot=str(DEMO_SNAPSHOT))
    makers.md = FakeMDMaker(sigma=SIGMA)
    makers.md_top_k, makers.md_ranker = 5, "lowest_e_hull"
    return spec, makers


def _local_loop(
    tmp_path: Path, spec: Any, makers: CampaignMakers, pool_dir: Path
) -> list[dict[str, Any]]:
    """The stored rounds of the local loop of ``spec`` with ``makers`` on ``pool_dir``."""
    db = str(tmp_path / "local-db")
    store = build_job_store(db)
    store.connect()
    rounds_store = open_rounds_store(db)
    rounds_store.connect()
    with open_label_store(db) as labels:
        labels.add(toy_labels())
        assert spec.loop is not None
        run_loop(
            makers, spec.loop, read_candidates([pool_dir]), store, labels, rounds_store,
            spec.name, models_dir=tmp_path / "local-models",
        )  # fmt: skip
    rounds_store.close()
    store.close()
    return list_rounds(spec.name, db)


def test_the_loop_flow_run_by_jobflow_equals_the_local_loop(tmp_path: Path, monkeypatch) -> None:
    """Three rounds as jobs (round job → gates → selection → MD → close round → next
    round job): the same picks, scores, model versions, labels, hits and stop reason as
    :func:`run_loop`; round 2 ranks with a model refit on round 1's MD labels."""
    spec_path = _spec(tmp_path / "spec", "{rounds: 3, batch_size: 2}")
    pool_dir = write_pool(tmp_path / "pool", POOL)
    local = _local_loop(tmp_path, *_makers(spec_path), pool_dir)
    assert [d["round"] for d in local] == [1, 2, 3]

    monkeypatch.chdir(tmp_path)
    spec, makers = _makers(spec_path)
    db = str(tmp_path / "flow-db")
    with open_label_store(db) as labels:
        labels.add(toy_labels())
    store = build_job_store(db)
    store.connect()
    settings = CampaignFlowSettings.from_makers(
        spec.name, makers, label_store=db, loop=spec.loop, models_dir=tmp_path / "flow-models"
    )
    built = build_campaign_flow(settings, read_candidates([pool_dir]), store)
    run_locally(built.flow, store=store, ensure_success=True)
    flow = list_rounds(spec.name, db)

    assert [comparable(d) for d in flow] == [comparable(d) for d in local]
    first, second, _ = flow
    assert first["labels"] and set(first["labels"]) <= set(second["model"]["computed_label_ids"])
    assert second["model"]["version"] != first["model"]["version"]  # refit on new labels
    assert flow[-1]["stop_reason"] == "3 round(s) are done."
    picked = [p["candidate_id"] for d in flow for p in d["picks"]]
    assert len(picked) == len(set(picked)) == 6  # nothing picked twice
    assert {"LiF"} <= {h for d in flow for h in d["hits"]}
    # the stop job ran as a job of its own and said why
    (stop,) = store.docs_store.query(
        {"output.campaign_stage": "round", "output.stop_reason": {"$exists": True}}
    )
    assert stop["output"]["stop_reason"] == "3 round(s) are done."
    store.close()


SETUP = """
from dataclasses import replace
from sseflows.campaign.makers import CampaignMakers
from sseflows.campaign.neb import neb_maker
from sseflows.campaign.spec import load_campaign_spec
from tests.campaign.test_campaign_loop import FakeMDMaker


def loop_makers(spec_path, snapshot, sigma):
    spec = load_campaign_spec(spec_path)
    makers = CampaignMakers.from_spec(spec, snapshot=snapshot)
    tiny = neb_maker("chgnet", min_length=5.5, n_images=3, image_method="linear")
    makers.neb = replace(tiny, max_steps=5, relax_endpoints=False, hops="one")
    makers.neb_top_k, makers.neb_ranker = 1, "lowest_e_hull"
    makers.md, makers.md_top_k, makers.md_ranker = FakeMDMaker(sigma=sigma), 1, "lowest_e_hull"
    return spec, makers
"""

SUBMIT = (
    SETUP
    + """
import json, sys
from pathlib import Path
from sseflows.campaign.campaign_flow import CampaignFlowSettings
from sseflows.campaign.fireworks import load_launchpad
from sseflows.campaign.submit import submit_campaign_flow
from sseflows.data.readers import read_candidates
from sseflows.stores import build_job_store

spec_path, pool, db, snapshot, models, sigma = sys.argv[1:7]
spec, makers = loop_makers(spec_path, snapshot, json.loads(sigma))
settings = CampaignFlowSettings.from_makers(spec.name, makers, label_store=db, loop=spec.loop,
                                            models_dir=models)
store = build_job_store(db)
store.connect()
submission = submit_campaign_flow(settings, read_candidates([Path(pool)]), load_launchpad(),
                                  store, db)
print(json.dumps(submission.categories))
"""
)

LAUNCHES = """
import json
from sseflows.campaign.fireworks import load_launchpad
lp = load_launchpad()
fws = list(lp.fireworks.find({}, {"name": 1, "state": 1, "launches": 1, "spec._category": 1}))
pids = {l["launch_id"]: l["fworker"]["env"]["sseflows_worker"]["pid"]
        for l in lp.launches.find({}, {"launch_id": 1, "fworker": 1})}
print(json.dumps([{"name": fw["name"], "state": fw["state"],
                   "category": fw["spec"].get("_category"),
                   "pids": [pids[i] for i in fw.get("launches", [])]} for fw in fws]))
"""


@pytest.mark.slow
@pytest.mark.skipif(sys.platform != "linux", reason="embedded LaunchPad file locks")
def test_two_workers_drive_two_rounds_on_fireworks_as_the_local_loop_does(tmp_path: Path) -> None:
    """Submit a two-round loop (rank → MP gate → selection → CHGNet NEB on a tiny cell and a
    fake MD → labels → round 2 ranked by the model refit on round 1's labels) to the
    embedded LaunchPad; ``sseflows worker --processes 2`` drives it alone. Every Firework
    runs once, a new process reads them all COMPLETED, and the stored rounds equal those of
    the local loop of the same spec."""
    spec_path = _spec(tmp_path / "spec", "{rounds: 2, batch_size: 2}")
    pool_dir = write_pool(tmp_path / "pool", POOL)
    namespace: dict[str, Any] = {}
    exec(SETUP, namespace)  # the makers the FireWorks submission below builds

    spec, makers = namespace["loop_makers"](spec_path, str(DEMO_SNAPSHOT), SIGMA)
    local = _local_loop(tmp_path, spec, makers, pool_dir)
    assert [d["round"] for d in local] == [1, 2]
    assert [r["id"] for d in local for r in d["results"]["neb"]]  # a NEB ran in each round

    db = str(tmp_path / "fw-db")
    with open_label_store(db) as labels:
        labels.add(toy_labels())
    env = dict(os.environ, MONGOMOCK_SERVERSTORE_FILE=str(tmp_path / "fw.json"))
    env |= {"SSEFLOWS_CONFIG": str(tmp_path / "none.yaml"), "OMP_NUM_THREADS": "1"}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")])

    def python(*args: str) -> str:
        run = subprocess.run(
            [sys.executable, *args], env=env, capture_output=True, text=True, cwd=tmp_path,
            timeout=1500,
        )  # fmt: skip
        assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-3000:]
        return run.stdout

    submitted = python(
        "-c", SUBMIT, str(spec_path), str(pool_dir), db, str(DEMO_SNAPSHOT),
        str(tmp_path / "fw-models"), json.dumps(SIGMA),
    )  # fmt: skip
    assert json.loads(submitted.splitlines()[-1]) == {"rank": 1}  # only the first round job
    python(
        "-c", "from sseflows.cli import app; app()", "worker", "--processes", "2",
        "--launch-dir", str(tmp_path / "launches"), "--sleep", "1",
    )  # fmt: skip

    fws = json.loads(python("-c", LAUNCHES).splitlines()[-1])
    assert {fw["state"] for fw in fws} == {"COMPLETED"}
    assert all(len(fw["pids"]) == 1 for fw in fws)  # each Firework ran exactly once
    names = [fw["name"] for fw in fws]
    assert sum(n.startswith("round ") for n in names) == 3  # two rounds and the stop
    assert sum(n.startswith("close round") for n in names) == 2
    assert {fw["category"] for fw in fws if fw["name"].startswith("chgnet neb")} == {"gpu"}

    on_fireworks = list_rounds(spec.name, db)
    assert [comparable(d) for d in on_fireworks] == [comparable(d) for d in local]
    assert on_fireworks[1]["model"]["version"] != on_fireworks[0]["model"]["version"]
    assert set(on_fireworks[0]["labels"]) <= set(on_fireworks[1]["model"]["computed_label_ids"])
    assert on_fireworks[-1]["stop_reason"] == "2 round(s) are done."
    assert len(list((tmp_path / "fw-models").glob("*.skops"))) == 2  # trained on the workers

    shown = python(
        "-c", "from sseflows.cli import app; app()", "campaign", "status", spec.name,
        "--store", db, "--json", str(tmp_path / "status.json"),
    )  # fmt: skip
    status = json.loads((tmp_path / "status.json").read_text())
    assert [row["round"] for row in status["rounds"]] == [1, 2]
    assert [row["model"] for row in status["rounds"]] == [
        d["model"]["version"] for d in on_fireworks
    ]
    assert "Rounds" in shown and status["fireworks"] == {"COMPLETED": len(fws)}


@pytest.mark.skipif(sys.platform != "linux", reason="embedded LaunchPad file locks")
def test_campaign_submit_cli_adds_one_pass_or_the_loop_and_says_why_it_cannot(
    tmp_path: Path,
) -> None:
    """``sseflows campaign submit``: a one-pass campaign adds its gates and selection
    Fireworks; ``--rounds 2`` adds only the first round job (the workers grow the rest);
    bad options and an unreachable LaunchPad file get one sentence and exit code 2."""
    spec_path = _spec(tmp_path / "spec", "{rounds: 1, batch_size: 2}")
    one_pass = tmp_path / "spec" / "gates.yaml"
    one_pass.write_text("name: gates-only\ngates:\n  mp: {band_gap_min_ev: 1.0}\n  bvse: null\n")
    pool_dir = write_pool(tmp_path / "pool", ["Li2O", "LiCl", "NaCl"])
    db = str(tmp_path / "db")
    with open_label_store(db) as labels:
        labels.add(toy_labels())
    env = dict(os.environ, MONGOMOCK_SERVERSTORE_FILE=str(tmp_path / "fw.json"))
    env |= {"SSEFLOWS_CONFIG": str(tmp_path / "none.yaml"), "OMP_NUM_THREADS": "1"}

    def submit(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-c", "from sseflows.cli import app; app()", "campaign", "submit",
             *args, "--store", db, "--mp-snapshot", str(DEMO_SNAPSHOT)],
            env=env, capture_output=True, text=True, cwd=tmp_path, timeout=600,
        )  # fmt: skip

    gates = submit(str(one_pass), str(pool_dir))
    assert gates.returncode == 0, gates.stderr[-3000:]
    assert "submitted campaign 'gates-only': 2 candidate(s), 4 Firework(s) now" in gates.stdout
    assert "(gates 3, select 1)" in gates.stdout

    looped = submit(str(spec_path), str(pool_dir), "--rounds", "2", "--models-dir",
                    str(tmp_path / "models"))  # fmt: skip
    assert looped.returncode == 0, looped.stderr[-3000:]
    assert "submitted campaign 'looped' in up to 2 round(s)" in looped.stdout
    # the first round job, and the failed read of NaCl recorded by a gates job
    assert "2 Firework(s) now (gates 1, rank 1)" in looped.stdout

    zero = submit(str(spec_path), str(pool_dir), "--rounds", "0")
    assert zero.returncode == 2 and "--rounds must be at least 1, not 0." in zero.stderr
    no_rank = submit(str(one_pass), str(pool_dir), "--rounds", "2")
    assert no_rank.returncode == 2
    assert "has no ranking stage that trains ('rank.train')" in no_rank.stderr
    missing = submit(str(one_pass), str(pool_dir), "--launchpad", str(tmp_path / "lp.yaml"))
    assert missing.returncode == 2 and "lp.yaml does not exist." in missing.stderr
