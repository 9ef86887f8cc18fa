"""MP sources: snapshot JSON round trip, source building, the live client, ``sseflows mp``.

The Materials Project web API is unreachable from here, so ``mp_api.client.MPRester`` is
replaced by a fake that serves summary documents from a list and records every call; a
second fake fails the test if it is ever constructed (no key -> no contact).
"""

from __future__ import annotations

import json
from pathlib import Path

import mp_api.client
import pymatgen.core
import pytest
from maggma.stores import MemoryStore
from pymatgen.core import Lattice, Structure
from typer.testing import CliRunner

from sseflows.cli import app
from sseflows.core.errors import ConfigurationError
from sseflows.gates.mp.sources import (
    ChainSource,
    LiveSource,
    SnapshotSource,
    build_mp_source,
    fill_snapshot,
    open_snapshot,
    read_snapshot_json,
    summary_doc,
    write_snapshot_json,
)
from tests.conftest import DEMO_SNAPSHOT

REPO = Path(__file__).resolve().parents[2]
PMG = Path(pymatgen.core.__file__).parents[1] / "util" / "structures"


def licl() -> Structure:
    return Structure.from_spacegroup(
        "Fm-3m", Lattice.cubic(5.13), ["Li", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]]
    )


def raw_summary(mp_id: str, structure: Structure, e_hull: float, gap: float) -> dict:
    """A summary document as the API returns it with use_document_model=False."""
    return {
        "material_id": mp_id,
        "formula_pretty": structure.composition.reduced_formula,
        "chemsys": structure.composition.chemical_system,
        "structure": structure.as_dict(),
        "energy_above_hull": e_hull,
        "band_gap": gap,
        "is_stable": e_hull == 0,
        "builder_meta": {"database_version": "2025.09.25"},
    }


LIVE_DOCS = [
    raw_summary("mp-22905", licl(), 0.0, 6.33),
    raw_summary("mp-1960", Structure.from_file(PMG / "Li2O.json"), 0.0, 4.99),
]


class FakeRester:
    """Stands in for mp_api's MPRester: serves LIVE_DOCS, records constructor and queries."""

    calls: list = []

    def __init__(self, api_key, **kwargs):
        FakeRester.calls.append(("init", api_key, kwargs.get("use_document_model")))
        self.materials = self
        self.summary = self

    def search(self, fields=None, material_ids=None, formula=None, chemsys=None):
        FakeRester.calls.append(("search", material_ids, formula, chemsys, tuple(fields)))
        ids = [material_ids] if isinstance(material_ids, str) else material_ids
        found = []
        for doc in LIVE_DOCS:
            comp = Structure.from_dict(doc["structure"]).composition
            if ids and doc["material_id"] not in ids:
                continue
            if formula and pymatgen.core.Composition(formula).reduced_formula != (
                comp.reduced_formula
            ):
                continue
            if chemsys and set(chemsys.split("-")) != {e.symbol for e in comp.elements}:
                continue
            found.append(doc)
        return found


class ForbiddenRester:
    def __init__(self, *args, **kwargs):
        raise AssertionError("the live MP API must not be contacted without a key")


def _reachable(endpoint: str, timeout_s: float) -> None:
    """Stands in for the reachability check: the fake API always answers."""


_reachable.cache_clear = lambda: None  # type: ignore[attr-defined]


@pytest.fixture
def fake_rester(monkeypatch):
    """The MP web API cannot be reached from here: a fake client answers instead."""
    FakeRester.calls = []
    monkeypatch.setattr(mp_api.client, "MPRester", FakeRester)
    monkeypatch.setattr("sseflows.gates.mp.sources.live_api_problem", _reachable)
    return FakeRester


@pytest.fixture
def no_live(monkeypatch):
    monkeypatch.setattr(mp_api.client, "MPRester", ForbiddenRester)


def test_summary_doc_flattens_database_version_and_drops_extras():
    doc = summary_doc({**LIVE_DOCS[0], "_id": "mongo", "density": 2.0})
    assert doc["database_version"] == "2025.09.25"
    assert set(doc) == {
        "material_id",
        "formula_pretty",
        "chemsys",
        "structure",
        "energy_above_hull",
        "band_gap",
        "is_stable",
        "database_version",
    }


