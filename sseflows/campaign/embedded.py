"""A durable embedded LaunchPad: mongomock-persistence made safe for several processes.

mongomock-persistence reads ``MONGOMOCK_SERVERSTORE_FILE`` once, when a client is created,
and writes the whole in-memory server back from a ``weakref.finalize`` hook, that is at
interpreter exit. Two processes therefore each work on their own copy and the last one to
exit overwrites the other's changes; a process that never exits normally (SIGKILL, or
FireWorks' DataServer manager behind ``rlaunch multi``, which is terminated) saves nothing.

:func:`make_durable` turns one LaunchPad's embedded server into a small database server
made of a file: every mongomock collection operation of that server runs under an
exclusive lock on ``<file>.lock`` (:func:`sseflows.stores.file_lock`), first reloading the
file if another process changed it, and an operation that may write saves the whole server
to the file (written to a temporary file, then renamed: a writer killed mid-save leaves the
previous version) before the lock is released. The exit-time save is detached. This is what
MongoDB guarantees and FireWorks relies on: every single operation is atomic
(``checkout_fw`` claims a Firework with one ``find_one_and_update``; a workflow is refreshed
under FireWorks' own ``WFLock``, itself a ``find_one_and_update``), so FireWorks' code path is
the same for both. A ``mongodb://`` LaunchPad needs none of this.

Every write rewrites the whole file: fine for laptops, CI and a few thousand Fireworks;
large campaigns belong on a MongoDB server.
"""

from __future__ import annotations

import functools
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any

from sseflows.stores import file_lock

_WRITES = (
    "insert_one",
    "insert_many",
    "insert",
    "update_one",
    "update_many",
    "update",
    "replace_one",
    "find_one_and_update",
    "find_one_and_replace",
    "find_one_and_delete",
    "find_and_modify",
    "delete_one",
    "delete_many",
    "remove",
    "save",
    "bulk_write",
    "drop",
    "create_index",
    "create_indexes",
    "drop_index",
    "drop_indexes",
    "rename",
)
_READS = (
    "find_one",
    "count_documents",
    "estimated_document_count",
    "count",
    "distinct",
    "aggregate",
)
_DATABASE_WRITES = ("drop_collection", "create_collection", "rename_collection")
_PATCHED = threading.Lock()
_patched = False


class DurableServer:
    """The file behind one mongomock ``ServerStore``, kept in step under a file lock."""

    def __init__(self, server_store: Any, path: str | Path) -> None:
        self.server_store = server_store
        self.path = Path(path).resolve()
        self.lock_path = self.lock_path_of(self.path)
        self._signature: tuple[int, int, int] | None = None
        self._local = threading.local()

    @staticmethod
    def lock_path_of(path: str | Path) -> Path:
        """The lock file next to the LaunchPad file ``path``."""
        path = Path(path).resolve()
        return path.with_name(path.name + ".lock")

    @contextmanager
    def operation(self, write: bool) -> Iterator[None]:
        """One atomic operation: lock, reload if changed, run, save if it may have written."""
        with file_lock(self.lock_path):
            depth = getattr(self._local, "depth", 0)
            self._local.depth = depth + 1
            try:
                if depth == 0:
                    self.reload()
                yield
            finally:
                self._local.depth = depth
                dirty = getattr(self._local, "dirty", False) or write
                self._local.dirty = dirty and depth > 0
                if dirty and depth == 0:
                    self.save()

    def _file_signature(self) -> tuple[int, int, int] | None:
        try:
            stat = os.stat(self.path)
        except FileNotFoundError:
            return None
        return (stat.st_ino, stat.st_mtime_ns, stat.st_size)

    def reload(self) -> None:
        """Replace the in-memory databases by the file's, in place, when the file changed."""
        import bson.json_util
        from mongomock.store import CollectionStore, DatabaseStore

        signature = self._file_signature()
        if signature is None or signature == self._signature:
            return
        content = bson.json_util.loads(self.path.read_text(encoding="utf-8"))
        # Open Database and Collection objects point at these stores: update them in
        # place, emptying what the file no longer holds instead of removing it.
        databases = self.server_store._databases
        for db_name, db_store in databases.items():
            if db_name not in content:
                for coll_store in db_store._collections.values():
                    coll_store._documents = OrderedDict()
        for db_name, db_dict in content.items():
            db_store = databases.get(db_name)
            if db_store is None:
                # from_dict is mongomock-persistence's patch, unknown to mongomock's stubs
                databases[db_name] = DatabaseStore.from_dict(db_dict)  # type: ignore[attr-defined]
                continue
            collections = db_store._collections
            for name in list(collections):
                if name not in db_dict:
                    collections[name]._documents = OrderedDict()
            for name, coll_dict in db_dict.items():
                if name in collections:  # keep the object: open Collections point at it
                    collections[name]._documents = OrderedDict(coll_dict["documents"])
                else:
                    collections[name] = CollectionStore.from_dict(coll_dict)  # type: ignore[attr-defined]
        self._signature = signature

    def save(self) -> None:
        """Write the whole server to the file atomically (temporary file, fsync, rename)."""
        import bson.json_util
        import orjson

        # what bson.json_util.dumps writes (bson types, datetimes included, through its
        # default), encoded by orjson: 4x faster than json for the whole file, which every
        # write rewrites (7.5 MB for 3,000 workflows: 0.26 s -> 0.07 s per save)
        data = orjson.dumps(
            self.server_store.to_dict(),
            default=bson.json_util.default,
            option=orjson.OPT_PASSTHROUGH_DATETIME,
        )
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        with open(tmp, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, self.path)
        self._signature = self._file_signature()


