"""The whole campaign as one jobflow flow: run_locally equals ``campaign run``, FireWorks
workers of the right categories drive it alone, ``campaign status`` follows it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from sseflows.campaign.campaign_flow import CATEGORIES, tier_category
from sseflows.campaign.neb import neb_maker

REPO = Path(__file__).resolve().parents[2]
INPUTS = REPO / "inputs"

TINY_SETUP = """
from dataclasses import replace
from pathlib import Path
from sseflows.campaign.campaign_flow import CampaignFlowSettings
from sseflows.campaign.neb import neb_maker
from sseflows.campaign.run import CampaignMakers
from sseflows.campaign.spec import CampaignSpec


def tiny_makers(snapshot):
    spec = CampaignSpec.model_validate(
        {"name": "tiny", "gates": {"mp": {}, "bvse": {"ea_max_ev": 0.5}},
         "neb": {"engine": "chgnet", "top_k": 1}}
    )
    makers = CampaignMakers.from_spec(spec, snapshot=str(snapshot))
    maker = neb_maker("chgnet", min_length=5.5, n_images=3, image_method="linear")
    makers.neb = replace(maker, max_steps=5, relax_endpoints=False, hops="one")
    makers.screening.bvse_gate.compute_path = False
    return makers
"""


def _tiny_makers(snapshot: Path):
    namespace: dict = {}
    exec(TINY_SETUP, namespace)  # the same setup the FireWorks script below runs
    return namespace["tiny_makers"](snapshot)


def test_worker_templates_load_and_cover_every_category() -> None:
    from fireworks import FWorker
    from fireworks.user_objects.queue_adapters.common_adapter import CommonAdapter

    workers = {
        name: FWorker.from_file(str(INPUTS / f"my_fworker_{name}.yaml"))
        for name in ("gates", "qe", "gpu")
    }
    served = {c for w in workers.values() for c in w.category}
    assert served == set(CATEGORIES)
    assert {"gates", "rank", "select"} <= set(workers["gates"].category)
    assert tier_category("neb", neb_maker("qe")) in workers["qe"].category
    assert tier_category("neb", neb_maker("chgnet")) in workers["gpu"].category
    from sseflows.md.makers import MDArrheniusMaker

    assert tier_category("md", MDArrheniusMaker()) in workers["gpu"].category
    assert tier_category("md", MDArrheniusMaker(engine="vasp")) in workers["qe"].category
    for queue in ("slurm", "pbs"):
        adapter = CommonAdapter.from_file(str(INPUTS / f"my_qadapter_{queue}.yaml"))
        assert adapter.q_type == queue.upper()
        script = adapter.get_script_str("/tmp/launch")
        assert "sseflows worker" in script and "--fworker my_fworker_gates.yaml" in script


@pytest.mark.slow
def test_campaign_flow_run_locally_equals_campaign_run(tmp_path: Path, monkeypatch) -> None:
    """run_locally of the campaign flow chooses what ``campaign run`` chooses, and
    ``campaign run`` afterwards finds every document it would compute already stored."""
    from jobflow import run_locally

    from sseflows.campaign.campaign_flow import CampaignFlowSettings, build_campaign_flow
    from sseflows.campaign.results import query_tier_docs
    from sseflows.campaign.run import run_campaign
    from sseflows.data.label_store import open_label_store
    from sseflows.data.readers import read_candidates
    from sseflows.stores import build_job_store
    from tests.conftest import DEMO_SNAPSHOT, write_pool

    monkeypatch.chdir(tmp_path)
    pool = write_pool(tmp_path / "pool", ["Li2O", "LiCl", "NaCl"])
    makers = _tiny_makers(DEMO_SNAPSHOT)
    candidates = read_candidates([pool])
    db = str(tmp_path / "db")
    store = build_job_store(db)
    store.connect()
    settings = CampaignFlowSettings.from_makers("tiny", makers, label_store=db)
    built = build_campaign_flow(settings, candidates, store)
    run_locally(built.flow, store=store)
    (selection,) = store.docs_store.query({"output.campaign_stage": "select"})
    assert selection["output"]["selected"] == {"neb": ["Li2O"]}
    assert selection["metadata"]["campaign"] == "tiny"
    (neb,) = query_tier_docs(store, tier="neb")
    assert neb["candidate_id"] == "Li2O" and neb["engine"] == "chgnet"
    (labels,) = store.docs_store.query({"output.campaign_stage": "labels"})
    n_docs = store.docs_store.count()

    with open_label_store(db) as label_store:
        report = run_campaign(makers, candidates, store, campaign="tiny", label_store=label_store)
    assert report.selected == selection["output"]["selected"]
    assert store.docs_store.count() == n_docs  # every document was already there
    (row,) = report.tiers["neb"]
    assert (row["status"], row["reason"], row["barrier_ev"], row["iterations"]) == (
        neb["status"], neb["reason"], neb["barrier_ev"], neb["iterations"],
    )  # fmt: skip
    assert labels["output"]["labels_written"] == report.n_labels


SUBMIT = (
    TINY_SETUP
    + """
