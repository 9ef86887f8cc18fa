"""Materialise the demo campaign as a folder of CIF files.

The demo specification and its offline MP snapshot ship inside the package
(``sseflows/campaign/demo_inputs/``), so ``sseflows demo`` runs from any directory.

The demo starts with the ranking stage when its spec has one (``rank:``, a
:class:`~sseflows.campaign.spec.RankSpec`): a small model is trained from the OBELiX labels
(``../shared/data/obelix`` beside the repository) and only its survivors are screened. Without
those labels the stage is skipped with a note.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from pymatgen.io.cif import CifWriter

from sseflows.campaign.spec import NebSpec, RankSpec
from sseflows.core.candidate import make_candidate_id
from sseflows.core.errors import ConfigurationError
from sseflows.data.prototypes import PROTOTYPES, pymatgen_structure

if TYPE_CHECKING:
    from sseflows.campaign.local import FlowRun
    from sseflows.campaign.rank_stage import RankStageReport
    from sseflows.campaign.screen import ScreenReport, ScreenRun
    from sseflows.data.readers import MergeRecord


def default_demo_spec() -> Path:
    """The demo specification shipped with the package (``demo_inputs/demo.yaml``)."""
    return Path(str(resources.files("sseflows.campaign") / "demo_inputs" / "demo.yaml"))


@dataclass
class DemoSpec:
    """What the demo screens, read from the demo YAML (:func:`default_demo_spec`)."""

    pymatgen: list[str]
    prototypes: list[str]
    broken_cifs: dict[str, str]
    mp_snapshot: Path | None
    thresholds: dict[str, float]
    neb: NebSpec | None = None
    rank: RankSpec | None = None


def load_demo_spec(path: Path) -> DemoSpec:
    """Read the demo YAML; paths inside it are relative to its folder."""
    if not path.is_file():
        raise ConfigurationError(f"Demo specification {path} does not exist.")
    try:
        raw: dict[str, Any] = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ConfigurationError(f"Demo specification {path} is not valid YAML: {exc}.") from exc
    unknown = [p for p in raw.get("prototypes", []) if p not in PROTOTYPES]
    if unknown:
        raise ConfigurationError(
            f"Demo specification {path} names unknown prototypes {unknown}; "
            f"known: {sorted(PROTOTYPES)}."
        )
    snapshot = raw.get("mp_snapshot")
    rank = None
    if raw.get("rank"):
        try:
            rank = RankSpec.model_validate(raw["rank"])
        except ValueError as exc:
            raise ConfigurationError(
                f"Demo specification {path} has an invalid 'rank' section "
                f"({str(exc).splitlines()[0]})."
            ) from exc
        if rank.train is not None and rank.train.labels_path:
            labels = (path.parent / rank.train.labels_path).resolve()
            rank.train = rank.train.model_copy(update={"labels_path": str(labels)})
    return DemoSpec(
        pymatgen=list(raw.get("pymatgen", [])),
        prototypes=list(raw.get("prototypes", [])),
        broken_cifs=dict(raw.get("broken_cifs", {}) or {}),
        mp_snapshot=(path.parent / snapshot) if snapshot else None,
        thresholds=dict(raw.get("thresholds", {}) or {}),
        neb=NebSpec(**raw["neb"]) if raw.get("neb") else None,
        rank=rank,
    )


def write_demo_cifs(spec: DemoSpec, folder: Path) -> list[Path]:
    """Write one CIF per demo structure into ``folder``; returns the paths written."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    structures = {name: pymatgen_structure(name) for name in spec.pymatgen}
    structures |= {name: PROTOTYPES[name]() for name in spec.prototypes}
    for name, structure in structures.items():
        path = folder / f"{make_candidate_id(name)}.cif"
        CifWriter(structure).write_file(path)
        written.append(path)
    for name, text in spec.broken_cifs.items():
        path = folder / f"{make_candidate_id(name)}.cif"
        path.write_text(text)
        written.append(path)
    return written


def rank_demo(
    spec: DemoSpec, folder: Path, store_spec: str | None = None, models_dir: Path | None = None
) -> tuple[RankStageReport | None, str]:
    """The demo's ranking stage over the CIFs in ``folder`` (the campaign's own,
    :func:`sseflows.campaign.rank_stage.run_rank_stage`), stored in ``store_spec``; its
    report, or None and a one-sentence note when the spec has none or its labels are absent."""
    from sseflows.campaign.rank_stage import resolve_rank_model, run_rank_stage
    from sseflows.data.readers import read_candidates
    from sseflows.settings import load_settings
    from sseflows.stores import build_job_store

    rank = spec.rank
    if rank is None:
        return None, ""
    labels = rank.train.labels_path if rank.train is not None else None
    if labels and not Path(labels).exists():
        return None, (
            f"Ranking stage skipped: the labels it trains on ({labels}) are absent, so every "
            "candidate goes on to the gates."
        )
    db = load_settings(db=store_spec).db
    candidates = read_candidates([folder]).candidates
    model = resolve_rank_model(rank, models_dir, db, candidates)
    store = build_job_store(db)
    store.connect()
    report = run_rank_stage(rank, model, candidates, store)
    store.close()
    return report, ""


def screen_demo(
    spec: DemoSpec,
    folder: Path,
    store_spec: str | None = None,
    workers: int | None = None,
    on_read: Callable[[int, Sequence[MergeRecord]], None] | None = None,
    on_done: Callable[[FlowRun], None] | None = None,
    dropped: Sequence[str] = (),
) -> ScreenRun:
    """Screen the demo CIFs in ``folder`` with the spec's MP snapshot and thresholds
    (:func:`sseflows.campaign.screen.screen_files`, which says what the callbacks get),
    leaving out the candidates the ranking stage ``dropped``."""
    from sseflows.campaign.screen import screen_files

    th = spec.thresholds
    out = set(dropped)
    paths = [p for p in sorted(folder.glob("*.cif")) if p.stem not in out] if out else [folder]
    return screen_files(
        paths,
        mp_snapshot=str(spec.mp_snapshot) if spec.mp_snapshot else None,
        ehull=th.get("e_hull_max_ev_per_atom"),
        gap=th.get("band_gap_min_ev"),
        ea=th.get("bvse_ea_max_ev"),
        store_spec=store_spec,
        workers=workers,
        on_read=on_read,
        on_done=on_done,
    )


def run_demo_neb(
    spec: DemoSpec, screen: ScreenReport, folder: Path, store_spec: str | None = None
) -> tuple[list[str], list[dict[str, Any]]]:
    """The demo's expensive stage, the campaign's own (:func:`sseflows.campaign.run.
    run_stage`): the best survivors by BVSE barrier through the spec's NEB engine, stored in
    ``store_spec`` (None: the ``db`` setting); their ids and table rows."""
    from sseflows.campaign.neb import neb_maker
    from sseflows.campaign.run import NEB_RECORD_KEYS, run_stage, tier_records
    from sseflows.data.readers import read_candidates
    from sseflows.settings import load_settings
    from sseflows.stores import build_job_store

    neb = spec.neb
    if neb is None:
        return [], []
    maker = neb_maker(neb.engine, neb.min_length, neb.n_images)
    store = build_job_store(load_settings(db=store_spec).db)
    store.connect()
    chosen, docs = run_stage(
        "neb", maker, neb.top_k, screen, read_candidates([folder]), store,
        neb.ranker or "lowest_bvse_barrier", neb.require_e_hull_zero,
    )  # fmt: skip
    store.close()
    return chosen, tier_records(docs, NEB_RECORD_KEYS)
