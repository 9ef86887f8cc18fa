"""Where a ranking model's labels come from: the label store or a published set.

``store`` (the default) is what ``sseflows labels import`` wrote plus the computed labels of
earlier campaigns; ``obelix``, ``laskowski`` and ``laskowski-clustering`` read a published
set straight from its file or folder (:data:`~sseflows.data.label_sources.LABEL_IMPORTERS`).
"""

from __future__ import annotations

from pathlib import Path

from sseflows.core.errors import ConfigurationError
from sseflows.core.label import Label
from sseflows.data.label_sources import LABEL_IMPORTERS
from sseflows.data.label_store import open_label_store
from sseflows.rank.table import DEFAULT_THRESHOLD_S_PER_CM, TrainingTable, build_training_table

LABEL_SOURCES: tuple[str, ...] = ("store", *LABEL_IMPORTERS)
MIN_TRAINING_ROWS = 10
"""Fewest distinct materials a ranking model is trained on."""


def training_labels(
    source: str = "store", path: Path | None = None, store_spec: str | None = None
) -> list[Label]:
    """Labels of ``source`` (:data:`LABEL_SOURCES`); ``path`` is the published set's file."""
    if source not in LABEL_SOURCES:
        raise ConfigurationError(
            f"Unknown label source {source!r}; use one of {', '.join(LABEL_SOURCES)}."
        )
    if source == "store":
        with open_label_store(store_spec) as store:
            labels = store.query()
        if not labels:
            raise ConfigurationError(
                "The label store holds no labels; run 'sseflows labels import' first or "
                "pass --labels-source obelix|laskowski with --labels-path."
            )
        return labels
    if path is None:
        raise ConfigurationError(f"The label source {source!r} needs --labels-path.")
    if not Path(path).exists():
        raise ConfigurationError(f"The label set path {path} does not exist.")
    return list(LABEL_IMPORTERS[source](Path(path)).labels)


def training_table(
    source: str = "store",
    path: Path | None = None,
    store_spec: str | None = None,
    threshold_s_per_cm: float = DEFAULT_THRESHOLD_S_PER_CM,
) -> TrainingTable:
    """The training table of a label source (see :mod:`sseflows.rank.table`)."""
    table = build_training_table(
        training_labels(source, path, store_spec), threshold_s_per_cm=threshold_s_per_cm
    )
    if len(table) < MIN_TRAINING_ROWS:
        raise ConfigurationError(
            f"The label source {source!r} gives {len(table)} distinct materials; a ranking "
            f"model needs at least {MIN_TRAINING_ROWS}."
        )
    return table
