"""The ranking stage inside a campaign: resolve the model, rank, store, keep the survivors.

The model is the spec's ``rank.model_path`` or is trained from labels (``rank.train``) into
``models_dir`` under a name hashing the labels and every setting, so a rerun with the same
labels reuses it and new labels train a new version. Ranking runs as a flow
(:func:`sseflows.flows.ranking.rank_flow`) through the local runner, so its
:class:`~sseflows.rank.schemas.RankDoc` per candidate lands in the JobStore with a result
key (candidate, model version, order) like every tier's documents; a rerun ranks only
candidates without one. Survivors: see :class:`~sseflows.campaign.spec.RankSpec`.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jobflow import JobStore

from sseflows.campaign.local import run_flows
from sseflows.campaign.plan import result_key, stored_docs_by_key
from sseflows.campaign.rank import descriptor_cache, train, training_table
from sseflows.campaign.results import latest_by_candidate
from sseflows.campaign.spec import RankSpec
from sseflows.core.candidate import Candidate
from sseflows.core.errors import ConfigurationError
from sseflows.flows.ranking import rank_flow
from sseflows.rank.maker import RankMaker, candidate_input
from sseflows.rank.persistence import load_rank_model, provenance_path
from sseflows.rank.table import TrainingTable


@dataclass
class RankStageReport:
    """What the ranking stage did.

    Attributes:
        model_path: The model used.
        model_version: Its version (12 hex).
        docs: ``{candidate_id: RankDoc as stored}``.
        kept: Survivors, best first.
        dropped: ``{candidate_id: one-sentence reason}``.
        reused: Ids whose RankDocs were already stored.
        criteria: The survival criteria, in words.
    """

    model_path: str
    model_version: str
    docs: dict[str, dict[str, Any]] = field(default_factory=dict)
    kept: list[str] = field(default_factory=list)
    dropped: dict[str, str] = field(default_factory=dict)
    reused: list[str] = field(default_factory=list)
    criteria: str = ""


def default_models_dir() -> Path:
    """Where campaigns keep the ranking models they train (``~/.sseflows/models``)."""
    return Path.home() / ".sseflows" / "models"


def model_file(
    rank: RankSpec, table: TrainingTable, clustered: list[str], models_dir: Path | None
) -> Path:
    """Where the model of ``rank.train`` trained on ``table`` lives: the name hashes the
    training settings, representation, labels and (clusters model) pool ids, so the same
    labels and settings reuse the file and new labels make a new version."""
    assert rank.train is not None
    payload = {
        "train": rank.train.model_dump(exclude={"labels_path"}),
        "representation": rank.representation,
        "representation_settings": rank.representation_settings,
        "labels_hash": table.labels_hash(),
        "pool": clustered,
    }
    digest = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]
    return (models_dir or default_models_dir()) / f"{rank.train.model}-{digest}.skops"


def rank_docs(store: JobStore, keys: dict[str, str]) -> dict[str, dict[str, Any]]:
    """``{candidate_id: stored RankDoc}`` of ``keys``; a ``failed`` stand-in when missing."""
    stored = stored_docs_by_key(store, keys.values(), "rank")
    docs: dict[str, dict[str, Any]] = {}
    for cid, key in keys.items():
        found = latest_by_candidate(stored.get(key, [])).get(cid, {})
        docs[cid] = found.get("rank") or {
            "candidate_id": cid,
            "status": "failed",
            "reason": f"Candidate '{cid}': the ranking job stored no document for it.",
        }
    return docs


def resolve_rank_model(
    rank: RankSpec,
    models_dir: Path | None = None,
    store_spec: str | None = None,
    pool: Sequence[Candidate] = (),
) -> Path:
    """The model file of the rank stage: ``rank.model_path``, or one trained from
    ``rank.train`` (reused when labels and settings are unchanged).

    Raises:
        ConfigurationError: a missing model file, unusable labels or settings.
    """
    if rank.model_path is not None:
        path = Path(rank.model_path).expanduser()
        if not path.is_file():
            raise ConfigurationError(f"The ranking model file {path} does not exist.")
        return path
    assert rank.train is not None  # RankSpec requires one of the two
    settings = rank.train
    labels_path = Path(settings.labels_path) if settings.labels_path else None
    table = training_table(settings.source, labels_path, store_spec, settings.threshold_s_per_cm)
    clustered = sorted(c.id for c in pool) if settings.model == "clusters" else []
    path = model_file(rank, table, clustered, models_dir)
    if not path.is_file():
        train(
            path,
            source=settings.source,
            labels_path=labels_path,
            store_spec=store_spec,
            model=settings.model,
            representation_name=rank.representation,
            threshold_s_per_cm=settings.threshold_s_per_cm,
            model_settings=dict(settings.model_settings),
            representation_settings=dict(rank.representation_settings),
            pool_inputs=[candidate_input(c) for c in pool] if clustered else (),
        )
    return path


def model_version(path: Path) -> str:
    """The version of the model at ``path`` (from its provenance JSON, else the model)."""
    try:
        return str(json.loads(provenance_path(path).read_text())["model_version"])
    except (OSError, ValueError, KeyError):
        return load_rank_model(path).version


def describe_criteria(rank: RankSpec) -> str:
    """The survival criteria of ``rank`` in a few words."""
    parts = []
    if rank.superionic_all_runs:
        parts.append("superionic in every run")
    if rank.p_min is not None:
        parts.append(f"P >= {rank.p_min:g}")
    if rank.clusters:
        parts.append("selected clusters")
    if rank.novelty_filter:
        parts.append("not within 5 % of a training composition")
    if rank.top_n is not None:
        parts.append(f"top {rank.top_n} by {rank.order_by}")
    return ", ".join(parts) or "all ranked"


def _score(doc: dict[str, Any], order_by: str) -> float:
    value = doc.get(order_by)
    return -math.inf if value is None else float(value)


def rank_survivors(
    rank: RankSpec, docs: dict[str, dict[str, Any]]
) -> tuple[list[str], dict[str, str]]:
    """Survivors of the rank stage (best first) and the others with their reasons."""
    ordered = sorted(docs.items(), key=lambda kv: (-_score(kv[1], rank.order_by), kv[0]))
    kept: list[str] = []
    dropped: dict[str, str] = {}
    version = next((d.get("model_version") for d in docs.values() if d.get("model_version")), "")
    model = f"ranking model {version}"
    for cid, doc in ordered:
        why = ""
        p = doc.get("p_superionic")
        if doc.get("status") != "completed":
            why = f"could not be ranked ({doc.get('reason') or 'no reason given'})"
        elif rank.superionic_all_runs and not doc.get("superionic_all_runs"):
            why = f"is not called superionic by every run of the {model}"
        elif rank.p_min is not None and (p is None or p < rank.p_min):
            shown = "unknown" if p is None else f"{p:.2f}"
            why = f"has P(superionic) {shown} < {rank.p_min:g} by the {model}"
        elif rank.clusters and not doc.get("selected"):
            why = f"is in no selected cluster of the {model}"
        elif rank.novelty_filter and doc.get("near_training"):
            why = "is within 5 % of a training composition (novelty filter)"
        if why:
            dropped[cid] = f"Candidate '{cid}' {why.rstrip('.')}."
        else:
            kept.append(cid)
    if rank.top_n is not None:
        for cid in kept[rank.top_n :]:
            dropped[cid] = (
                f"Candidate '{cid}' is below the top {rank.top_n} by {rank.order_by} of the "
                f"{model}."
            )
        kept = kept[: rank.top_n]
    return kept, dropped


def run_rank_stage(
    rank: RankSpec,
    model_path: Path,
    candidates: Sequence[Candidate],
    store: JobStore,
    fresh: bool = False,
) -> RankStageReport:
    """Rank ``candidates`` with the model at ``model_path`` (storing one RankDoc each,
    reusing stored ones) and select the survivors by ``rank``'s criteria."""
    version = model_version(model_path)
    cache = descriptor_cache()
    maker = RankMaker(
        model_path=str(model_path),
        order_by=rank.order_by,
        cache_folder=str(cache) if cache else None,
    )
    key_maker = RankMaker(name=f"rank {version}", order_by=rank.order_by)
    keys = {c.id: result_key(c, key_maker) for c in candidates}
    stored = {} if fresh else stored_docs_by_key(store, keys.values(), "rank")
    todo = [c for c in candidates if keys[c.id] not in stored]
    if todo:
        run_flows([("rank", rank_flow(todo, maker, keys))], store, workers=1)
        stored = stored_docs_by_key(store, keys.values(), "rank")
    docs = rank_docs(store, keys)
    kept, dropped = rank_survivors(rank, docs)
    todo_ids = {c.id for c in todo}
    return RankStageReport(
        model_path=str(model_path),
        model_version=version,
        docs=docs,
        kept=kept,
        dropped=dropped,
        reused=[c.id for c in candidates if c.id not in todo_ids],
        criteria=describe_criteria(rank),
    )
