"""The labelled set from the command line: import a published label set into the label
store, and list the stored labels as documents."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sseflows.core.errors import ConfigurationError
from sseflows.data.label_sources import LABEL_IMPORTERS, LabelImport
from sseflows.data.label_store import label_to_doc, open_label_store

LABEL_SETS = tuple(LABEL_IMPORTERS)
"""Published label sets :func:`import_label_set` knows."""


@dataclass
class ImportSummary:
    """One import: labels written, how many of them carry a structure, the rows skipped
    (one reason each) and the number of labels the store holds afterwards."""

    written: int
    with_structure: int
    skipped: list[str]
    total: int


def import_label_set(label_set: str, path: Path, store_spec: str | None = None) -> ImportSummary:
    """Import ``label_set`` (:data:`LABEL_SETS`) from ``path`` (OBELiX's folder, or
    Laskowski's CSV or its folder) into the label store of ``store_spec`` (None: the ``db``
    setting); re-importing replaces the set's labels.

    Raises:
        ConfigurationError: an unknown label set, or an unusable store.
    """
    if label_set not in LABEL_SETS:
        raise ConfigurationError(f"Unknown label set {label_set!r}; use {' or '.join(LABEL_SETS)}.")
    result: LabelImport = LABEL_IMPORTERS[label_set](path)
    with open_label_store(store_spec) as label_store:
        written = label_store.add(result.labels)
        total = label_store.count()
    with_structure = sum(label.structure is not None for label in result.labels)
    return ImportSummary(written, with_structure, list(result.skipped), total)


@dataclass
class LabelListing:
    """Labels matching a query: the ``shown`` ones as documents (without structure and
    formula key; σ in S/cm, E_a in eV) and how many matched in all."""

    shown: list[dict[str, Any]]
    n_matching: int


def find_labels(
    kind: str | None = None,
    source: str | None = None,
    formula: str | None = None,
    limit: int = 0,
    store_spec: str | None = None,
) -> LabelListing:
    """The labels of the label store of ``store_spec`` (None: the ``db`` setting) matching
    ``kind``, ``source`` and ``formula`` (any formula of the composition), at most ``limit``
    of them shown (0: all).

    Raises:
        ConfigurationError: an unusable store.
    """
    with open_label_store(store_spec) as label_store:
        labels = label_store.query(kind=kind, source=source, formula=formula)
    docs = []
    for label in labels[:limit] if limit > 0 else labels:
        doc = label_to_doc(label)
        doc.pop("structure")
        doc.pop("formula_key")
        docs.append(doc)
    return LabelListing(docs, len(labels))