import json, sys
from sseflows.campaign.fireworks import load_launchpad
from sseflows.campaign.submit import submit_campaign_flow
from sseflows.data.readers import read_candidates
from sseflows.stores import build_job_store

pool, db, snapshot = sys.argv[1:4]
settings = CampaignFlowSettings.from_makers("tiny", tiny_makers(snapshot), label_store=db)
store = build_job_store(db)
store.connect()
submission = submit_campaign_flow(settings, read_candidates([Path(pool)]), load_launchpad(),
                                  store, db)
print(json.dumps(submission.categories))
"""
)

FIREWORKS = """
import json
from sseflows.campaign.fireworks import load_launchpad
lp = load_launchpad()
print(json.dumps([{"name": fw["name"], "state": fw["state"],
                   "category": fw["spec"].get("_category"), "campaign": fw["spec"].get("campaign")}
                  for fw in lp.fireworks.find({}, {"name": 1, "state": 1, "spec": 1})]))
"""


@pytest.mark.slow
@pytest.mark.skipif(sys.platform != "linux", reason="embedded LaunchPad file locks")
def test_campaign_on_fireworks_workers_of_each_category(tmp_path: Path) -> None:
    """Submit a tiny campaign to the embedded LaunchPad; a gates worker runs the gates and
    the selection (a dropped candidate does not defuse it) but not the NEB, which waits for
    the GPU worker; then the labels; ``campaign status`` shows the funnel and failures."""
    from tests.conftest import DEMO_SNAPSHOT, write_pool

    pool = write_pool(tmp_path / "pool", ["Li2O", "LiCl", "NaCl"])
    db = str(tmp_path / "db")
    env = dict(os.environ, MONGOMOCK_SERVERSTORE_FILE=str(tmp_path / "fw.json"))
    env |= {"SSEFLOWS_CONFIG": str(tmp_path / "none.yaml"), "OMP_NUM_THREADS": "1"}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")])

    def python(*args: str) -> str:
        run = subprocess.run(
            [sys.executable, *args], env=env, capture_output=True, text=True, cwd=tmp_path,
            timeout=900,
        )  # fmt: skip
        assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-3000:]
        return run.stdout

    def sseflows(*args: str) -> str:
        return python("-c", "from sseflows.cli import app; app()", *args)

    def fireworks() -> dict[str, dict]:
        return {fw["name"]: fw for fw in json.loads(python("-c", FIREWORKS).splitlines()[-1])}

    categories = json.loads(
        python("-c", SUBMIT, str(pool), db, str(DEMO_SNAPSHOT)).splitlines()[-1]
    )
    assert categories == {"gates": 3, "select": 1}  # two candidates and a read failure

    launches = str(tmp_path / "launches")
    gates = str(REPO / "inputs" / "my_fworker_gates.yaml")
    gpu = str(REPO / "inputs" / "my_fworker_gpu.yaml")
    sseflows("worker", "--fworker", gates, "--launch-dir", launches, "--sleep", "1")
    fws = fireworks()
    assert all(fw["campaign"] == "tiny" for fw in fws.values())
    assert fws["select tiny"]["state"] == "COMPLETED"  # ran on the worker, not defused
    assert fws["gates LiCl"]["state"] == "COMPLETED"  # its BVSE gate dropped it
    neb = [fw for name, fw in fws.items() if name.startswith("chgnet neb")]
    assert [fw["state"] for fw in neb] == ["READY"] and neb[0]["category"] == "gpu"
    assert fws["labels tiny"]["state"] == "WAITING" and fws["labels tiny"]["category"] == "select"
    waiting = sseflows("campaign", "status", "tiny", "--store", db)
    assert "selected for NEB" in waiting and "NEB done                     0" in waiting

    sseflows("worker", "--fworker", gpu, "--launch-dir", launches, "--sleep", "1")
    sseflows("worker", "--fworker", gates, "--launch-dir", launches, "--sleep", "1")
    fws = fireworks()
    assert {fw["state"] for fw in fws.values()} == {"COMPLETED"}

    out = sseflows("campaign", "status", "tiny", "--store", db, "--json", str(tmp_path / "s.json"))
    status = json.loads((tmp_path / "s.json").read_text())
    assert status["selected"] == {"neb": ["Li2O"]}
    funnel = status["funnel"]
    assert funnel["candidates"] == 3 and funnel["readable"] == 2
    assert funnel["passed BVSE gate"] == 1 and funnel["selected for NEB"] == 1
    assert funnel["labels written"] >= 0 and "NEB done" in funnel
    assert status["fireworks"] == {"COMPLETED": len(fws)}
    reasons = {who: reason for who, _stage, reason in status["failures"]}
    assert "no lithium" in reasons["NaCl"]
    assert "fireworks: COMPLETED" in out
