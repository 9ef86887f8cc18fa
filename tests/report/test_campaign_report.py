"""``sseflows report NAME``: one self-contained page whose figures load in Chromium and whose
tables hold exactly the stored numbers."""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import uuid
from html.parser import HTMLParser
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sseflows.campaign.registry import (
    open_campaigns_store,
    open_rounds_store,
    record_campaign,
)
from sseflows.cli import app
from sseflows.core.label import Label
from sseflows.core.neb import NebDoc
from sseflows.data.label_store import open_label_store
from sseflows.gates.bvse.schemas import BVSEDoc
from sseflows.gates.mp.schemas import MPGateDoc
from sseflows.md.schemas import ConductivityDoc, TemperatureResult
from sseflows.rank.schemas import RankDoc
from sseflows.stores import build_job_store

FIGURES = ("funnel", "predicted", "bvse_neb", "neb_profiles", "arrhenius", "learning_curve")


def _rank(cid: str, formula: str, rank: int, p: float, sd: float, mu: float) -> RankDoc:
    return RankDoc(candidate_id=cid, formula=formula, status="completed", model_version="abc123",
                   p_superionic=p, p_superionic_sd=sd, log10_sigma=mu, log10_sigma_sd=0.4,
                   log10_sigma_lo=mu - 1.1, log10_sigma_hi=mu + 0.9, novelty=0.8 + rank / 10,
                   rank=rank)  # fmt: skip


def _neb(cid: str, energies: list[float], engine: str = "chgnet") -> NebDoc:
    return NebDoc(candidate_id=cid, formula=cid, status="completed", engine=engine,
                  energies_ev=energies, barrier_ev=max(energies), converged=True,
                  reaction_coordinate_angstrom=[0.6 * i for i in range(len(energies))],
                  n_images=len(energies) - 2)  # fmt: skip


def _md() -> ConductivityDoc:
    temps, ds = [600.0, 800.0, 1000.0], [2.1e-7, 1.3e-6, 4.0e-6]
    return ConductivityDoc(
        candidate_id="Li3PS4", formula="Li3PS4", status="completed", engine="chgnet",
        temperatures_k=temps, diffusivities_cm2_per_s=ds, n_fitted=3,
        per_temperature=[TemperatureResult(temperature_k=t, diffusivity_cm2_per_s=d,
                                           diffusivity_err_cm2_per_s=0.1 * d, used_in_fit=True)
                         for t, d in zip(temps, ds, strict=True)],
        ea_ev=0.31, ea_err_ev=0.02, d0_cm2_per_s=8.1e-5, rt_temperature_k=300.0,
        d_rt_cm2_per_s=5.1e-10, sigma_rt_s_per_cm=1.2e-4,
        sigma_rt_range_s_per_cm=(4.0e-5, 3.6e-4),
    )  # fmt: skip


