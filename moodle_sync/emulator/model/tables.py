"""In-memory tables: rows by id, dict indexes on chosen keys, and an undo journal.

Every write goes through Table.insert/update/delete so that indexes stay right and a failed
all-or-nothing call can be rolled back (Moodle's delegated transactions, ws-reference.md §3).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from dataclasses import fields, replace
from typing import Any, ClassVar, Generic, Protocol, TypeVar


class Record(Protocol):
    """A frozen dataclass row with an ``id``."""

    __dataclass_fields__: ClassVar[dict[str, Any]]

    @property
    def id(self) -> int: ...


R = TypeVar("R", bound=Record)
KeyFunc = Callable[[Any], Hashable | None]


class Journal:
    """Undo steps recorded while a transaction is open; rolled back in reverse on failure."""

    def __init__(self) -> None:
        self.depth = 0
        self.undo: list[Callable[[], None]] = []

    def record(self, step: Callable[[], None]) -> None:
        if self.depth:
            self.undo.append(step)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All-or-nothing block; nests as a savepoint."""
        mark = len(self.undo)
        self.depth += 1
        try:
            yield
        except BaseException:
            for step in reversed(self.undo[mark:]):
                step()
            del self.undo[mark:]
            raise
        finally:
            self.depth -= 1
            if self.depth == 0:
                self.undo.clear()


class Table(Generic[R]):
    """Rows of one record type keyed by id, with secondary indexes (value → ids)."""

    def __init__(self, name: str, journal: Journal, *, first_id: int = 1,
                 indexes: dict[str, KeyFunc] | None = None) -> None:
        self.name = name
        self.journal = journal
        self.rows: dict[int, R] = {}
        self.next_id = first_id
        self.version = 0  # bumped on every change, so derived caches (sort orders) know to recompute
        self._keyfuncs: dict[str, KeyFunc] = dict(indexes or {})
        self._indexes: dict[str, dict[Hashable, dict[int, None]]] = {n: {} for n in self._keyfuncs}

    # --- reads ---
    def get(self, id_: object) -> R | None:
        return self.rows.get(id_) if isinstance(id_, int) and not isinstance(id_, bool) else None

    def __contains__(self, id_: object) -> bool:
        return self.get(id_) is not None

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self) -> Iterator[R]:
        return iter(list(self.rows.values()))

    def ids_by(self, index: str, key: Hashable) -> list[int]:
        """Ids whose index key equals ``key``, in insertion order."""
        return list(self._indexes[index].get(key, {}))

    def by(self, index: str, key: Hashable) -> list[R]:
        return [self.rows[i] for i in self._indexes[index].get(key, {})]

    def first_by(self, index: str, key: Hashable) -> R | None:
        ids = self._indexes[index].get(key)
        if not ids:
            return None
        return self.rows[next(iter(ids))]

    def count_by(self, index: str, key: Hashable) -> int:
        return len(self._indexes[index].get(key, {}))

    # --- writes ---
    def new_id(self) -> int:
        id_ = self.next_id
        self.next_id += 1
        return id_

    def insert(self, row: R) -> R:
        if row.id in self.rows:
            raise KeyError(f"{self.name}: id {row.id} exists")
        self.rows[row.id] = row
        self._index_add(row)
        self.version += 1
        self.journal.record(lambda: self._remove(row.id))
        return row

    def update(self, row: R, **changes: Any) -> R:
        """Change fields of a stored row (the row object is replaced, so snapshots stay unchanged)."""
        old = self.rows[row.id]
        new = replace(old, **changes)
        self._index_remove(old)
        self.rows[row.id] = new
        self._index_add(new)
        self.version += 1
        self.journal.record(lambda: self._put(old))
        return new

    def delete(self, row_or_id: R | int) -> None:
        id_ = row_or_id if isinstance(row_or_id, int) else row_or_id.id
        old = self.rows.get(id_)
        if old is None:
            return
        self._remove(id_)
        self.journal.record(lambda: self._put(old, fresh=True))

    # --- internals (also used by undo) ---
    def _remove(self, id_: int) -> None:
        row = self.rows.pop(id_)
        self._index_remove(row)
        self.version += 1

    def _put(self, row: R, fresh: bool = False) -> None:
        current = self.rows.get(row.id)
        if current is not None:
            self._index_remove(current)
        self.rows[row.id] = row
        self._index_add(row)
        self.version += 1

    def _index_add(self, row: R) -> None:
        for name, func in self._keyfuncs.items():
            key = func(row)
            if key is not None:
                self._indexes[name].setdefault(key, {})[row.id] = None

    def _index_remove(self, row: R) -> None:
        for name, func in self._keyfuncs.items():
            key = func(row)
            if key is None:
                continue
            bucket = self._indexes[name].get(key)
            if bucket is not None:
                bucket.pop(row.id, None)
                if not bucket:
                    del self._indexes[name][key]

    def dump(self) -> list[dict[str, Any]]:
        """Plain dicts of every row, by id (for snapshots)."""
        return [{f.name: _plain(getattr(r, f.name)) for f in fields(r)}
                for _, r in sorted(self.rows.items())]


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value