def test_snapshot_json_round_trip(tmp_path):
    path = write_snapshot_json(LIVE_DOCS, tmp_path / "snap.json")
    assert isinstance(json.loads(path.read_text()), list)
    source = SnapshotSource(open_snapshot(str(path)))
    entry = source.by_id("mp-22905")
    assert entry is not None and entry.band_gap == pytest.approx(6.33)
    assert entry.database_version == "2025.09.25"
    assert entry.structure == licl()
    assert [e.material_id for e in source.by_formula("Li2O")] == ["mp-1960"]
    assert source.by_id("mp-404") is None and source.by_formula("LiF") == []


def test_demo_snapshot_is_small_and_readable():
    path = DEMO_SNAPSHOT
    assert path.stat().st_size < 200_000
    payload = json.loads(path.read_text())
    assert "transcribed" in payload["_comment"]
    docs = {d["material_id"]: d for d in read_snapshot_json(path)}
    assert {"mp-1960", "mp-841", "mp-19017", "mp-696138", "mp-22905"} <= set(docs)
    source = SnapshotSource(open_snapshot(str(path)))
    li2o = source.by_id("mp-1960")
    assert li2o.energy_above_hull == 0.0 and li2o.band_gap == pytest.approx(5.0, abs=0.2)
    assert li2o.structure.composition.reduced_formula == "Li2O"


def test_bad_snapshot_files_are_configuration_errors(tmp_path):
    with pytest.raises(ConfigurationError, match="does not exist"):
        open_snapshot(str(tmp_path / "missing.json"))
    bad = tmp_path / "bad.json"
    bad.write_text('{"docs": [{"formula_pretty": "LiCl"}]}')
    with pytest.raises(ConfigurationError, match="material_id"):
        open_snapshot(str(bad))


def test_open_snapshot_store_spec_is_a_persistent_store(tmp_path):
    store = open_snapshot(str(tmp_path / "db"))
    store.update([summary_doc(LIVE_DOCS[0])], key="material_id")
    again = SnapshotSource(open_snapshot(str(tmp_path / "db")))
    assert again.by_id("mp-22905").formula_pretty == "LiCl"


def test_no_key_means_no_live_source(no_live, tmp_path):
    path = write_snapshot_json(LIVE_DOCS[:1], tmp_path / "snap.json")
    source = build_mp_source(snapshot=str(path))
    assert [s.name for s in source.sources] == ["snapshot"]
    assert source.by_id("mp-1960") is None  # not in the snapshot, and nothing else asked
    assert build_mp_source().sources == []


def test_key_from_settings_adds_live_source_after_snapshot(monkeypatch, tmp_path, fake_rester):
    monkeypatch.setenv("MP_API_KEY", "secret")
    path = write_snapshot_json(LIVE_DOCS[:1], tmp_path / "snap.json")
    monkeypatch.setenv("SSEFLOWS_MP_SNAPSHOT", str(path))
    source = build_mp_source()
    assert [s.name for s in source.sources] == ["snapshot", "live"]
    assert fake_rester.calls == []  # constructing the live source contacts nothing
    assert source.by_id("mp-22905").source == "snapshot"
    assert fake_rester.calls == []
    assert source.by_id("mp-1960").source == "live"
    assert fake_rester.calls[0] == ("init", "secret", False)
    assert build_mp_source(use_live=False).sources[0].name == "snapshot"
    assert len(build_mp_source(use_live=False).sources) == 1


def test_live_source_queries_only_needed_fields_and_caches(fake_rester):
    live = LiveSource("k")
    assert [e.material_id for e in live.by_formula("LiCl")] == ["mp-22905"]
    assert live.by_formula("LiCl")[0].band_gap == pytest.approx(6.33)
    searches = [c for c in fake_rester.calls if c[0] == "search"]
    assert len(searches) == 1  # second query served from the cache
    assert "structure" in searches[0][4] and "density" not in searches[0][4]
    assert live.by_id("mp-1960").structure.composition.reduced_formula == "Li2O"


