"""Stores: one spec string selects memory, a file-backed MontyStore or MongoDB."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from maggma.stores import MemoryStore, MongoStore, MontyStore

from sseflows.stores import build_job_store, build_store, redact, uri_hosts

WRITE = """
import sys
from jobflow import Flow, job, run_locally
from sseflows.stores import build_job_store

@job(data=["grid"])
def gate(cid):
    return {"candidate_id": cid, "tier": "bvse", "status": "passed", "grid": list(range(50))}

store = build_job_store(sys.argv[1])
run_locally(Flow([gate("c1"), gate("c2")]), store=store, log=False)
"""

READ = """
import json, sys
from sseflows.stores import build_job_store
store = build_job_store(sys.argv[1]); store.connect()
docs = list(store.query({"output.candidate_id": "c2"}, load=True))
raw = store.docs_store.query_one({"output.candidate_id": "c2"})
print(json.dumps({"n": store.count(), "grid": docs[0]["output"]["grid"],
                  "inline": raw["output"]["grid"]}))
"""


def test_round_trip_between_processes(tmp_path: Path) -> None:
    """A MontyStore written by one process is read by another, arrays via the data store."""
    db = tmp_path / "db"
    subprocess.run([sys.executable, "-c", WRITE, str(db)], check=True, capture_output=True)
    out = subprocess.run(
        [sys.executable, "-c", READ, str(db)], check=True, capture_output=True, text=True
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["n"] == 2
    assert result["grid"] == list(range(50))
    assert result["inline"] != list(range(50))  # only a reference lives in the docs store


def test_spec_selects_backend(tmp_path: Path, monkeypatch) -> None:
    """Memory, folder and URI specs; a URI's server is pinged first (no server here, so the
    ping is recorded instead; tests/commands/test_offline_services.py runs the real one)."""
    assert isinstance(build_store("x", "memory"), MemoryStore)
    monty = build_store("x", str(tmp_path / "db"))
    assert isinstance(monty, MontyStore)
    assert (tmp_path / "db").is_dir()
    pinged = []
    monkeypatch.setattr("sseflows.stores.ping_mongodb", lambda *a, **k: pinged.append(a))
    uri = build_store("x", "mongodb://user:pw@host:27017/campaign")
    assert pinged == [("mongodb://user:pw@host:27017/campaign",)]
    assert isinstance(uri, MongoStore)
    assert uri.database == "campaign"
    job_store = build_job_store("memory")
    assert set(job_store.additional_stores) == {"data"}


def test_redact_hides_passwords_only() -> None:
    assert redact("mongodb://alice:s3cret@db.example:27017/sse") == (
        "mongodb://alice:***@db.example:27017/sse"
    )
    assert redact("mongodb+srv://bob:p%40ss@cluster0.example/x?w=1") == (
        "mongodb+srv://bob:***@cluster0.example/x?w=1"
    )
    assert redact("mongodb://carol@db.example/sse") == "mongodb://carol@db.example/sse"
    assert redact("/home/u/.sseflows/db") == "/home/u/.sseflows/db"
    assert redact("bad host mongodb://a:b@h/x here") == "bad host mongodb://a:***@h/x here"
    assert uri_hosts("mongodb://alice:s3cret@h1:1,h2:2/sse") == "h1:1,h2:2"


CONCURRENT_WRITER = """
import sys
from sseflows.stores import build_job_store

store = build_job_store(sys.argv[1])
store.connect()
tag = sys.argv[2]
for i in range(int(sys.argv[3])):
    store.docs_store.update([{"uuid": f"{tag}-{i}", "index": 1, "output": {"i": i}}],
                            key=["uuid", "index"])
    store.additional_stores["data"].update([{"blob_uuid": f"{tag}-{i}", "data": [i] * 20}],
                                           key="blob_uuid")
