"""Launching campaigns on clusters with FireWorks.

Flows are converted with jobflow's ``flow_to_workflow``: a gate's ``stop_children``
defuses the candidate's later Fireworks and a ``Response(replace=...)`` becomes a detour,
so the same Makers run unchanged under ``run_locally`` and on a cluster.

The LaunchPad comes from, in order: an explicit ``launchpad.yaml``; an embedded,
file-backed mongomock LaunchPad when ``MONGOMOCK_SERVERSTORE_FILE`` is set (laptops, CI),
made durable by :mod:`sseflows.campaign.embedded` (every operation locked against other
processes and saved at once); FireWorks' own auto-load (``~/.fireworks/my_launchpad.yaml``).
A LaunchPad on a MongoDB server is pinged first: one that cannot be reached is a
configuration error naming the host, never the password.

Workers (:func:`launch_local_worker`, :func:`launch_workers` for several processes) record
their host and process id in every launch, so :func:`recover_lost_runs` can tell a launch
whose worker died (SIGKILL, node loss) from one still running, on this host at once and on
any host once its pings stop (``detect_lostruns``); lost Fireworks are rerun, completed
ones never.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jobflow import Flow, JobStore, Maker

from sseflows.campaign.plan import Plan, plan_flows
from sseflows.core.errors import ConfigurationError
from sseflows.data.readers import CandidateSet, ReadFailure


def load_launchpad(path: str | Path | None = None):
    """The FireWorks LaunchPad to submit to (see module docstring for the order)."""
    from fireworks import LaunchPad

    if path is not None:
        path = Path(path)
        if not path.is_file():
            raise ConfigurationError(f"LaunchPad file {path} does not exist.")
        try:
            launchpad = LaunchPad.from_file(str(path))
        except (ValueError, KeyError, TypeError, OSError) as exc:
            from sseflows.stores import redact

            raise ConfigurationError(
                f"LaunchPad file {path} is not usable ({redact(str(exc))})."
            ) from None
        return check_launchpad(launchpad, str(path))
    embedded = os.environ.get("MONGOMOCK_SERVERSTORE_FILE")
    if embedded:
        return load_embedded_launchpad(embedded)
    return check_launchpad(LaunchPad.auto_load(), "the FireWorks LaunchPad file")


def load_embedded_launchpad(path: str | Path):
    """The durable embedded LaunchPad on the mongomock-persistence file ``path`` (created
    and initialised, as ``lpad reset`` would, when missing; under the file's lock, so that
    two workers starting at once create it once)."""
    from fireworks import LaunchPad

    from sseflows.campaign.embedded import DurableServer, make_durable
    from sseflows.stores import file_lock

    path = Path(path)
    with file_lock(DurableServer.lock_path_of(path)):
        new = not path.is_file()
        if new:  # mongomock-persistence needs an existing file
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("{}")
        launchpad = make_durable(LaunchPad(), path)
        if new:
            launchpad.reset("", require_password=False)
    return launchpad


def check_launchpad(launchpad, where: str):
    """``launchpad`` once its MongoDB server answers a ping (an embedded one always does).

    Raises:
        ConfigurationError: the server cannot be reached (host named, password never).
    """
    from pymongo import MongoClient

    from sseflows.stores import ping_mongodb, uri_hosts

    if not isinstance(launchpad.connection, MongoClient):  # embedded mongomock
        return launchpad
    setting = f"host, port and credentials in {where}"
    if launchpad.uri_mode:
        what = f"The FireWorks LaunchPad at {uri_hosts(launchpad.host)}"
        ping_mongodb(launchpad.host, what=what, setting=setting)
    else:
        what = f"The FireWorks LaunchPad at {launchpad.host}:{launchpad.port}"
        ping_mongodb(
            launchpad.host,
            launchpad.port,
            username=launchpad.username,
            password=launchpad.password,
            authSource=launchpad.authsource,
            what=what,
            setting=setting,
        )
    return launchpad


def submit_candidates(
    candidate_set: CandidateSet, maker: Maker, launchpad, store: JobStore, fresh: bool = False
) -> Plan:
    """Plan ``candidate_set`` through ``maker`` (:func:`sseflows.campaign.plan.plan_flows`:
    result keys, stored results skipped) and add the planned flows to ``launchpad``, with
    ``store`` embedded for the workers; returns the plan."""
    plan = plan_flows(candidate_set, maker, store, fresh=fresh)
    submit_flows(plan.flows, launchpad, store=store)
    return plan


@dataclass
class Submission:
    """What ``sseflows submit`` did: the inputs it could not read and the plan whose flows
    went to the LaunchPad (``plan.reused``: candidates with stored results)."""

    failures: list[ReadFailure]
    plan: Plan


def submit_files(
    paths: list[Path],
    candidates_csv: Path | None = None,
    launchpad_path: Path | None = None,
    store_spec: str | None = None,
    mp_snapshot: str | None = None,
    ehull: float | None = None,
    gap: float | None = None,
    ea: float | None = None,
) -> Submission:
    """Add one screening workflow per candidate of ``paths`` and ``candidates_csv`` to the
    LaunchPad (:func:`load_launchpad`), outputs going to ``store_spec`` (None: the ``db``
    setting); ``ehull`` (eV/atom), ``gap`` (eV) and ``ea`` (eV) override the gates'
    thresholds when given.

    Raises:
        ConfigurationError: an unusable LaunchPad, store or candidate CSV.
    """
    from sseflows.campaign.screen import build_screening_maker
    from sseflows.data.readers import read_candidates
    from sseflows.settings import load_settings
    from sseflows.stores import build_job_store

    settings = load_settings(db=store_spec, mp_snapshot=mp_snapshot)
    launchpad = load_launchpad(launchpad_path)
    candidate_set = read_candidates(paths, csv=candidates_csv)
    maker = build_screening_maker(
        settings.mp_snapshot, e_hull_max_ev_per_atom=ehull, band_gap_min_ev=gap, ea_max_ev=ea
    )
    store = build_job_store(settings.db)
    store.connect()
    plan = submit_candidates(candidate_set, maker, launchpad, store)
    return Submission(list(candidate_set.failures), plan)


def submit_flows(
    flows: Iterable[tuple[str, Flow]], launchpad, store: JobStore | None = None
) -> dict[str, list[int]]:
    """Add one FireWorks workflow per keyed flow; returns ``{key: firework ids}``.

    Args:
        flows: ``(candidate id, flow)`` pairs.
        launchpad: A FireWorks LaunchPad.
        store: JobStore embedded in every Firework; None lets workers use their own
            jobflow ``JOB_STORE`` configuration.
    """
    from jobflow.managers.fireworks import flow_to_workflow

    from sseflows.campaign.embedded import transaction

    submitted: dict[str, list[int]] = {}
    batch: list[tuple[str, Any]] = []

    def add(workflows: list[tuple[str, Any]]) -> None:
        # FireWorks' bulk insert: one id reservation and two insert_many per batch instead
        # of several queries per workflow (add_wf), which scan an unindexed embedded
        # LaunchPad: 5,000 workflows took 158 s one by one. The ids are set in place.
        launchpad.bulk_add_wfs([wf for _, wf in workflows])
        for name, wf in workflows:
            submitted[name] = sorted(fw.fw_id for fw in wf)

    with transaction(launchpad):  # embedded LaunchPad: one lock, one save for all
        for key, flow in flows:
            # jobflow accepts store=None (workers then use their JOB_STORE); its hint omits None
            workflow = flow_to_workflow(flow, store=store)  # type: ignore[arg-type]
            workflow.metadata["candidate_id"] = key
            batch.append((key, workflow))
            if len(batch) >= SUBMIT_BATCH:
                add(batch)
                batch = []
        if batch:
            add(batch)
    return submitted


SUBMIT_BATCH = 500
"""Workflows per ``bulk_add_wfs`` call of :func:`submit_flows`."""


WORKER_ENV_KEY = "sseflows_worker"


def _this_worker() -> dict[str, object]:
    return {"host": socket.gethostname(), "pid": os.getpid()}


def launch_local_worker(
    launchpad,
    nlaunches: int = 0,
    launch_dir: str | Path = ".",
    sleep_time: int = 5,
    fworker=None,
) -> None:
    """Run ready Fireworks on this machine until none are left (``nlaunches=0``).

    Every launch records this worker's host and process id (``fworker.env``), which
    :func:`recover_lost_runs` reads. ``sleep_time``: seconds to wait while Fireworks of
    this LaunchPad still wait for others (running elsewhere) to finish.
    """
    from fireworks import FWorker
    from fireworks.core.rocket_launcher import rapidfire

    fworker = fworker if fworker is not None else FWorker()
    fworker.env = dict(fworker.env or {}, **{WORKER_ENV_KEY: _this_worker()})
    Path(launch_dir).mkdir(parents=True, exist_ok=True)
    rapidfire(
        launchpad,
        fworker,
        m_dir=str(launch_dir),
        nlaunches=nlaunches,
        sleep_time=sleep_time,
        strm_lvl="WARNING",
    )


def load_fworker(path: str | Path | None = None):
    """The FireWorks worker of ``path`` (``my_fworker.yaml``: name, ``category`` of the
    Fireworks it runs, ``query``, ``env``); a plain worker running any Firework when None.

    Raises:
        ConfigurationError: a missing or unreadable file.
    """
    from fireworks import FWorker

    if path is None:
        return FWorker()
    path = Path(path)
    if not path.is_file():
        raise ConfigurationError(f"FireWorker file {path} does not exist.")
    try:
        return FWorker.from_file(str(path))
    except (ValueError, KeyError, TypeError, OSError) as exc:
        raise ConfigurationError(f"FireWorker file {path} is not usable ({exc}).") from None


def _worker_process(
    launchpad_path: str | None,
    nlaunches: int,
    launch_dir: str,
    sleep_time: int,
    parent: int,
    fworker_path: str | None = None,
) -> None:
    """One of :func:`launch_workers`' processes: its own LaunchPad connection."""
    from sseflows.campaign.local import exit_with_parent

    exit_with_parent(parent)
    launchpad = load_launchpad(launchpad_path)
    launch_local_worker(
        launchpad, nlaunches, launch_dir, sleep_time=sleep_time,
        fworker=load_fworker(fworker_path),
    )  # fmt: skip


