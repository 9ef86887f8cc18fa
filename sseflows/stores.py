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


SET_MATCH_MIN = 32
"""``$in`` lists longer than this are matched through a set by :class:`LockedMontyStore`."""


def _field(doc: dict, dotted: str) -> Any:
    """The value at ``dotted`` (``a.b.c``) in ``doc``; None when missing."""
    value: Any = doc
    for part in dotted.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def _matches(value: Any, values: set) -> bool:
    """``$in`` semantics: ``value``, or one of its elements when it is an array, in ``values``."""
    if isinstance(value, list):
        return any(_matches(v, values) for v in value)
    try:
        return value in values
    except TypeError:  # an unhashable value equals no string or number
        return False


def _drop_field(doc: dict, dotted: str) -> None:
    """Remove ``dotted`` from ``doc`` (and parents it leaves empty)."""
    head, _, rest = dotted.partition(".")
    if head not in doc:
        return
    if rest and isinstance(doc[head], dict):
        _drop_field(doc[head], rest)
        if not doc[head]:
            del doc[head]
    elif not rest:
        del doc[head]


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
        """Upsert ``docs`` by ``key`` (default the store's key) under the file lock.

        MontyDB has no index: its ``replace_one``, which maggma's update calls per document,
        scans and decodes the whole collection, so writing n documents one after another
        cost O(n²) (a campaign of 5,000 trivial jobs spent most of its time there). A new
        document is therefore inserted under a primary key made of its key values
        (``_id`` = the values joined by ``|``), one SQLite insert; only a document whose
        ``_id`` is taken (a rewrite), that has its own ``_id`` or lacks a key field, or a
        store with a validator, goes through maggma's upsert as before. Queries are those of
        any MontyStore.
        """
        from monty.json import jsanitize
        from montydb.errors import DuplicateKeyError

        batch = docs if isinstance(docs, list) else [docs]
        fields = key or self.key
        names = fields if isinstance(fields, list) else [fields]
        with file_lock(self.lock_path):
            upserts = []
            for doc in batch:
                record = jsanitize(doc, allow_bson=True)
                if self.validator or "_id" in record or any(n not in record for n in names):
                    upserts.append(doc)
                    continue
                record["_id"] = "|".join(str(record[n]) for n in names)
                try:
                    self._collection.insert_one(record)
                except DuplicateKeyError:
                    upserts.append(doc)
            if upserts:
                super().update(upserts, key=key)

    def remove_docs(self, criteria: dict) -> None:
        with file_lock(self.lock_path):
            super().remove_docs(criteria)

    def query(  # type: ignore[override]
        self,
        criteria: dict | None = None,
        properties: dict | list | None = None,
        sort: dict | None = None,
        hint: dict | None = None,
        skip: int = 0,
        limit: int = 0,
        **kwargs: Any,
    ) -> Iterator[dict]:
        """maggma's query, with long ``$in`` lists matched here through a set.

        MontyDB matches ``{field: {"$in": values}}`` by scanning ``values`` for every
        document, O(documents × values): re-planning a campaign (one query with the
        result key of every candidate) grew quadratically with its size. A ``$in`` of more
        than :data:`SET_MATCH_MIN` hashable values is taken out of the criteria and
        matched on the returned documents against a set (the field is added to the
        projection for that and removed again); ``skip``/``limit`` then apply after it.
        """
        criteria = dict(criteria or {})
        sets = {
            name: set(cond["$in"])
            for name, cond in criteria.items()
            if isinstance(cond, dict) and set(cond) == {"$in"}
            and len(cond["$in"]) > SET_MATCH_MIN
            and all(isinstance(v, str | int | float) for v in cond["$in"])
        }  # fmt: skip
        if not sets:
            yield from super().query(criteria, properties, sort, hint, skip, limit, **kwargs)
            return
        for name in sets:
            del criteria[name]
        extra: list[str] = []
        if properties is not None:
            wanted = list(properties)
            extra = [n for n in sets if not any(n == w or n.startswith(f"{w}.") for w in wanted)]
            properties = wanted + extra if isinstance(properties, list) else (
                dict(properties) | {n: 1 for n in extra}
            )  # fmt: skip
        matched = 0
        for doc in super().query(criteria, properties, sort, hint, **kwargs):
            if not all(_matches(_field(doc, name), values) for name, values in sets.items()):
                continue
            matched += 1
            if matched <= skip:
                continue
            for name in extra:
                _drop_field(doc, name)
            yield doc
            if limit and matched - skip >= limit:
                return


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
