"""What ``sseflows report NAME`` shows: a campaign's stored documents, gathered per figure.

The campaign is found by its record in the ``campaigns`` collection
(:mod:`sseflows.campaign.registry`); its tier documents are those of the record's job uuids,
newest per candidate and tier (per engine for NEB). Everything here is plain data (lists of
dicts of numbers); :mod:`sseflows.report.html` draws it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from jobflow import JobStore
from maggma.core import Store

from sseflows.campaign.registry import (
    campaign_names,
    load_campaign,
    open_campaigns_store,
    open_rounds_store,
)
from sseflows.core.documents import PROCEEDS
from sseflows.core.errors import ConfigurationError
from sseflows.data.label_store import LabelStore, normalise_formula, open_label_store
from sseflows.settings import load_settings
from sseflows.stores import build_job_store, redact

HIT_LOG10_SIGMA = -4.0
"""A computed σ_RT at or above 1e-4 S/cm counts as a hit in the learning curve."""


@dataclass
class CampaignReportData:
    """A campaign's numbers, one attribute per part of the report.

    Attributes:
        name: The campaign.
        store: Where it is stored (printable, credentials hidden).
        generated_at: When this was gathered (UTC, ISO).
        funnel: Stage → candidates left, as the last run recorded it.
        rounds: The stored rounds of the learning loop
            (:data:`~sseflows.campaign.registry.ROUNDS_COLLECTION`), oldest first.
        round_funnels: Each round's funnel (:func:`round_funnel`).
        ranked: One row per RankDoc (best first).
        predicted_vs_label: Predicted log10 σ with its interval beside a measured or
            computed log10 σ of the same candidate.
        bvse_vs_neb: BVSE E_a beside the NEB barrier, per candidate and NEB engine.
        neb_profiles: NEB bands (energies per image along the path).
        arrhenius: MD conductivity documents: per-temperature D, fit, σ_RT with its range.
        learning_curve: Per round: labels, picks so far, computed results and hits so far.
    """

    name: str
    store: str = ""
    generated_at: str = ""
    funnel: dict[str, int] = field(default_factory=dict)
    rounds: list[dict[str, Any]] = field(default_factory=list)
    round_funnels: dict[int, dict[str, int]] = field(default_factory=dict)
    ranked: list[dict[str, Any]] = field(default_factory=list)
    predicted_vs_label: list[dict[str, Any]] = field(default_factory=list)
    bvse_vs_neb: list[dict[str, Any]] = field(default_factory=list)
    neb_profiles: list[dict[str, Any]] = field(default_factory=list)
    arrhenius: list[dict[str, Any]] = field(default_factory=list)
    learning_curve: list[dict[str, Any]] = field(default_factory=list)


def _query(store: JobStore, criteria: dict[str, Any]) -> list[dict[str, Any]]:
    criteria = {"output.tier": {"$exists": True}} | criteria
    return [
        d["output"] | {"job_uuid": d.get("uuid")}
        for d in store.docs_store.query(criteria, properties=["output", "uuid"])
    ]


def campaign_docs(
    store: JobStore, name: str, uuids: Sequence[str], rounds: Sequence[dict[str, Any]] = ()
) -> list[dict[str, Any]]:
    """The tier documents of campaign ``name``, newest first (with ``job_uuid``): those of
    the jobs ``uuids`` (its record), those whose job metadata names the campaign (the
    FireWorks flow), and for the learning loop's ``rounds`` the NEB and MD results they
    list, the RankDocs of the last round's model and the gate documents of every candidate
    with a NEB result."""
    uuids = sorted(set(uuids) | {
        str(row["job_uuid"])
        for rnd in rounds
        for rows in (rnd.get("results") or {}).values()
        for row in rows
        if isinstance(row, dict) and row.get("job_uuid")
    })  # fmt: skip
    found: dict[tuple[str, str, str], dict[str, Any]] = {}

    def add(docs: list[dict[str, Any]]) -> None:
        for doc in docs:
            key = (str(doc.get("job_uuid")), doc["tier"], doc["candidate_id"])
            found.setdefault(key, doc)

    for start in range(0, len(uuids), 1000):
        add(_query(store, {"uuid": {"$in": uuids[start : start + 1000]}}))
    add(_query(store, {"metadata.campaign": name}))
    if rounds:
        version = (rounds[-1].get("model") or {}).get("version")
        if version:
            add(_query(store, {"output.tier": "rank", "output.model_version": version}))
        with_neb = sorted({d["candidate_id"] for d in found.values() if d["tier"] == "neb"})
        have = {(d["candidate_id"], d["tier"]) for d in found.values()}
        for tier in ("mp", "bvse"):
            missing = [c for c in with_neb if (c, tier) not in have]
            if missing:
                add(_query(store, {"output.tier": tier, "output.candidate_id": {"$in": missing}}))
    return sorted(found.values(), key=lambda o: str(o.get("created_at", "")), reverse=True)


def _newest(docs: list[dict[str, Any]], tier: str, by_engine: bool = False) -> list[dict]:
    seen: set[tuple[str, str]] = set()
    out = []
    for doc in docs:
        if doc.get("tier") != tier:
            continue
        key = (doc["candidate_id"], str(doc.get("engine", "")) if by_engine else "")
        if key not in seen:
            seen.add(key)
            out.append(doc)
    return out


def _float(value: Any) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _log10(value: Any) -> float | None:
    number = _float(value)
    return math.log10(number) if number is not None and number > 0 else None


def ranked_rows(rank_docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per RankDoc: completed ones by rank (then P(superionic)), failed ones last."""

    def order(doc: dict[str, Any]) -> tuple[int, float, float, str]:
        rank = doc.get("rank")
        p = _float(doc.get("p_superionic"))
        return (
            doc.get("status") != "completed",
            rank if rank is not None else math.inf,
            -(p if p is not None else -math.inf),
            doc["candidate_id"],
        )

    keys = (
        "rank",
        "formula",
        "status",
        "model_version",
        "p_superionic",
        "p_superionic_sd",
        "log10_sigma",
        "log10_sigma_sd",
        "log10_sigma_lo",
        "log10_sigma_hi",
        "novelty",
        "near_training",
        "reason",
    )
    return [
        {"candidate_id": d["candidate_id"]} | {k: d.get(k) for k in keys}
        for d in sorted(rank_docs, key=order)
    ]