def test_chain_first_hit_wins(fake_rester, tmp_path):
    path = write_snapshot_json([raw_summary("mp-22905", licl(), 0.01, 6.0)], tmp_path / "s.json")
    chain = ChainSource([SnapshotSource(open_snapshot(str(path))), LiveSource("k")])
    assert chain.by_id("mp-22905").energy_above_hull == pytest.approx(0.01)
    assert chain.by_formula("LiCl")[0].source == "snapshot"
    assert fake_rester.calls == []
    assert chain.by_formula("Li2O")[0].source == "live"


def test_fill_snapshot_by_id_and_chemsys(fake_rester):
    store = MemoryStore(collection_name="mp_snapshot")
    assert fill_snapshot(store, "k", chemsys=["Li-Cl"]) == 1
    assert fill_snapshot(store, "k", mp_ids=["mp-1960"], chemsys=["Li-Cl"]) == 2
    assert {d["material_id"] for d in store.query()} == {"mp-1960", "mp-22905"}
    with pytest.raises(ConfigurationError, match="at least one"):
        fill_snapshot(store, "k")
    with pytest.raises(ConfigurationError, match="MP_API_KEY"):
        fill_snapshot(store, "", mp_ids=["mp-1960"])


# --- CLI ------------------------------------------------------------------------------


def test_cli_snapshot_without_key_fails_clearly(no_live, tmp_path):
    result = CliRunner().invoke(
        app, ["mp", "snapshot", "--mp-id", "mp-1960", "--out", str(tmp_path / "s.json")]
    )
    assert result.exit_code == 2
    assert "MP_API_KEY is not set" in result.output
    assert not (tmp_path / "s.json").exists()


def test_cli_snapshot_writes_json_that_open_snapshot_reads(monkeypatch, tmp_path, fake_rester):
    monkeypatch.setenv("MP_API_KEY", "secret")
    out = tmp_path / "snap.json"
    result = CliRunner().invoke(
        app,
        [
            "mp",
            "snapshot",
            "--mp-id",
            "mp-1960",
            "--chemsys",
            "Li-Cl",
            "--out",
            str(out),
            "--no-entries",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "2 MP summary documents" in result.output
    source = SnapshotSource(open_snapshot(str(out)))
    assert source.by_id("mp-1960").band_gap == pytest.approx(4.99)
    assert source.by_formula("LiCl")[0].material_id == "mp-22905"


def test_cli_show_matches_a_structure_file(tmp_path, no_live):
    snap = write_snapshot_json(LIVE_DOCS, tmp_path / "snap.json")
    cif = tmp_path / "LiCl_candidate.cif"
    bigger = licl()
    bigger.scale_lattice(bigger.volume * 1.05)
    bigger.to(filename=str(cif))
    result = CliRunner().invoke(app, ["mp", "show", str(cif), "--snapshot", str(snap), "--json"])
    assert result.exit_code == 0, result.output
    shown = json.loads(result.output)
    assert shown["mp_id"] == "mp-22905" and shown["status"] == "passed"
    assert shown["value_source"] == "snapshot"


def test_live_api_problem_names_the_host_and_no_exception_text():
    """A closed port answers at once with a refusal: one short sentence, cached."""
    from sseflows.gates.mp.sources import live_api_problem

    live_api_problem.cache_clear()
    problem = live_api_problem("http://127.0.0.1:1/", 2.0)
    assert problem == "Materials Project API unreachable (127.0.0.1:1: connection failed)"
    assert live_api_problem.cache_info().currsize == 1
    live_api_problem.cache_clear()


def test_live_source_that_stops_answering_becomes_unavailable(monkeypatch):
    """The API went away after the check: the source answers nothing and says why."""
    import requests

    from sseflows.gates.mp.sources import UNREACHABLE, live_api_problem

    class DownRester:
        def __init__(self, *args, **kwargs):
            raise requests.ConnectionError("HTTPSConnectionPool(host='x', port=443): refused")

    monkeypatch.setattr(mp_api.client, "MPRester", DownRester)
    live = LiveSource("k", "http://127.0.0.1:1/")
    assert live.by_formula("LiCl") == [] and live.by_id("mp-1960") is None
    assert live.unavailable == [UNREACHABLE]
    assert ChainSource([live]).unavailable == [UNREACHABLE]
    live_api_problem.cache_clear()