def launch_workers(
    processes: int,
    launchpad_path: str | Path | None = None,
    nlaunches: int = 0,
    launch_dir: str | Path = ".",
    sleep_time: int = 5,
    fworker_path: str | Path | None = None,
) -> list[int]:
    """Run ``processes`` independent workers on this machine; returns their exit codes.

    Each process opens the LaunchPad itself (as separate ``rlaunch`` jobs would), so on the
    embedded LaunchPad every change is saved to its file at once, unlike ``rlaunch multi``,
    whose shared DataServer process never saves. Each runs in ``launch_dir/worker_<i>``
    and exits when this process dies; ``fworker_path`` (``my_fworker.yaml``) says which
    Fireworks they run.
    """
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    path = str(launchpad_path) if launchpad_path is not None else None
    workers = [
        context.Process(
            target=_worker_process,
            args=(
                path,
                nlaunches,
                str(Path(launch_dir) / f"worker_{i}"),
                sleep_time,
                os.getpid(),
                None if fworker_path is None else str(fworker_path),
            ),
            name=f"sseflows-worker-{i}",
        )
        for i in range(processes)
    ]
    for process in workers:
        process.start()
    try:
        for process in workers:
            process.join()
    finally:
        for process in workers:
            if process.is_alive():
                process.terminate()
                process.join(10)
    return [process.exitcode if process.exitcode is not None else -1 for process in workers]


