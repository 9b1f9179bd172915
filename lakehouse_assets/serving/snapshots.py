"""Consistent reads: a request reads every table it needs at one Delta version.

``Lakehouse.read(tables)`` pins, for the whole request, the newest committed version of each
table. A Delta commit is one atomic log entry, so a table being rewritten is read either
before or after that commit, never half-done. Each version is loaded once from delta-rs (Arrow,
no JVM) into an in-memory DuckDB table named after the table and its version: the cache keyed
by table version. Queries then run in DuckDB with bound parameters (a point lookup on an indexed
DuckDB table takes about a millisecond; scanning the Arrow data for each request took 15 times
longer). A version is dropped once a newer one is current and no request still reads it.

New versions are noticed without a restart: every request lists the table's ``_delta_log``
(microseconds) and reloads when a newer commit file is there.

A point lookup that a frequent request needs (the customer profile joins four tables) can be
materialized once per combination of its tables' versions (``Read.lookup``): the join's result
as one Arrow table with a dict from key to row, so a profile is a dict lookup and one row's
conversion: 0.16 ms per profile at size M, pinning the versions included, against 1.25 ms as
an indexed DuckDB point query (most of it planning). It is dropped with the first of those
versions.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Iterator

import deltalake
import duckdb
import pyarrow as pa

from lakehouse_assets.serving.config import ServeConfig
from lakehouse_assets.serving.errors import TableMissing

# Served tables (<layer>.<table>) and the columns point lookups go through (DuckDB indexes).
TABLES: dict[str, tuple[str, ...]] = {
    "gold.fct_customer_metrics": (),  # point lookups go through the profile's keyed rows
    "gold.dim_customer_segments": (),
    "gold.fct_customer_ltv": (),
    "gold.fct_customer_spend_tiers": (),
    "gold.fct_product_performance": ("product_id",),
    "gold.fct_daily_sales": (),
    "gold.fct_sales_forecast": (),
    "gold.fct_high_risk_orders": (),
    "gold.data_quality_summary": (),
    "ml.ml_customer_features": ("customer_id",),
}
# "As of" of every response: the analysis date of the data, the latest day with completed
# orders (what the transforms call analysis_date), never the clock.
AS_OF_TABLE = "gold.fct_daily_sales"
AS_OF_SQL = "SELECT max(order_date) FROM {fct_daily_sales} WHERE order_count > 0"

_COMMIT_FILE = re.compile(r"^(\d{20})\.json$")


def newest_commit(path: str) -> int | None:
    """Highest commit number in the table's Delta log; None when there is no table."""
    try:
        names = os.listdir(os.path.join(path, "_delta_log"))
    except FileNotFoundError:
        return None
    versions = [int(m.group(1)) for m in map(_COMMIT_FILE.match, names) if m]
    return max(versions) if versions else None


@dataclass(eq=False)
class Snapshot:
    table: str  # <layer>.<table>
    version: int
    relation: str  # the DuckDB table holding this version
    as_of: dt.date | None = None  # only for AS_OF_TABLE
    readers: int = 0
    current: bool = True
    lookups: list[str] = field(default_factory=list)  # keyed lookups built from this version


@dataclass(frozen=True)
class KeyedRows:
    """A query's result held in memory with its rows by key (a unique column)."""

    rows: pa.Table
    index: dict

    @classmethod
    def build(cls, rows: pa.Table, key: str) -> "KeyedRows":
        keys = rows.column(key).to_pylist()
        index = dict(zip(keys, range(len(keys))))
        if len(index) != len(keys):
            raise ValueError(f"{key} is not unique in the lookup's rows")
        return cls(rows, index)

    def get(self, key) -> dict | None:
        position = self.index.get(key)
        return None if position is None else self.rows.slice(position, 1).to_pylist()[0]


@dataclass
class Read:
    """The tables of one request, each at its pinned version."""

    lakehouse: "Lakehouse"
    cursor: duckdb.DuckDBPyConnection
    snapshots: dict[str, Snapshot] = field(default_factory=dict)

    @property
    def table_version(self) -> dict[str, int]:
        return {name: s.version for name, s in sorted(self.snapshots.items())}

    @property
    def as_of(self) -> dt.date | None:
        return self.snapshots[AS_OF_TABLE].as_of

    def rows(self, sql: str, params: list | tuple = ()) -> list[dict]:
        """Run ``sql`` with ``{table}`` placeholders (names without layer) on the pinned
        versions; client values are only ever ``?`` parameters."""
        self.cursor.execute(self.sql(sql), list(params))
        columns = [d[0] for d in self.cursor.description]
        return [dict(zip(columns, row)) for row in self.cursor.fetchall()]

    def sql(self, template: str) -> str:
        names = {s.table.split(".")[1]: f'"{s.relation}"' for s in self.snapshots.values()}
        return template.format(**names)

    def lookup(self, name: str, sql: str, key: str, tables: tuple[str, ...], value) -> dict | None:
        """The row of ``sql`` over ``tables`` (at their pinned versions) whose ``key`` is
        ``value``; the result is built once per combination of versions and kept in memory."""
        return self.lakehouse.keyed(self, name, sql, key, tables).get(value)