def _durable_of(collection: Any) -> DurableServer | None:
    try:
        server_store = collection.database.client._store
    except AttributeError:
        return None
    return getattr(server_store, "_sseflows_durable", None)


def _wrap(method: Callable[..., Any], write: bool, owner: Callable[[Any], Any]) -> Callable:
    @functools.wraps(method)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        durable = _durable_of(owner(self))
        if durable is None:
            return method(self, *args, **kwargs)
        with durable.operation(write):
            return method(self, *args, **kwargs)

    return wrapper


def _patch_mongomock() -> None:
    """Route mongomock's collection, cursor and database operations through
    :meth:`DurableServer.operation` (only for servers :func:`make_durable` marked)."""
    global _patched
    with _PATCHED:
        if _patched:
            return
        from mongomock.collection import Collection, Cursor
        from mongomock.database import Database

        def same(obj: Any) -> Any:
            return obj

        for names, write in ((_WRITES, True), (_READS, False)):
            for name in names:
                if hasattr(Collection, name):
                    setattr(Collection, name, _wrap(getattr(Collection, name), write, same))
        # find() builds a lazy cursor: the read happens when its results are computed
        compute = _wrap(Cursor._compute_results, False, lambda cursor: cursor.collection)
        setattr(Cursor, "_compute_results", compute)  # noqa: B010 - mypy: no method-assign

        class _AsCollection:
            """Database methods take a database; reach the client the same way."""

            def __init__(self, database: Any) -> None:
                self.database = database

        for name in _DATABASE_WRITES:
            if hasattr(Database, name):
                setattr(Database, name, _wrap(getattr(Database, name), True, _AsCollection))
        for name in ("create_index", "create_indexes"):
            setattr(Collection, name, _skip_indexes(getattr(Collection, name)))
        _patched = True


def _skip_indexes(method: Callable[..., Any]) -> Callable:
    """``create_index(es)`` that creates nothing on a durable server: mongomock indexes
    speed up no query (every find scans) but every insert checks each unique index by
    scanning the collection, so FireWorks' indexes made adding n workflows O(n²) (4,000
    workflows: 25 s, 4.7 s without). Uniqueness of ``fw_id`` and ``launch_id`` does not
    depend on them: FireWorks draws ids from its counters with ``find_one_and_update``,
    atomic under the file lock."""

    @functools.wraps(method)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        if _durable_of(self) is None:
            return method(self, *args, **kwargs)
        keys = args[0] if args else kwargs.get("keys", kwargs.get("indexes"))
        return [] if method.__name__ == "create_indexes" else str(keys)

    return wrapper


def drop_secondary_indexes(launchpad: Any) -> None:
    """Drop the indexes (all but ``_id``) an embedded LaunchPad's collections hold, e.g. from
    a file FireWorks created before it was made durable (see :func:`_skip_indexes`)."""
    for name in launchpad.db.list_collection_names():
        collection = launchpad.db[name]
        if len(collection.index_information()) > 1:
            collection.drop_indexes()


def make_durable(launchpad: Any, path: str | Path) -> Any:
    """Make ``launchpad`` (an embedded, mongomock-persistence LaunchPad on ``path``) durable
    and safe next to other processes using the same file; returns it."""
    server_store = launchpad.connection._store
    finalizer = getattr(server_store, "_finalizer", None)
    if finalizer is not None:
        finalizer.detach()  # the exit-time save would overwrite other processes' changes
    durable = DurableServer(server_store, path)
    with file_lock(durable.lock_path):
        durable._signature = None
        durable.reload()
    server_store._sseflows_durable = durable
    _patch_mongomock()
    drop_secondary_indexes(launchpad)
    return launchpad


def transaction(launchpad: Any) -> AbstractContextManager[None]:
    """One lock and one save around many operations of ``launchpad`` (adding thousands of
    workflows saves the file once, not after each write); nothing for other LaunchPads."""
    store = getattr(getattr(launchpad, "connection", None), "_store", None)
    durable = getattr(store, "_sseflows_durable", None)
    return durable.operation(write=False) if durable is not None else nullcontext()


def is_durable(launchpad: Any) -> bool:
    """True when ``launchpad``'s embedded server saves every change at once."""
    store = getattr(getattr(launchpad, "connection", None), "_store", None)
    return getattr(store, "_sseflows_durable", None) is not None
