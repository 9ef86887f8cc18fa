"""The QE NEB stage on the ML engine's limiting hop (issue 13 §2): the ML NEB over every hop
first, then a job replacing itself by the QE flow on that NEB's limiting hop, or on
``hop_index`` with the fallback sentence; ``hop_choice="index"`` keeps the one-hop flow.
No pw.x runs here: it is deliberately missing, so the QE flow stops at the first pw.x step
with a failed document that still records the hop it was built for."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pytest
from jobflow import Flow, Job, JobStore, run_locally
from maggma.stores import MemoryStore
from monty.json import MSONable
from pymatgen.core import Lattice, Structure

from sseflows.core.candidate import Candidate
from sseflows.core.documents import HopBarrierDoc
from sseflows.core.errors import ConfigurationError
from sseflows.core.hops import enumerate_li_hops
from sseflows.core.maker import NebSeeded
from sseflows.core.neb import NebDoc
from sseflows.data.prototypes import pymatgen_structure
from sseflows.flows.approximant import final_output
from sseflows.flows.tiers import (
    ML_HOPS_FOR,
    limiting_hop_tier,
    make_tier_flow,
    ml_engine_available,
    ml_hops_neb,
    ml_hops_result_key,
    tier_seeds,
)
from sseflows.qe.flows import QeNebFlowMaker
from sseflows.qe.makers import QeNebMaker, QeRelaxMaker
from sseflows.qe.neb_input import NebPathSettings
from sseflows.qe.sets import PwInputGenerator

MAX_HOP = 3.5
"""Li2O (primitive) has two distinct hops up to 3.5 Å: 2.33 Å and 3.29 Å."""

needs_ml = pytest.mark.skipif(not ml_engine_available(), reason="CHGNet is not installed")


def _li2o() -> Candidate:
    return Candidate.from_structure(pymatgen_structure("Li2O"), "li2o")


def _tiny_maker(work_dir: Path, pseudo_dir: Path, **kwargs) -> QeNebFlowMaker:
    """tests/qe/test_flows.py's tiny protocol (20 Ry, Γ, 3 images), no convergence or cell
    relaxation, on the two shortest hops of Li2O."""
    g = {"pseudo_dir": str(pseudo_dir), "ecutwfc": 20, "dual": 4, "kspacing": None}
    return QeNebFlowMaker(
        convergence_maker=None,
        cell_relax_maker=None,
        endpoint_relax_maker=QeRelaxMaker(
            generator=PwInputGenerator(calculation="relax", **g), launcher=""
        ),
        neb_maker=QeNebMaker(
            generator=PwInputGenerator(**g), path=NebPathSettings(n_images=3), launcher=""
        ),
        work_dir=str(work_dir),
        **{"min_length": 4.0, "max_atoms": 120, "max_hop_length": MAX_HOP, **kwargs},
    )


def _ml_doc(limiting: int | None) -> dict:
    """A hand-made ML document over both hops of Li2O naming ``limiting`` (None: the hops
    did not percolate, a failed document)."""
    hops = enumerate_li_hops(_li2o().structure, MAX_HOP)
    entries = [
        HopBarrierDoc(
            **hop.to_doc().model_dump(),
            index=i,
            status="completed",
            barrier_ev=0.3 + i,
            barrier_back_ev=0.3 + i,
            percolation_barrier_ev=0.3 + i,
        )
        for i, hop in enumerate(hops)
    ]
    if limiting is None:
        reason = (
            "Candidate 'li2o': the 2 distinct Li hops up to 3.5 Å do not connect into a "
            "percolating network, so no NEB barrier is reported."
        )
        doc = NebDoc(candidate_id="li2o", engine="chgnet", status="failed", reason=reason)
    else:
        doc = NebDoc(
            candidate_id="li2o", engine="chgnet", status="completed", reason="ok",
            limiting_hop_index=limiting, e1d_ev=entries[limiting].percolation_barrier_ev,
        )  # fmt: skip
    return doc.model_copy(update={"hops": entries}).model_dump()


def _store() -> JobStore:
    return JobStore(MemoryStore(), additional_stores={"data": MemoryStore()})


def _run_choice(maker: QeNebFlowMaker, ml_doc: dict | None) -> tuple[Job, NebDoc, JobStore]:
    """The hop-choosing job alone, tagged with a result key as the planner tags it, run
    with its replacement (the QE flow, which stops where pw.x is missing)."""
    choose = limiting_hop_tier(maker, _li2o(), ml_doc, {})
    flow = Flow([choose], output=choose.output)
    flow.update_metadata({"result_key": "stagekey", "candidate_id": "li2o"})
    store = _store()
    responses = run_locally(flow, store=store, create_folders=False, log=False)
    return choose, final_output(responses, choose.output), store


@needs_ml
def test_limiting_choice_puts_the_ml_neb_over_every_hop_first(tmp_path, pseudo_dir):
    """hop_choice 'limiting' (the default): the ML NEB over every hop with the QE Maker's
    hops, supercell and images (CHGNet, linear images) runs first, then the job choosing
    the hop; the flow's output is that job's (the QE document, once replaced)."""
    maker = _tiny_maker(tmp_path, pseudo_dir, symprec=0.05)
    assert maker.hop_choice == "limiting"
    flow = make_tier_flow(maker, _li2o())
    assert isinstance(flow, Flow)
    ml, choose = flow.jobs
    assert ml.name == "neb ml all hops li2o" and choose.name == "neb limiting hop li2o"
    assert flow.output.uuid == choose.uuid
    assert choose.function_args[2].uuid == ml.uuid  # it reads the ML document
    ml_maker = ml.function_args[0]
    assert (ml_maker.hops, ml_maker.image_method, ml_maker.force_field_name) == (
        "all",
        "linear",
        "CHGNet",
    )
    qe_side = (maker.max_hop_length, maker.symprec, maker.min_length, maker.max_atoms, 3)
    assert (
        ml_maker.max_hop_length, ml_maker.symprec, ml_maker.min_length, ml_maker.max_atoms,
        ml_maker.n_images,
    ) == qe_side  # fmt: skip


def test_the_qe_flow_is_built_for_the_ml_limiting_hop(tmp_path, pseudo_dir, monkeypatch):
    """(a) An ML document naming limiting hop 1: the QE flow replacing the job computes hop
    1 (every step's Maker, the hop of its document), records that it came from the ML
    limiting hop, and keeps the job's result key (the planner's) on every job."""
    monkeypatch.setenv("SSEFLOWS_PW_CMD", "no-such-pw.x")
    maker = _tiny_maker(tmp_path, pseudo_dir, image_method="linear")
    choose, doc, store = _run_choice(maker, _ml_doc(limiting=1))
    hops = enumerate_li_hops(_li2o().structure, MAX_HOP)
    assert hops[0].length_angstrom < hops[1].length_angstrom - 0.5  # two distinct hops
    assert doc.engine == "qe" and doc.status == "failed" and "no-such-pw.x" in doc.reason
    assert doc.settings["hop_index"] == 1 and doc.limiting_hop_index == 1
    assert doc.hop is not None
    assert doc.hop.length_angstrom == pytest.approx(hops[1].length_angstrom)
    assert doc.hop_fallback is None and doc.settings["hop_choice"] == "limiting"
    rows = list(store.docs_store.query({"metadata.candidate_id": "li2o"}))
    steps = [r for r in rows if r["uuid"] != choose.uuid]
    assert len(steps) == 6  # the QE protocol's jobs, all run in place of the choice
    assert {r["metadata"]["result_key"] for r in rows} == {"stagekey"}
    (stored,) = [r["output"] for r in rows if (r["output"] or {}).get("tier") == "neb"]
    assert stored["limiting_hop_index"] == 1 and stored["settings"]["hop_index"] == 1


def test_the_ml_band_seed_follows_the_limiting_hop(tmp_path, pseudo_dir):
    """With image method auto (CHGNet installed) the replacement's ML band is that of the
    limiting hop too, and so is its BVSE path; nothing is run."""
    maker = _tiny_maker(tmp_path, pseudo_dir)
    response = limiting_hop_tier.original(maker, _li2o(), _ml_doc(limiting=1), {})
    replacement = response.replace
    assert isinstance(replacement, Flow)
    makers = [
        arg
        for j in replacement.iterflow()
        for arg in j[0].function_args
        if isinstance(arg, NebSeeded)
    ]
    assert makers and {m.hop_index for m in makers} == {1}
    (neb,) = [j for j, _ in replacement.iterflow() if j.name == "neb_step"]
    path = neb.function_args[6]  # the BVSE path handed to the band: hop 1's
    hop = enumerate_li_hops(_li2o().structure, MAX_HOP)[1]
    assert path is not None
    assert np.linalg.norm(np.subtract(path[-1], path[0])) == pytest.approx(hop.length_angstrom)
    if ml_engine_available():
        names = [j.name for j, _ in replacement.iterflow()]
        assert names[0] == "ml band seed"


def test_without_a_limiting_hop_the_stage_computes_hop_index_and_says_why(
    tmp_path, pseudo_dir, monkeypatch
):
    """(b) An ML document that failed (its hops do not percolate), and no ML document at
    all: the QE flow computes hop_index (0) and records the fallback in one sentence."""
    monkeypatch.setenv("SSEFLOWS_PW_CMD", "no-such-pw.x")
    maker = _tiny_maker(tmp_path, pseudo_dir, image_method="linear")
    hop0 = enumerate_li_hops(_li2o().structure, MAX_HOP)[0]
    for ml_doc, start, end in (
        (
            _ml_doc(limiting=None),
            "The chgnet NEB over every hop named no limiting hop (the 2 distinct Li hops",
            "so hop 0 (hop_index) was computed instead.",
        ),
        (
            None,
            "The ML NEB over every hop left no document",
            "so hop 0 (hop_index) was computed instead of its limiting hop.",
        ),
    ):
        _, doc, _ = _run_choice(maker, ml_doc)
        assert doc.settings["hop_index"] == 0 and doc.limiting_hop_index is None
        assert doc.hop is not None
        assert doc.hop.length_angstrom == pytest.approx(hop0.length_angstrom)
        assert doc.hop_fallback is not None and doc.hop_fallback.startswith(start)
        assert doc.hop_fallback.endswith(end)
        assert doc.hop_fallback.count(". ") == 0  # one sentence


def test_index_choice_keeps_the_one_hop_flow(tmp_path, pseudo_dir):
    """(c) hop_choice 'index': no ML NEB over the hops; the flow is the QE protocol on
    hop_index (with the ML band seed upstream when image method auto wants one)."""
    maker = _tiny_maker(tmp_path, pseudo_dir, hop_choice="index", hop_index=1)
    for method in ("linear", "auto"):
        flow = make_tier_flow(replace(maker, image_method=method), _li2o())
        names = [j.name for j, _ in flow.iterflow()]
        assert not any("all hops" in n or "limiting hop" in n for n in names)
        assert ("ml band seed" in names) == (method == "auto" and ml_engine_available())
        hops = {a.hop_index for j, _ in flow.iterflow() for a in j.function_args
                if isinstance(a, NebSeeded)}  # fmt: skip
        assert hops == {1}
    assert "limiting_hop_index" not in tier_seeds(maker, _li2o(), ml_doc=_ml_doc(limiting=0))
    flow = maker.make(_li2o(), limiting_hop_index=0)  # even given, "index" keeps hop_index
    assert {a.hop_index for j, _ in flow.iterflow() for a in j.function_args
            if isinstance(a, NebSeeded)} == {1}  # fmt: skip
    with pytest.raises(ConfigurationError, match="hop_choice must be one of limiting, index"):
        replace(maker, hop_choice="shortest").make(_li2o())


def test_the_ml_neb_files_itself_under_a_key_of_its_own():
    """The ML NEB over every hop is a NEB document (tier neb, its engine) under a result key
    derived from the stage's, naming the stage's key: never the QE stage's document. A
    structure without Li fails at once, before the potential loads."""
    from sseflows.flows.tiers import ml_hops_maker

    nacl = Structure(Lattice.cubic(4.0), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    no_li = Candidate.from_structure(nacl, "x")
    ml = ml_hops_neb(ml_hops_maker(QeNebFlowMaker(max_hop_length=MAX_HOP)), no_li)
    flow = Flow([ml])
    flow.update_metadata({"result_key": "stagekey", "campaign": "c"})
    store = _store()
    run_locally(flow, store=store, create_folders=False, log=False)
    (row,) = store.docs_store.query({"uuid": ml.uuid})
    assert row["output"]["tier"] == "neb" and row["output"]["engine"] == "chgnet"
    assert row["output"]["status"] == "failed" and "no Li" in row["output"]["reason"]
    assert row["metadata"]["result_key"] == ml_hops_result_key("stagekey") != "stagekey"
    assert row["metadata"][ML_HOPS_FOR] == "stagekey" and row["metadata"]["campaign"] == "c"


@dataclass
class _HandMadeMl(MSONable):
    """An ML Maker whose NEB over every hop is a given document (None: it must not run)."""

    doc: dict | None
    image_method: str = "linear"
    force_field_name: str = "CHGNet"
    max_hop_length: float = MAX_HOP
    symprec: float = 0.1
    hop_index: int = 0
    n_images: int = 3
    min_length: float = 4.0
    max_atoms: int = 120
    replace_lower_endpoint: bool = False
    hops: str = "all"

    def compute(self, candidate: Candidate, li_path_cart=None, li_paths_cart=None) -> NebDoc:
        if self.doc is None:
            raise RuntimeError("the ML NEB over every hop ran a second time")
        return NebDoc.model_validate(self.doc)


def test_a_rerun_stage_reuses_the_stored_ml_neb_over_every_hop(tmp_path, pseudo_dir, monkeypatch):
    """After the QE flow of a stage failed (pw.x missing here, as a crash), the stage run
    again in the same store does not recompute its ML NEB over every hop: the completed
    document stored under the derived key is taken (metadata names the job that computed
    it) and the QE flow again gets that document's limiting hop (hop 1, not hop_index 0)."""
    from sseflows.flows.tiers import REUSED_FROM, limiting_hop_flow

    monkeypatch.setenv("SSEFLOWS_PW_CMD", "no-such-pw.x")
    maker = _tiny_maker(tmp_path, pseudo_dir, image_method="linear")
    store = _store()
    runs = []
    for ml_maker in (_HandMadeMl(_ml_doc(limiting=1)), _HandMadeMl(None)):
        flow = limiting_hop_flow(maker, _li2o(), {}, ml_maker=ml_maker)
        flow.update_metadata({"result_key": "stagekey", "candidate_id": "li2o"})
        responses = run_locally(flow, store=store, create_folders=False, log=False)
        runs.append((flow, final_output(responses, flow.output)))
    for _, qe in runs:
        assert qe.engine == "qe" and qe.status == "failed"
        assert qe.limiting_hop_index == 1 == qe.settings["hop_index"]
    store.connect()
    key = ml_hops_result_key("stagekey")
    first, second = (next(iter(store.docs_store.query({"uuid": flow[0].uuid}))) for flow, _ in runs)
    assert first["metadata"]["result_key"] == second["metadata"]["result_key"] == key
    assert REUSED_FROM not in first["metadata"]
    assert second["metadata"][REUSED_FROM] == first["uuid"]
    assert second["output"]["status"] == "completed"
    assert second["output"]["limiting_hop_index"] == 1
    assert [h["barrier_ev"] for h in second["output"]["hops"]] == [0.3, 1.3]