def _alive(pid: int) -> bool:
    """True while process ``pid`` exists on this host and is not a zombie."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rpartition(")")[2].split()[0] != "Z"
    except OSError:
        return True


@dataclass
class Recovery:
    """What :func:`recover_lost_runs` did: Fireworks found lost and set to rerun."""

    lost_fw_ids: list[int] = field(default_factory=list)
    lost_launch_ids: list[int] = field(default_factory=list)


def recover_lost_runs(launchpad, lost_after_s: float | None = None) -> Recovery:
    """Rerun the Fireworks whose worker died; completed Fireworks are never touched.

    A RUNNING launch is lost when its worker ran on this host and its process is gone, or
    when it has not pinged the LaunchPad for ``lost_after_s`` seconds (None: FireWorks'
    ``RUN_EXPIRATION_SECS``, 4 h; use this for workers on other nodes). Lost Fireworks are
    marked FIZZLED and rerun (``lpad detect_lostruns --rerun``); their children wait again.
    """
    from fireworks.fw_config import RUN_EXPIRATION_SECS

    recovery = Recovery()

    def collect(result: tuple[list[int], list[int], list[int]]) -> None:
        launch_ids, fw_ids, _inconsistent = result
        recovery.lost_launch_ids += [i for i in launch_ids if i not in recovery.lost_launch_ids]
        recovery.lost_fw_ids += [i for i in fw_ids if i not in recovery.lost_fw_ids]

    host = socket.gethostname()
    dead = [
        launch["launch_id"]
        for launch in launchpad.launches.find(
            {"state": "RUNNING", f"fworker.env.{WORKER_ENV_KEY}.host": host},
            {"launch_id": 1, "fworker": 1},
        )
        if not _alive(int(launch["fworker"]["env"][WORKER_ENV_KEY]["pid"]))
    ]
    if dead:
        collect(
            launchpad.detect_lostruns(
                expiration_secs=0, rerun=True, launch_query={"launch_id": {"$in": dead}}
            )
        )
    expiration = RUN_EXPIRATION_SECS if lost_after_s is None else lost_after_s
    collect(launchpad.detect_lostruns(expiration_secs=expiration, rerun=True))
    recovery.lost_fw_ids.sort()
    return recovery
