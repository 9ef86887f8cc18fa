"""Launching campaigns on clusters with FireWorks.

Flows are converted with jobflow's ``flow_to_workflow``: a gate's ``stop_children``
defuses the candidate's later Fireworks and a ``Response(replace=...)`` becomes a detour,
so the same Makers run unchanged under ``run_locally`` and on a cluster.

The LaunchPad comes from, in order: an explicit ``launchpad.yaml``; an embedded,
file-backed mongomock LaunchPad when ``MONGOMOCK_SERVERSTORE_FILE`` is set (laptops, CI);
FireWorks' own auto-load (``~/.fireworks/my_launchpad.yaml``).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from jobflow import Flow, JobStore

from sseflows.core.errors import ConfigurationError


def load_launchpad(path: str | Path | None = None):
    """The FireWorks LaunchPad to submit to (see module docstring for the order)."""
    from fireworks import LaunchPad

    if path is not None:
        path = Path(path)
        if not path.is_file():
            raise ConfigurationError(f"LaunchPad file {path} does not exist.")
        return LaunchPad.from_file(str(path))
    embedded = os.environ.get("MONGOMOCK_SERVERSTORE_FILE")
    if embedded:
        if not Path(embedded).is_file():  # mongomock-persistence needs an existing file
            Path(embedded).parent.mkdir(parents=True, exist_ok=True)
            Path(embedded).write_text("{}")
        return LaunchPad()
    return LaunchPad.auto_load()


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
        workflow = flow_to_workflow(flow, store=store)
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
