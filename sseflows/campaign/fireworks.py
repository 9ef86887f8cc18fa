"""Launching campaigns on clusters with FireWorks.

Flows are converted with jobflow's ``flow_to_workflow``: a gate's ``stop_children``
defuses the candidate's later Fireworks and a ``Response(replace=...)`` becomes a detour,
so the same Makers run unchanged under ``run_locally`` and on a cluster.

The LaunchPad comes from, in order: an explicit ``launchpad.yaml``; an embedded,
file-backed mongomock LaunchPad when ``MONGOMOCK_SERVERSTORE_FILE`` is set (laptops, CI);
FireWorks' own auto-load (``~/.fireworks/my_launchpad.yaml``). A LaunchPad on a MongoDB
server is pinged first: one that cannot be reached is a configuration error naming the host,
never the password.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

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
        new = not Path(embedded).is_file()
        if new:  # mongomock-persistence needs an existing file
            Path(embedded).parent.mkdir(parents=True, exist_ok=True)
            Path(embedded).write_text("{}")
        launchpad = LaunchPad()
        if new:  # a new embedded LaunchPad is initialised, as `lpad reset` would
            launchpad.reset("", require_password=False)
        return launchpad
    return check_launchpad(LaunchPad.auto_load(), "the FireWorks LaunchPad file")


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

    submitted: dict[str, list[int]] = {}
    for key, flow in flows:
        # jobflow accepts store=None (workers then use their JOB_STORE); its hint omits None
        workflow = flow_to_workflow(flow, store=store)  # type: ignore[arg-type]
        workflow.metadata["candidate_id"] = key
        id_map = launchpad.add_wf(workflow)
        submitted[key] = sorted(id_map.values())
    return submitted


def launch_local_worker(launchpad, nlaunches: int = 0, launch_dir: str | Path = ".") -> None:
    """Run ready Fireworks on this machine until none are left (``nlaunches=0``)."""
    from fireworks import FWorker
    from fireworks.core.rocket_launcher import rapidfire

    Path(launch_dir).mkdir(parents=True, exist_ok=True)
    rapidfire(launchpad, FWorker(), m_dir=str(launch_dir), nlaunches=nlaunches, strm_lvl="WARNING")
