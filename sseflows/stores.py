"""The one place that builds maggma stores and the jobflow ``JobStore``.

A *store spec* is one string:

* ``memory`` — in-process mongomock stores (tests, throw-away runs);
* ``mongodb://...`` or ``mongodb+srv://...`` — a MongoDB server (clusters);
* anything else — a folder holding a persistent, file-backed MontyStore (the default,
  ``~/.sseflows/db``); :class:`LockedMontyStore` takes a lock file in that folder around
  every write, so several processes (FireWorks workers on one machine) may write at once.

The same code serves all three; only the spec changes. A MongoDB server that cannot be
reached is a :class:`~sseflows.core.errors.ConfigurationError` naming the host (never the
password) within the ``service_timeout_s`` setting; :func:`redact` hides credentials
wherever a spec is shown.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from jobflow import JobStore
from maggma.core import Store
from maggma.stores import MemoryStore, MongoStore, MontyStore

from sseflows.core.errors import ConfigurationError
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


_USERINFO = re.compile(r"(mongodb(?:\+srv)?://)([^@/\s]*)@")


def redact(spec: str) -> str:
    """``spec`` (or any text holding MongoDB URIs) safe to print or log: every URI's
    password becomes ``***``, the user is kept."""

    def hide(match: re.Match) -> str:
        user, _, password = match.group(2).partition(":")
        return f"{match.group(1)}{user}{':***' if password else ''}@"

    return _USERINFO.sub(hide, spec)


def uri_hosts(uri: str) -> str:
    """The ``host:port`` part of a MongoDB URI, without credentials."""
    netloc = urlparse(uri).netloc
    return netloc.rpartition("@")[2] or "localhost"


def ping_mongodb(*client_args: Any, what: str, setting: str, **client_kwargs: Any) -> None:
    """Open a pymongo client with ``client_args``/``client_kwargs`` and ping the server.

    Raises:
        ConfigurationError: no answer within the ``service_timeout_s`` setting, in one
            sentence naming ``what`` (the host, never a password) and ``setting``.
    """
    from pymongo import MongoClient
    from pymongo.errors import PyMongoError

    timeout_s = load_settings().service_timeout_s
    try:
        client: MongoClient = MongoClient(
            *client_args, serverSelectionTimeoutMS=int(timeout_s * 1000), **client_kwargs
        )
        try:
            client.admin.command("ping")
        finally:
            client.close()
    except PyMongoError as exc:
        cause = "authentication failed" if "auth" in str(exc).lower() else "no answer"
        raise ConfigurationError(
            f"{what} cannot be reached ({cause} within {timeout_s:g} s); check {setting} "
            "and that the server is running and reachable from this node."
        ) from None


_THREAD_LOCKS: dict[str, threading.RLock] = {}
_HELD: dict[str, int] = {}
_REGISTRY_LOCK = threading.Lock()


@contextmanager
def file_lock(path: str | Path) -> Iterator[None]:
    """Hold an exclusive lock on the file ``path`` (created if missing) for the block.

    Cross-process (``fcntl.flock``, released by the kernel when a holder dies, even by
    SIGKILL) and cross-thread; re-entrant within one thread. Only needed for file-backed
    stores: MongoDB serialises concurrent writers itself.
    """
    import fcntl

    key = os.path.abspath(path)
    with _REGISTRY_LOCK:
        thread_lock = _THREAD_LOCKS.setdefault(key, threading.RLock())
    with thread_lock:
        outer = _HELD.get(key, 0) == 0
        handle = None
        if outer:
            Path(key).parent.mkdir(parents=True, exist_ok=True)
            handle = open(key, "a+b")  # noqa: SIM115 - held across the yield
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        _HELD[key] = _HELD.get(key, 0) + 1
        try:
            yield
        finally:
            _HELD[key] -= 1
            if handle is not None:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
                handle.close()


class LockedMontyStore(MontyStore):
    """A file-backed MontyStore safe for several writing processes.

    MontyDB's SQLite files tolerate one writer at a time, and creating a new database
    folder races; this store takes ``<database_path>/.sseflows.lock`` around connecting,
    every ``update`` and every ``remove_docs``. It serialises like a MontyStore (the
    JobStore travels inside every Firework), so each worker locks the same file.
    """

    @property
    def lock_path(self) -> Path:
        return Path(self.database_path) / ".sseflows.lock"

    def connect(self, force_reset: bool = False) -> None:
        with file_lock(self.lock_path):
            super().connect(force_reset=force_reset)

    def update(self, docs: list[dict] | dict, key: list | str | None = None) -> None:
        with file_lock(self.lock_path):
            super().update(docs, key=key)

    def remove_docs(self, criteria: dict) -> None:
        with file_lock(self.lock_path):
            super().remove_docs(criteria)


def store_write_lock(store: Store) -> AbstractContextManager[None]:
    """The lock to hold while writing ``store`` directly (past ``update``): the lock file of
    a :class:`LockedMontyStore`, nothing for the others (MongoDB serialises writers)."""
    if isinstance(store, LockedMontyStore):
        return file_lock(store.lock_path)
    return nullcontext()


def build_store(collection: str, spec: str | None = None) -> Store:
    """A maggma store for ``collection`` under the store ``spec`` (see module docstring).

    ``memory`` stores with the same collection name are *not* shared between calls; use
    :func:`build_job_store` once and pass it around to share them.
    """
    spec = resolve_spec(spec)
    if spec == "memory":
        return MemoryStore(collection_name=collection)
    if is_uri(spec):
        ping_mongodb(
            spec,
            what=f"The MongoDB store at {uri_hosts(spec)}",
            setting="the store (--store or the db setting, SSEFLOWS_DB)",
        )
        database = urlparse(spec).path.lstrip("/") or "sseflows"
        return MongoStore.from_uri(uri=spec, database=database, collection_name=collection)
    folder = Path(spec).expanduser()
    folder.mkdir(parents=True, exist_ok=True)
    return LockedMontyStore(
        collection_name=collection, database_path=str(folder), database_name="sseflows"
    )


def build_job_store(spec: str | None = None) -> JobStore:
    """The jobflow JobStore: job outputs in ``docs``, large arrays in the ``data`` store."""
    docs = build_store(DOCS_COLLECTION, spec)
    data = build_store(DATA_COLLECTION, spec)
    return JobStore(docs_store=docs, additional_stores={"data": data})