"""


def test_concurrent_writers_lose_no_document(tmp_path: Path) -> None:
    """Two processes writing many documents at once into one new file-backed JobStore (as
    two FireWorks workers do): every document of both is there. Without the store's lock
    one of them failed creating the database folder and its documents were lost."""
    db = tmp_path / "db"
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", CONCURRENT_WRITER, str(db), tag, "150"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for tag in ("a", "b")
    ]
    try:
        results = [w.communicate(timeout=600) for w in writers]
    finally:
        for w in writers:
            if w.poll() is None:
                w.kill()
                w.wait()
    assert [w.returncode for w in writers] == [0, 0], [err[-2000:] for _, err in results]
    store = build_job_store(str(db))
    store.connect()
    uuids = {d["uuid"] for d in store.docs_store.query({}, properties=["uuid"])}
    assert uuids == {f"{tag}-{i}" for tag in ("a", "b") for i in range(150)}
    assert store.additional_stores["data"].count() == 300


def test_monty_update_inserts_new_documents_and_replaces_rewritten_ones(tmp_path: Path) -> None:
    """New documents go in under an ``_id`` made of their key; a rewrite of the same key
    replaces the document (no duplicate), as maggma's upsert does."""
    store = build_store("docs", str(tmp_path / "db"))
    store.connect()
    store.update([{"uuid": "a", "index": 1, "v": 1}, {"uuid": "a", "index": 2, "v": 2}],
                 key=["uuid", "index"])  # fmt: skip
    store.update({"uuid": "a", "index": 1, "v": 10}, key=["uuid", "index"])
    store.update({"_id": "own", "uuid": "b", "index": 0, "v": 3}, key=["uuid", "index"])
    docs = sorted(store.query({}), key=lambda d: (d["uuid"], d.get("index", 0)))
    assert [(d["uuid"], d.get("index"), d["v"]) for d in docs] == [
        ("a", 1, 10),
        ("a", 2, 2),
        ("b", 0, 3),
    ]
    assert [d["_id"] for d in docs] == ["a|1", "a|2", "own"]  # its own _id kept
    store.close()


def test_monty_query_with_a_long_in_list_matches_as_mongodb(tmp_path: Path) -> None:
    """A ``$in`` of more than SET_MATCH_MIN values is matched through a set: the same
    documents, order, skip and limit as the short form, and the projection unchanged."""
    from sseflows.stores import SET_MATCH_MIN

    store = build_store("docs", str(tmp_path / "db"))
    store.connect()
    store.update(
        [{"k": f"k{i}", "meta": {"key": f"r{i % 50}", "tags": [f"t{i}"]}, "n": i}
         for i in range(200)],
        key="k",
    )  # fmt: skip
    wanted = [f"r{i}" for i in range(0, 50, 2)] + [f"x{i}" for i in range(SET_MATCH_MIN)]
    assert len(wanted) > SET_MATCH_MIN
    long = list(store.query({"meta.key": {"$in": wanted}}, properties=["n"], sort={"n": 1}))
    expected = [i for i in range(200) if (i % 50) % 2 == 0]
    assert [d["n"] for d in long] == expected
    assert all(set(d) <= {"_id", "n"} for d in long)  # the matched field is not returned
    window = list(store.query({"meta.key": {"$in": wanted}}, properties=["n"], sort={"n": 1},
                              skip=3, limit=5))  # fmt: skip
    assert [d["n"] for d in window] == expected[3:8]
    tags = [f"t{i}" for i in range(0, 200, 7)] + [f"y{i}" for i in range(SET_MATCH_MIN)]
    in_arrays = list(store.query({"meta.tags": {"$in": tags}}, properties=["n"]))
    assert sorted(d["n"] for d in in_arrays) == list(range(0, 200, 7))  # array elements match
    short = list(store.query({"meta.key": {"$in": ["r2", "r4"]}}, properties=["n", "meta"]))
    assert sorted(d["n"] for d in short) == [2, 4, 52, 54, 102, 104, 152, 154]
    store.close()


def test_running_flows_in_memory_leaks_no_logging_handlers() -> None:
    """Each flow runs in a reused scratch store: maggma adds a NullHandler per new store,
    so a new store per flow made every later one slower (O(n²) over a campaign)."""
    import logging

    from jobflow import Flow

    from sseflows.campaign.local import run_flow_in_memory
    from tests.campaign.test_campaign_loop import fake_md

    def handlers() -> int:
        return sum(len(logging.getLogger(n).handlers) for n in ("MemoryStore", "JobStore"))

    run_flow_in_memory(Flow([fake_md("LiF", "LiF", 1e-3)]).as_dict(), "LiF")
    before = handlers()
    for i in range(20):
        docs, _ = run_flow_in_memory(Flow([fake_md(f"c{i}", "LiF", 1e-3)]).as_dict(), f"c{i}")
        assert [d["output"]["candidate_id"] for d in docs] == [f"c{i}"]  # only its own
    assert handlers() == before