def _store_campaign(db: Path, record: bool = True, rounds: bool = True) -> dict:
    """A small campaign written straight into the stores; the documents by table."""
    store = build_job_store(str(db))
    store.connect()
    ranks = [_rank("Li3PS4", "Li3PS4", 1, 0.91, 0.05, -3.2),
             _rank("Li2O", "Li2O", 2, 0.42, 0.11, -6.5),
             _rank("LiCl", "LiCl", 3, 0.13, 0.07, -8.0)]  # fmt: skip
    gates = [
        MPGateDoc(candidate_id="Li2O", formula="Li2O", status="passed", e_hull_ev_per_atom=0.0),
        BVSEDoc(candidate_id="Li2O", formula="Li2O", status="passed", gate_ea_ev=0.27,
                e1d_ev=0.27),
        BVSEDoc(candidate_id="LiCl", formula="LiCl", status="passed", gate_ea_ev=0.6, e1d_ev=0.6),
    ]  # fmt: skip
    nebs = [_neb("Li2O", [0.0, 0.08, 0.22, 0.09, 0.0]), _neb("LiCl", [0.0, 0.31, 0.54, 0.3, 0.0])]
    docs = [*ranks, *gates, *nebs, _md()]
    old_rank = _rank("Li2O", "Li2O", 1, 0.2, 0.1, -7.0).model_copy(update={"model_version": "0ld"})
    uuids = []
    for doc in [*docs, old_rank]:
        job_uuid = str(uuid.uuid4())
        uuids.append(job_uuid)
        store.docs_store.update([{"uuid": job_uuid, "index": 1, "metadata": {},
                                  "output": json.loads(doc.model_dump_json())}],
                                key=["uuid", "index"])  # fmt: skip
    # a document of another campaign, never shown
    other = json.loads(_neb("LiF", [0.0, 0.9, 0.0]).model_dump_json())
    store.docs_store.update(
        [{"uuid": "other", "index": 1, "metadata": {}, "output": other}], key=["uuid", "index"]
    )
    funnel = {"candidates": 3, "ranking": 3, "BVSE gate (E_a)": 2}
    if record:
        record_campaign(open_campaigns_store(str(db)), "tiny", uuids[: len(docs)], funnel,
                        {"neb": ["Li2O", "LiCl"]}, ["Li3PS4", "Li2O", "LiCl"])  # fmt: skip
    with open_label_store(str(db)) as labels:
        labels.add([Label(label_id="obelix:x", formula="Li2O", sigma_rt_s_per_cm=1e-9,
                          source="obelix")])  # fmt: skip
    if rounds:
        store_rounds = open_rounds_store(str(db))
        store_rounds.connect()
        neb_uuids, md_uuid = uuids[len(ranks) + len(gates) : -2], uuids[-2]
        store_rounds.update([  # as sseflows.campaign.loop stores them
            {"round_id": "tiny:1", "campaign": "tiny", "round": 1,
             "model": {"version": "0ld", "n_labels": 10},
             "n_ranked": 3, "n_eligible": 3,
             "picks": [{"candidate_id": "Li2O", "score": 0.4},
                       {"candidate_id": "LiCl", "score": 0.1}],
             "gates": {"Li2O": {"status": "passed"}, "LiCl": {"status": "passed"}},
             "results": {"neb": [{"id": c, "status": "completed", "job_uuid": u}
                                 for c, u in zip(("Li2O", "LiCl"), neb_uuids, strict=True)]},
             "hits": []},
            {"round_id": "tiny:2", "campaign": "tiny", "round": 2,
             "model": {"version": "abc123", "n_labels": 12},
             "n_ranked": 3, "n_eligible": 1, "picks": [{"candidate_id": "Li3PS4", "score": 0.9}],
             "gates": {"Li3PS4": {"status": "unknown"}},
             "results": {"md": [{"id": "Li3PS4", "status": "completed", "job_uuid": md_uuid}]},
             "hits": ["Li3PS4"]},
        ], key="round_id")  # fmt: skip
    return {"rank": ranks, "neb": nebs, "md": _md(), "funnel": funnel}