@needs_ml
@pytest.mark.slow
def test_the_stage_end_to_end_keeps_the_two_documents_apart(tmp_path, pseudo_dir, monkeypatch):
    """The whole stage as the planner runs it (result key on the flow), with a real CHGNet
    NEB over both hops of Li2O (tiny settings, under a minute) and pw.x missing: the ML
    document is a chgnet NEB document under a key of its own naming the stage's; the
    stage's newest NEB document (what ``campaign run`` and resume read) is the QE one,
    built on the ML limiting hop (CHGNet: the 2.33 Å hop, while hop_index is set to 1)."""
    from sseflows.campaign.plan import stored_docs_by_key, tier_docs_by_key
    from sseflows.flows.tiers import default_ml_seed_maker, limiting_hop_flow

    monkeypatch.setenv("SSEFLOWS_PW_CMD", "no-such-pw.x")
    maker = _tiny_maker(tmp_path, pseudo_dir, image_method="linear", hop_index=1)
    ml_maker = replace(
        default_ml_seed_maker(), fmax_ev_per_angstrom=0.1, max_steps=200, endpoint_max_steps=100
    )
    flow = limiting_hop_flow(maker, _li2o(), {}, ml_maker=ml_maker)
    flow.update_metadata({"result_key": "stagekey", "candidate_id": "li2o"})
    store = _store()
    responses = run_locally(flow, store=store, create_folders=False, log=False)
    qe = final_output(responses, flow.output)
    store.connect()
    (ml,) = stored_docs_by_key(store, [ml_hops_result_key("stagekey")], "neb")[
        ml_hops_result_key("stagekey")
    ]
    assert ml["engine"] == "chgnet" and ml["settings"]["hops"] == "all"
    assert [h["index"] for h in ml["hops"]] == [0, 1]
    stage = stored_docs_by_key(store, ["stagekey"], "neb")["stagekey"]
    assert {d["engine"] for d in stage} == {"qe"}  # only the QE document is the stage's
    newest = tier_docs_by_key(store, {"li2o": "stagekey"}, "neb")["li2o"]
    assert newest["engine"] == "qe" and newest["reason"] == qe.reason
    lim = ml["limiting_hop_index"]
    assert ml["status"] == "completed" and lim == 0, ml["reason"]
    assert qe.limiting_hop_index == lim == qe.settings["hop_index"] != maker.hop_index
    assert qe.hop is not None and qe.hop_fallback is None
    assert qe.hop.length_angstrom == pytest.approx(ml["hops"][lim]["length_angstrom"])
