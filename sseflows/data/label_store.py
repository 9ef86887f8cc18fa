"""The labelled set: :class:`~sseflows.core.label.Label` documents in a maggma store.

Labels are upserted by ``label_id``, so importing the same source twice leaves one copy.
Structures are stored as pymatgen dicts (``Structure.as_dict()``) and rebuilt on query.
The store comes from :func:`sseflows.stores.build_store` with the same spec as every other
store: a folder (persistent MontyStore, the default ``~/.sseflows/db``), ``memory``, or a
``mongodb://`` URI.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from maggma.core import Store
from maggma.stores import MontyStore
from monty.json import jsanitize
from pymatgen.core import Composition, Structure

from sseflows.core.label import Label
from sseflows.stores import LABELS_COLLECTION, build_store, store_write_lock

KEY = "label_id"
FORMULA_KEY = "formula_key"
"""Stored beside ``formula``: its pymatgen reduced formula, what ``query(formula=...)`` matches."""


def label_to_doc(label: Label) -> dict[str, Any]:
    """A JSON-ready document for ``label`` (the structure as a pymatgen dict)."""
    doc = label.model_dump(exclude={"structure"})
    doc["structure"] = label.structure.as_dict() if label.structure is not None else None
    doc["has_structure"] = label.structure is not None
    doc[FORMULA_KEY] = normalise_formula(label.formula)
    return doc


def doc_to_label(doc: dict[str, Any]) -> Label:
    """The :class:`Label` stored in ``doc`` (extra store fields are ignored)."""
    fields = {k: v for k, v in doc.items() if k in Label.model_fields}
    if isinstance(fields.get("structure"), dict):
        fields["structure"] = Structure.from_dict(fields["structure"])
    return Label(**fields)


def normalise_formula(formula: str) -> str:
    """pymatgen's reduced formula (``Li20Ge2P4S24`` and ``Li10GeP2S12`` -> ``Li10Ge(PS6)2``);
    a formula pymatgen cannot read is kept as written."""
    try:
        return Composition(formula).reduced_formula
    except (ValueError, KeyError):
        return formula


class LabelStore:
    """Add, query and count labels in a maggma ``Store`` (connected on first use).

    Args:
        store: Any maggma store; documents are keyed by ``label_id``.
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        self._connected = False

    def _connect(self) -> Store:
        if not self._connected:
            self.store.connect()
            self._connected = True
        return self.store

    def close(self) -> None:
        """Close the underlying store (files are flushed for MontyStore)."""
        if self._connected:
            self.store.close()
            self._connected = False

    def __enter__(self) -> LabelStore:
        self._connect()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def add(self, labels: Iterable[Label]) -> int:
        """Insert or replace ``labels`` (by ``label_id``); returns how many were written."""
        docs = [label_to_doc(label) for label in labels]
        if not docs:
            return 0
        store = self._connect()
        if isinstance(store, MontyStore):
            # MontyStore.update replaces one document at a time and each replace scans the
            # collection: 1,285 labels took 280 s. Delete + insert_many is one pass each.
            collection = store._collection
            with store_write_lock(store):  # other processes may write the same files
                if store.count() > 0:  # montydb cannot delete from a database never written
                    collection.delete_many({KEY: {"$in": [d[KEY] for d in docs]}})
                collection.insert_many([jsanitize(d, allow_bson=True) for d in docs])
        else:
            store.update(docs, key=KEY)
        return len(docs)

    def query(
        self, kind: str | None = None, source: str | None = None, formula: str | None = None
    ) -> list[Label]:
        """Labels matching every given filter, sorted by ``label_id``.

        Args:
            kind: ``experimental`` or ``computed``.
            source: Data set name (``obelix``, ``laskowski2023``, a campaign).
            formula: Any formula of the composition; compared as a reduced formula.
        """
        criteria: dict[str, Any] = {}
        if kind:
            criteria["kind"] = kind
        if source:
            criteria["source"] = source
        if formula:
            criteria[FORMULA_KEY] = normalise_formula(formula)
        docs = self._connect().query(criteria=criteria)
        return sorted((doc_to_label(doc) for doc in docs), key=lambda label: label.label_id)

    def count(self) -> int:
        """Number of labels in the store."""
        return self._connect().count()


def open_label_store(spec: str | None = None) -> LabelStore:
    """The label store under store ``spec`` (default: the ``db`` setting)."""
    return LabelStore(build_store(LABELS_COLLECTION, spec))
