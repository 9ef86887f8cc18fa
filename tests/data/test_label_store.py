"""The label store: upsert by label_id, filtered queries, and a persistent round trip."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from data_helpers import li2o
from maggma.stores import MemoryStore

from sseflows.core.label import Label
from sseflows.data.label_store import LabelStore, open_label_store


def labels() -> list[Label]:
    return [
        Label(label_id="t:li2o", formula="Li2O", structure=li2o(), sigma_rt_s_per_cm=1e-9),
        Label(
            label_id="t:lgps",
            formula="Li10GeP2S12",
            sigma_rt_s_per_cm=1.2e-2,
            ea_ev=0.25,
            source="t",
        ),
        Label(
            label_id="t:lgps-neb",
            formula="Li10GeP2S12",
            kind="computed",
            method="neb-qe",
            ea_ev=0.21,
            source="campaign-1",
        ),
        Label(
            label_id="t:bound",
            formula="Li4P2O7",
            sigma_upper_bound=True,
            log10_sigma_rt=-10.0,
            source="t",
        ),
    ]


def test_add_query_count() -> None:
    store = LabelStore(MemoryStore(collection_name="labels"))
    assert store.add(labels()) == 4
    assert store.add(labels()[:2]) == 2  # upsert: no duplicates
    assert store.count() == 4
    assert [x.label_id for x in store.query(kind="computed")] == ["t:lgps-neb"]
    assert [x.label_id for x in store.query(source="t")] == ["t:bound", "t:lgps"]
    # any way of writing the formula finds the reduced one (Li10Ge(PS6)2)
    assert [x.label_id for x in store.query(formula="Li20Ge2P4S24")] == ["t:lgps", "t:lgps-neb"]
    assert store.query(formula="Li3PS4") == []
    li2o_label = store.query(formula="Li2O")[0]
    assert li2o_label.structure == li2o()
    assert li2o_label.log10_sigma_rt == pytest.approx(-9.0)


def test_replacing_a_label_updates_it() -> None:
    store = LabelStore(MemoryStore(collection_name="labels"))
    store.add(labels())
    store.add([Label(label_id="t:li2o", formula="Li2O", sigma_rt_s_per_cm=1e-8)])
    (label,) = store.query(formula="Li2O")
    assert label.sigma_rt_s_per_cm == 1e-8 and label.structure is None


WRITE = """
from data_helpers import li2o
from sseflows.core.label import Label
from sseflows.data.label_store import open_label_store
with open_label_store({spec!r}) as store:
    store.add([
        Label(label_id="t:li2o", formula="Li2O", structure=li2o(), sigma_rt_s_per_cm=1e-9),
        Label(label_id="t:bound", formula="Li4P2O7", sigma_upper_bound=True, log10_sigma_rt=-10),
    ])
    store.add([Label(label_id="t:li2o", formula="Li2O", structure=li2o(), sigma_rt_s_per_cm=2e-9)])
"""

READ = """
import json
from sseflows.data.label_store import open_label_store
with open_label_store({spec!r}) as store:
    out = [
        {{"id": x.label_id, "sigma": x.sigma_rt_s_per_cm, "bound": x.sigma_upper_bound,
          "sites": len(x.structure) if x.structure else 0, "count": store.count()}}
        for x in store.query()
    ]
print(json.dumps(out))
"""


def test_montystore_round_trip_between_processes(tmp_path: Path) -> None:
    """Written by one Python process into a folder store, read back by another."""
    spec = str(tmp_path / "db")
    here = str(Path(__file__).parent)
    for code in (WRITE,):
        subprocess.run(
            [sys.executable, "-c", textwrap.dedent(code.format(spec=spec))],
            check=True,
            cwd=here,
        )
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(READ.format(spec=spec))],
        check=True,
        capture_output=True,
        text=True,
        cwd=here,
    )
    records = json.loads(done.stdout.strip().splitlines()[-1])
    assert records == [
        {"id": "t:bound", "sigma": None, "bound": True, "sites": 0, "count": 2},
        {"id": "t:li2o", "sigma": 2e-9, "bound": False, "sites": 12, "count": 2},
    ]
    with open_label_store(spec) as store:  # and this process sees the same
        assert store.count() == 2