def predicted_vs_label_rows(
    rank_docs: list[dict[str, Any]],
    md_docs: list[dict[str, Any]],
    measured: dict[str, list[dict[str, Any]]],
) -> list[dict[str, Any]]:
    """Predicted log10 σ with its interval beside each label of the same candidate: the
    campaign's computed σ_RT (MD) and measured σ of the same reduced formula (``measured``:
    ``{reduced formula: [{"log10_sigma", "source"}]}``)."""
    md = {d["candidate_id"]: d for d in md_docs if d.get("status") == "completed"}
    rows = []
    for doc in rank_docs:
        predicted = _float(doc.get("log10_sigma"))
        if doc.get("status") != "completed" or predicted is None:
            continue
        base = {
            "candidate_id": doc["candidate_id"],
            "formula": doc.get("formula", ""),
            "predicted_log10_sigma": predicted,
            "predicted_lo": _float(doc.get("log10_sigma_lo")),
            "predicted_hi": _float(doc.get("log10_sigma_hi")),
        }
        computed = md.get(doc["candidate_id"])
        if computed is not None and _log10(computed.get("sigma_rt_s_per_cm")) is not None:
            rows.append(
                base
                | {
                    "label_log10_sigma": _log10(computed["sigma_rt_s_per_cm"]),
                    "label_kind": "computed",
                    "label_source": f"md-{computed.get('engine') or 'unknown'}",
                }
            )
        for label in measured.get(normalise_formula(doc.get("formula", "")), []):
            rows.append(
                base
                | {
                    "label_log10_sigma": label["log10_sigma"],
                    "label_kind": "measured",
                    "label_source": label["source"],
                }
            )
    return rows


def bvse_vs_neb_rows(bvse_docs: list[dict], neb_docs: list[dict]) -> list[dict[str, Any]]:
    """BVSE E_a (the gate's barrier) and E_1D beside each NEB barrier of the candidate."""
    bvse = {d["candidate_id"]: d for d in bvse_docs}
    rows = []
    for neb in neb_docs:
        gate = bvse.get(neb["candidate_id"], {})
        ea, barrier = _float(gate.get("gate_ea_ev")), _float(neb.get("barrier_ev"))
        if ea is None or barrier is None:
            continue
        rows.append(
            {
                "candidate_id": neb["candidate_id"],
                "formula": neb.get("formula", ""),
                "engine": neb.get("engine", ""),
                "bvse_ea_ev": ea,
                "bvse_e1d_ev": _float(gate.get("e1d_ev")),
                "neb_barrier_ev": barrier,
            }
        )
    return sorted(rows, key=lambda r: (r["candidate_id"], r["engine"]))