class Lakehouse:
    def __init__(self, config: ServeConfig):
        self.config = config
        self.db = duckdb.connect(":memory:")
        self.db.execute("SET TimeZone = 'UTC'")  # timestamps render in UTC on any machine
        self._lock = threading.Lock()  # guards the snapshots' reader counts
        self._table_locks = {name: threading.Lock() for name in TABLES}
        self._current: dict[str, Snapshot] = {}
        self._lookup_lock = threading.Lock()
        self._lookups: dict[str, KeyedRows] = {}

    def path(self, table: str) -> str:
        return self.config.table_path(*table.split("."))

    @contextmanager
    def read(self, *tables: str) -> Iterator[Read]:
        """Pin the newest version of ``tables`` (and of the as-of table) for one request."""
        cursor = self.db.cursor()
        read = Read(self, cursor)
        try:
            for table in sorted({*tables, AS_OF_TABLE}):
                read.snapshots[table] = self._pin(table)
            yield read
        finally:
            cursor.close()
            for snapshot in read.snapshots.values():
                self._release(snapshot)

    def status(self) -> dict[str, int | None]:
        """Version of every served table on disk (None: not built), without loading any."""
        return {table: newest_commit(self.path(table)) for table in TABLES}

    def keyed(self, read: Read, name: str, sql: str, key: str,
              tables: tuple[str, ...]) -> KeyedRows:
        sources = [read.snapshots[t] for t in sorted(tables)]
        ident = name + "@" + ",".join(f"{s.table}@v{s.version}" for s in sources)
        with self._lookup_lock:  # built once; the sources are pinned, so none is dropped
            if ident not in self._lookups:
                rows = read.cursor.execute(read.sql(sql)).to_arrow_table()
                with self._lock:
                    self._lookups[ident] = KeyedRows.build(rows, key)
                    for source in sources:
                        source.lookups.append(ident)
            return self._lookups[ident]

    def _pin(self, table: str) -> Snapshot:
        with self._table_locks[table]:  # one loader per table; readers wait for its result
            newest = newest_commit(self.path(table))
            if newest is None:
                raise TableMissing(table, self.path(table), self.config.root)
            current = self._current.get(table)
            if current is None or current.version != newest:
                self._replace(table, self._load(table))
            with self._lock:
                snapshot = self._current[table]
                snapshot.readers += 1
                return snapshot

    def _load(self, table: str) -> Snapshot:
        try:
            delta = deltalake.DeltaTable(self.path(table))
        except deltalake.exceptions.TableNotFoundError:
            raise TableMissing(table, self.path(table), self.config.root) from None
        version = delta.version()
        snapshot = Snapshot(table, version, f"{table}@v{version}")
        cursor = self.db.cursor()
        try:
            cursor.register("delta_snapshot", delta.to_pyarrow_dataset())
            cursor.execute(f'CREATE OR REPLACE TABLE "{snapshot.relation}" AS '
                           "SELECT * FROM delta_snapshot")
            for column in TABLES[table]:
                cursor.execute(f'CREATE INDEX "{snapshot.relation}:{column}" '
                               f'ON "{snapshot.relation}" ("{column}")')
            if table == AS_OF_TABLE:
                cursor.execute(AS_OF_SQL.format(fct_daily_sales=f'"{snapshot.relation}"'))
                snapshot.as_of = cursor.fetchone()[0]
        finally:
            cursor.close()
        return snapshot

    def _replace(self, table: str, snapshot: Snapshot) -> None:
        with self._lock:
            old = self._current.get(table)
            self._current[table] = snapshot
            if old is not None:
                old.current = False
                self._drop_if_unread(old)

    def _release(self, snapshot: Snapshot) -> None:
        with self._lock:
            snapshot.readers -= 1
            self._drop_if_unread(snapshot)

    def _drop_if_unread(self, snapshot: Snapshot) -> None:
        if not snapshot.current and snapshot.readers == 0:
            for ident in snapshot.lookups:
                self._lookups.pop(ident, None)
            cursor = self.db.cursor()
            cursor.execute(f'DROP TABLE IF EXISTS "{snapshot.relation}"')
            cursor.close()
