"""The one place that builds maggma stores and the jobflow ``JobStore``.

A *store spec* is one string:

* ``memory`` — in-process mongomock stores (tests, throw-away runs);
* ``mongodb://...`` or ``mongodb+srv://...`` — a MongoDB server (clusters);
* anything else — a folder holding a persistent, file-backed MontyStore (the default,
  ``~/.sseflows/db``).

The same code serves all three; only the spec changes.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

from jobflow import JobStore
from maggma.core import Store
from maggma.stores import MemoryStore, MongoStore, MontyStore

from sseflows.settings import load_settings

DOCS_COLLECTION = "sseflows_outputs"
DATA_COLLECTION = "sseflows_data"
LABELS_COLLECTION = "labels"
MP_SNAPSHOT_COLLECTION = "mp_snapshot"


def resolve_spec(spec: str | None) -> str:
    """Return ``spec``, or the ``db`` setting when ``spec`` is None."""
    return spec if spec else load_settings().db


def is_uri(spec: str) -> bool:
    """True for ``mongodb://`` and ``mongodb+srv://`` specs."""
    return spec.startswith(("mongodb://", "mongodb+srv://"))


def build_store(collection: str, spec: str | None = None) -> Store:
    """A maggma store for ``collection`` under the store ``spec`` (see module docstring).

    ``memory`` stores with the same collection name are *not* shared between calls; use
    :func:`build_job_store` once and pass it around to share them.
    """
    spec = resolve_spec(spec)
    if spec == "memory":
        return MemoryStore(collection_name=collection)
    if is_uri(spec):
        database = urlparse(spec).path.lstrip("/") or "sseflows"
        return MongoStore.from_uri(uri=spec, database=database, collection_name=collection)
    folder = Path(spec).expanduser()
    folder.mkdir(parents=True, exist_ok=True)
    return MontyStore(
        collection_name=collection, database_path=str(folder), database_name="sseflows"
    )


def build_job_store(spec: str | None = None) -> JobStore:
    """The jobflow JobStore: job outputs in ``docs``, large arrays in the ``data`` store."""
    docs = build_store(DOCS_COLLECTION, spec)
    data = build_store(DATA_COLLECTION, spec)
    return JobStore(docs_store=docs, additional_stores={"data": data})