def neb_profile_rows(neb_docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """NEB bands with at least two images: energies (eV, first image = 0) along the path."""
    rows = []
    for doc in neb_docs:
        energies = [_float(e) for e in doc.get("energies_ev") or []]
        if len(energies) < 2 or any(e is None for e in energies):
            continue
        coords = [_float(x) for x in doc.get("reaction_coordinate_angstrom") or []]
        if len(coords) != len(energies) or any(x is None for x in coords):
            coords = []
        rows.append(
            {
                "candidate_id": doc["candidate_id"],
                "formula": doc.get("formula", ""),
                "engine": doc.get("engine", ""),
                "status": doc.get("status", ""),
                "barrier_ev": _float(doc.get("barrier_ev")),
                "energies_ev": energies,
                "reaction_coordinate_angstrom": coords,
            }
        )
    return sorted(rows, key=lambda r: (r["candidate_id"], r["engine"]))


def arrhenius_rows(md_docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """MD documents with at least one computed D: per temperature D, its error and whether
    it entered the fit; the fit (E_a, D0) and σ_RT with its range."""
    rows = []
    for doc in md_docs:
        points = []
        for t in doc.get("per_temperature") or []:
            d = _float(t.get("diffusivity_cm2_per_s"))
            if d is not None and d > 0:
                points.append(
                    {
                        "temperature_k": float(t["temperature_k"]),
                        "diffusivity_cm2_per_s": d,
                        "diffusivity_err_cm2_per_s": _float(t.get("diffusivity_err_cm2_per_s")),
                        "used_in_fit": bool(t.get("used_in_fit")),
                        "flag": t.get("flag", ""),
                    }
                )
        if not points:
            continue
        sigma_range = doc.get("sigma_rt_range_s_per_cm") or (None, None)
        rows.append(
            {
                "candidate_id": doc["candidate_id"],
                "formula": doc.get("formula", ""),
                "engine": doc.get("engine", ""),
                "status": doc.get("status", ""),
                "points": sorted(points, key=lambda p: p["temperature_k"]),
                "ea_ev": _float(doc.get("ea_ev")),
                "ea_err_ev": _float(doc.get("ea_err_ev")),
                "d0_cm2_per_s": _float(doc.get("d0_cm2_per_s")),
                "rt_temperature_k": _float(doc.get("rt_temperature_k")) or 300.0,
                "d_rt_cm2_per_s": _float(doc.get("d_rt_cm2_per_s")),
                "sigma_rt_s_per_cm": _float(doc.get("sigma_rt_s_per_cm")),
                "sigma_rt_lo_s_per_cm": _float(sigma_range[0]),
                "sigma_rt_hi_s_per_cm": _float(sigma_range[1]),
            }
        )
    return sorted(rows, key=lambda r: r["candidate_id"])


def _pick_ids(picks: Any) -> list[str]:
    out = []
    for pick in picks or []:
        cid = pick.get("candidate_id") if isinstance(pick, dict) else pick
        if cid:
            out.append(str(cid))
    return out


def learning_curve_rows(
    rounds: list[dict[str, Any]], neb_docs: list[dict], md_docs: list[dict]
) -> list[dict[str, Any]]:
    """Per round: the model, its labels, candidates picked so far, how many of them have a
    completed NEB or MD result, the best computed log10 σ_RT and the lowest NEB barrier so
    far, and hits so far (computed σ_RT ≥ 1e-4 S/cm)."""
    sigma: dict[str, float] = {}
    for doc in md_docs:
        value = _log10(doc.get("sigma_rt_s_per_cm"))
        if doc.get("status") == "completed" and value is not None:
            sigma[doc["candidate_id"]] = max(value, sigma.get(doc["candidate_id"], -math.inf))
    barrier: dict[str, float] = {}
    for doc in neb_docs:
        value = _float(doc.get("barrier_ev"))
        if doc.get("status") == "completed" and value is not None:
            barrier[doc["candidate_id"]] = min(value, barrier.get(doc["candidate_id"], math.inf))
    rows: list[dict[str, Any]] = []
    picked: set[str] = set()
    hits: set[str] = set()
    for rnd in rounds:
        picked |= set(_pick_ids(rnd.get("picks")))
        sigmas = [sigma[c] for c in picked if c in sigma]
        barriers = [barrier[c] for c in picked if c in barrier]
        if isinstance(rnd.get("hits"), list):  # the loop's own rule (σ or NEB barrier)
            hits |= {str(h) for h in rnd["hits"]}
        else:
            hits |= {c for c in picked if sigma.get(c, -math.inf) >= HIT_LOG10_SIGMA}
        model = rnd.get("model") or {}
        rows.append(
            {
                "round": int(rnd.get("round", len(rows))),
                "model_version": model.get("version") or rnd.get("model_version") or "",
                "n_labels": model.get("n_labels", rnd.get("n_labels")),
                "picked_so_far": len(picked),
                "computed_so_far": len({c for c in picked if c in sigma or c in barrier}),
                "best_log10_sigma": max(sigmas) if sigmas else None,
                "lowest_barrier_ev": min(barriers) if barriers else None,
                "hits_so_far": len(hits),
            }
        )
    return rows


def round_funnel(rnd: dict[str, Any]) -> dict[str, int]:
    """A round's funnel: its stored ``funnel``, else ranked → eligible (not computed before)
    → picked → through the gates → completed per tier → hits, from the round document."""
    if isinstance(rnd.get("funnel"), dict):
        return {str(k): int(v) for k, v in rnd["funnel"].items()}
    funnel: dict[str, int] = {}
    for key, stage in (("n_ranked", "ranked"), ("n_eligible", "eligible (not computed)")):
        if rnd.get(key) is not None:
            funnel[stage] = int(rnd[key])
    funnel["picked"] = len(_pick_ids(rnd.get("picks")))
    gates = rnd.get("gates")
    if isinstance(gates, dict) and gates:
        funnel["through the gates"] = sum(
            isinstance(g, dict) and g.get("status") in PROCEEDS for g in gates.values()
        )
    for tier, rows in (rnd.get("results") or {}).items():
        funnel[f"{tier} completed"] = sum(
            isinstance(r, dict) and r.get("status") == "completed" for r in rows
        )
    if isinstance(rnd.get("hits"), list):
        funnel["hits"] = len(rnd["hits"])
    return funnel


def measured_by_formula(labels: LabelStore | None) -> dict[str, list[dict[str, Any]]]:
    """Measured log10 σ (upper bounds left out) by reduced formula."""
    found: dict[str, list[dict[str, Any]]] = {}
    if labels is None:
        return found
    for label in labels.query(kind="experimental"):
        if label.log10_sigma_rt is None or label.sigma_upper_bound:
            continue
        found.setdefault(normalise_formula(label.formula), []).append(
            {"log10_sigma": float(label.log10_sigma_rt), "source": label.source or label.label_id}
        )
    return found


def gather_report_data(
    name: str,
    store: JobStore,
    campaigns: Store,
    rounds: Store | None = None,
    labels: LabelStore | None = None,
    store_name: str = "",
) -> CampaignReportData:
    """Everything the report of campaign ``name`` shows, from the connected ``store``.

    Raises:
        ConfigurationError: no campaign of that name is recorded (naming those that are).
    """
    record = load_campaign(campaigns, name) or {}
    round_docs: list[dict[str, Any]] = []
    if rounds is not None:
        rounds.connect()
        round_docs = sorted(
            ({k: v for k, v in d.items() if k != "_id"} for d in rounds.query({"campaign": name})),
            key=lambda d: int(d.get("round", 0)),
        )
    uuids = [str(u) for u in record.get("job_uuids", [])]
    docs = campaign_docs(store, name, uuids, round_docs)
    if not record and not round_docs and not docs:
        known = campaign_names(campaigns)
        listed = ", ".join(known) if known else "none"
        raise ConfigurationError(
            f"No campaign named '{name}' is recorded in {store_name or 'the store'} "
            f"(recorded: {listed}); 'sseflows campaign run' records a campaign under its "
            "spec's name, and rerunning it reuses every stored result."
        )
    rank_docs = _newest(docs, "rank")
    neb_docs = _newest(docs, "neb", by_engine=True)
    md_docs = _newest(docs, "md")
    return CampaignReportData(
        name=name,
        store=store_name,
        generated_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        funnel={str(k): int(v) for k, v in (record.get("funnel") or {}).items()},
        rounds=round_docs,
        round_funnels={int(r.get("round", i)): round_funnel(r) for i, r in enumerate(round_docs)},
        ranked=ranked_rows(rank_docs),
        predicted_vs_label=predicted_vs_label_rows(rank_docs, md_docs, measured_by_formula(labels)),
        bvse_vs_neb=bvse_vs_neb_rows(_newest(docs, "bvse"), neb_docs),
        neb_profiles=neb_profile_rows(neb_docs),
        arrhenius=arrhenius_rows(md_docs),
        learning_curve=learning_curve_rows(round_docs, neb_docs, md_docs),
    )


def campaign_report_data(name: str, store_spec: str | None = None) -> CampaignReportData:
    """:func:`gather_report_data` for campaign ``name`` in the store ``store_spec`` (None:
    the ``db`` setting), with its rounds and the label store beside it.

    Raises:
        ConfigurationError: an unusable store, or no campaign of that name.
    """
    spec = load_settings(db=store_spec).db
    store = build_job_store(spec)
    store.connect()
    with open_label_store(spec) as labels:
        return gather_report_data(
            name, store, open_campaigns_store(spec), open_rounds_store(spec), labels, redact(spec)
        )