class Tables(HTMLParser):
    """``{table id: [{key: data-value}]}``, the figures' images and the no-data notes."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[dict[str, str]]] = {}
        self.images: list[dict[str, str]] = []
        self.no_data: list[str] = []
        self._table: str | None = None
        self.external: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "table":
            self._table = a["data-table"]
            self.tables[self._table] = []
        elif tag == "tr" and self._table and "data-key" not in a:
            self.tables[self._table].append({})
        elif tag == "td" and self._table:
            self.tables[self._table][-1][a["data-key"]] = a["data-value"]
        elif tag == "img":
            self.images.append(a)
        elif tag == "p" and "no-data" in a.get("class", ""):
            self.no_data.append(a["data-figure"])
        if tag in ("script", "link") or (tag == "img" and not a["src"].startswith("data:")):
            self.external.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self._table = None


def _parse(page: str) -> Tables:
    parser = Tables()
    parser.feed(page)
    for rows in parser.tables.values():  # drop the header row's empty dict
        rows[:] = [r for r in rows if r]
    return parser


def _num(value: str) -> float | None:
    return None if value == "" else float(value)


def _render(tmp_path: Path, record: bool = True) -> tuple[Path, dict, Tables]:
    db = tmp_path / "db"
    stored = _store_campaign(db, record)
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["report", "tiny", "--out", str(out), "--store", str(db)])
    assert result.exit_code == 0, result.output
    page = out / "tiny.html"
    return page, stored, _parse(page.read_text())


def test_report_tables_equal_the_stored_documents(tmp_path: Path) -> None:
    _, stored, parsed = _render(tmp_path)
    assert not parsed.external  # self-contained: no script, style sheet or remote image
    assert {i["data-figure"] for i in parsed.images} == set(FIGURES)
    assert not parsed.no_data
    ranked = parsed.tables["ranked"]
    assert [r["candidate_id"] for r in ranked] == ["Li3PS4", "Li2O", "LiCl"]
    for row, doc in zip(ranked, stored["rank"], strict=True):
        for key in ("p_superionic", "p_superionic_sd", "log10_sigma", "log10_sigma_lo",
                    "log10_sigma_hi", "novelty"):  # fmt: skip
            assert _num(row[key]) == getattr(doc, key)
    funnel = [r for r in parsed.tables["funnel"] if r["scope"] == "campaign"]
    assert {r["stage"]: int(r["candidates"]) for r in funnel} == stored["funnel"]
    assert {r["scope"] for r in parsed.tables["funnel"]} == {"campaign", "round 1", "round 2"}
    round_2 = {r["stage"]: int(r["candidates"]) for r in parsed.tables["funnel"]
               if r["scope"] == "round 2"}  # fmt: skip
    assert round_2 == {"ranked": 3, "eligible (not computed)": 1, "picked": 1,
                       "through the gates": 1, "md completed": 1, "hits": 1}  # fmt: skip
    profiles = parsed.tables["neb_profiles"]
    for neb in stored["neb"]:
        rows = [r for r in profiles if r["candidate_id"] == neb.candidate_id]
        assert [_num(r["energy_ev"]) for r in rows] == neb.energies_ev
        assert [_num(r["reaction_coordinate_angstrom"]) for r in rows] == (
            neb.reaction_coordinate_angstrom
        )
    assert all(r["candidate_id"] != "LiF" for r in profiles)  # another campaign's
    bvse = {r["candidate_id"]: r for r in parsed.tables["bvse_neb"]}
    assert _num(bvse["Li2O"]["bvse_ea_ev"]) == 0.27 and _num(bvse["LiCl"]["bvse_ea_ev"]) == 0.6
    assert _num(bvse["Li2O"]["neb_barrier_ev"]) == 0.22
    md = stored["md"]
    (fit,) = parsed.tables["arrhenius_fits"]
    assert _num(fit["ea_ev"]) == md.ea_ev and _num(fit["d0_cm2_per_s"]) == md.d0_cm2_per_s
    assert _num(fit["sigma_rt_s_per_cm"]) == md.sigma_rt_s_per_cm
    assert (_num(fit["sigma_rt_lo_s_per_cm"]), _num(fit["sigma_rt_hi_s_per_cm"])) == (
        md.sigma_rt_range_s_per_cm
    )
    points = parsed.tables["arrhenius_points"]
    assert [_num(p["diffusivity_cm2_per_s"]) for p in points] == md.diffusivities_cm2_per_s
    predicted = {(r["candidate_id"], r["label_kind"]): r for r in parsed.tables["predicted"]}
    assert _num(predicted["Li3PS4", "computed"]["label_log10_sigma"]) == math.log10(1.2e-4)
    assert _num(predicted["Li2O", "measured"]["label_log10_sigma"]) == -9.0
    assert _num(predicted["Li2O", "measured"]["predicted_lo"]) == -6.5 - 1.1
    curve = parsed.tables["learning_curve"]
    assert [int(r["picked_so_far"]) for r in curve] == [2, 3]
    assert [int(r["hits_so_far"]) for r in curve] == [0, 1]
    assert [r["model_version"] for r in curve] == ["0ld", "abc123"]
    assert _num(curve[0]["lowest_barrier_ev"]) == 0.22


def test_a_loop_campaign_without_a_record_is_found_by_its_rounds(tmp_path: Path) -> None:
    _, stored, parsed = _render(tmp_path, record=False)
    assert not parsed.no_data
    assert {r["scope"] for r in parsed.tables["funnel"]} == {"round 1", "round 2"}
    # the RankDocs of the last round's model, not the older model's
    assert [(r["candidate_id"], r["model_version"]) for r in parsed.tables["ranked"]] == [
        (d.candidate_id, "abc123") for d in stored["rank"]
    ]
    assert {r["candidate_id"] for r in parsed.tables["neb_barriers"]} == {"Li2O", "LiCl"}
    assert {r["candidate_id"] for r in parsed.tables["bvse_neb"]} == {"Li2O", "LiCl"}
    assert [r["candidate_id"] for r in parsed.tables["arrhenius_fits"]] == ["Li3PS4"]


def test_missing_figures_say_no_data_and_unknown_names_are_one_sentence(tmp_path: Path) -> None:
    db = tmp_path / "db"
    record_campaign(open_campaigns_store(str(db)), "empty", [], {})
    result = CliRunner().invoke(app, ["report", "empty", "--out", str(tmp_path / "o"),
                                      "--store", str(db)])  # fmt: skip
    assert result.exit_code == 0, result.output
    parsed = _parse((tmp_path / "o" / "empty.html").read_text())
    assert not parsed.images
    assert set(parsed.no_data) == {*FIGURES, "ranked"}
    result = CliRunner().invoke(app, ["report", "nope", "--out", str(tmp_path / "o"),
                                      "--store", str(db)])  # fmt: skip
    assert result.exit_code == 2
    assert "No campaign named 'nope'" in result.output and "empty" in result.output


CHECK_SCRIPT = """<script>
window.addEventListener('load', () => {
  const imgs = [...document.querySelectorAll('img')];
  const out = document.createElement('pre');
  out.id = 'image-check';
  out.textContent = JSON.stringify(imgs.map(i => ({figure: i.dataset.figure,
    complete: i.complete, width: i.naturalWidth, height: i.naturalHeight})));
  document.body.appendChild(out);
});
</script>"""


@pytest.mark.skipif(
    shutil.which("chromium") is None,
    reason="Chromium is not installed (Debian package 'chromium'; 'make install' adds it as root)",
)
def test_every_figure_loads_in_headless_chromium(tmp_path: Path) -> None:
    page, _, parsed = _render(tmp_path)
    probe = tmp_path / "probe.html"  # the page plus a script that reports each image's size
    probe.write_text(page.read_text().replace("</body>", CHECK_SCRIPT + "</body>"))
    dump = subprocess.run(
        ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-dev-shm-usage", f"--user-data-dir={tmp_path / 'profile'}",
         "--run-all-compositor-stages-before-draw", "--virtual-time-budget=10000",
         "--dump-dom", probe.as_uri()],
        capture_output=True, text=True, timeout=180, check=True,
    ).stdout  # fmt: skip
    start = dump.index('<pre id="image-check">') + len('<pre id="image-check">')
    text = dump[start : dump.index("</pre>", start)]
    images = json.loads(text.replace("&quot;", '"').replace("&amp;", "&"))
    assert (
        {i["figure"] for i in images} == set(FIGURES) == {i["data-figure"] for i in parsed.images}
    )
    for image in images:
        assert image["complete"] and image["width"] > 0 and image["height"] > 0, image
    # the dumped DOM still holds the stored numbers
    assert _parse(dump).tables["ranked"] == parsed.tables["ranked"]


def test_campaign_run_records_the_campaign_the_report_reads(tmp_path: Path) -> None:
    from pymatgen.io.cif import CifWriter

    from sseflows.campaign.options import CampaignOptions
    from sseflows.campaign.run import run_campaign_spec
    from sseflows.data.prototypes import PROTOTYPES
    from tests.conftest import DEMO_SNAPSHOT

    pool = tmp_path / "pool"
    pool.mkdir()
    for name in ("LiCl", "NaCl"):
        CifWriter(PROTOTYPES[name]()).write_file(pool / f"{name}.cif")
    spec = tmp_path / "spec.yaml"
    spec.write_text("name: gates-only\ngates:\n  mp: {e_hull_max_ev_per_atom: 0.07}\n")
    db = str(tmp_path / "db")
    options = CampaignOptions(
        paths=[pool], store_spec=db, mp_snapshot=str(DEMO_SNAPSHOT), workers=1
    )
    report = run_campaign_spec(spec, options)
    result = CliRunner().invoke(app, ["report", "gates-only", "--out", str(tmp_path / "o"),
                                      "--store", db])  # fmt: skip
    assert result.exit_code == 0, result.output
    parsed = _parse((tmp_path / "o" / "gates-only.html").read_text())
    funnel = {r["stage"]: int(r["candidates"]) for r in parsed.tables["funnel"]}
    assert funnel == report.funnel
    assert "ranked" in parsed.no_data and "neb_profiles" in parsed.no_data
