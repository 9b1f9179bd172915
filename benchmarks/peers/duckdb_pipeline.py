"""The project's silver-to-gold pipeline on DuckDB, straight from the landing CSV files.

Bronze is read here with ``read_csv`` over the landing zone's files, every contract column
with its explicit type from ``lakehouse_assets.landing.DATASETS`` (no type sniffing: ids stay
strings), the landing date from the ``<dataset>/<YYYY-MM-DD>/`` folder of the path and the row
position in file order. The same files as the lakehouse's are read (``scan_landing_zone``:
date folders, ``*.csv``, no symlinks). The SQL of every later step is ``duckdb_pipeline.sql``,
one ``CREATE TABLE`` per step, in an in-memory database.

Meant for clean landing data (the benchmarks'): a value that does not parse as its contract
type fails the read, where the lakehouse would keep it in ``_rescued_data`` and quarantine
the row in silver. Everything else silver does (trimming, normalisation, validation, latest
version per key) is in the SQL.

    python -m benchmarks.peers.duckdb_pipeline --landing-root LANDING [--threads N]
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import time
from pathlib import Path

import duckdb
import pandas as pd

from benchmarks.peers.gold_numbers import GOLD_TABLES, summary
from lakehouse_assets.landing import DATASETS, DatasetSpec, scan_landing_zone

SQL_FILE = Path(__file__).with_name("duckdb_pipeline.sql")

# The landing contract's Spark types in DuckDB (decimal(p,s) is spelled the same).
_DUCKDB_TYPES = {"timestamp": "TIMESTAMP", "int": "INTEGER", "string": "VARCHAR"}


def duckdb_type(spark_type: str) -> str:
    return _DUCKDB_TYPES.get(spark_type, spark_type.upper())


def _header(path: str) -> set[str]:
    """Column names of one CSV file as bronze reads them (trimmed, lower-cased)."""
    with open(path, newline="", encoding="utf-8-sig") as f:
        return {name.strip().lower() for name in next(csv.reader(f), [])}


def _sql_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def bronze_sql(spec: DatasetSpec, paths: list[str]) -> str:
    """CREATE TABLE bronze_<dataset> from the given CSV files (contract columns, typed)."""
    types = {c: duckdb_type(spec.types.get(c, "string")) for c in spec.columns}
    table = f"bronze_{spec.name}"
    metadata = "_landing_date DATE, _source_file VARCHAR, _file_order BIGINT"
    if not paths:
        columns = ", ".join(f"{c} {t}" for c, t in types.items())
        return f"CREATE TABLE {table} ({columns}, {metadata})"
    # An optional column that no file has is null (read_csv refuses types for absent columns).
    present = set().union(*(_header(p) for p in paths))
    select = ",\n    ".join(
        c if c in present else f"CAST(NULL AS {t}) AS {c}" for c, t in types.items()
    )
    type_map = ", ".join(
        f"{_sql_string(c)}: {_sql_string(t)}" for c, t in types.items() if c in present
    )
    files = ", ".join(_sql_string(p) for p in paths)
    return f"""CREATE TABLE {table} AS
SELECT
    {select},
    CAST(regexp_extract(filename, '([0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}})/[^/]*$', 1) AS DATE)
        AS _landing_date,
    filename AS _source_file,
    row_number() OVER () AS _file_order  -- DuckDB keeps file order through a plain scan
FROM read_csv(
    [{files}],
    header = true, delim = ',', quote = '"', escape = '"',
    union_by_name = true, filename = true,
    types = {{{type_map}}}
)"""


def _statements(sql: str) -> list[str]:
    return [s.strip() for s in re.split(r";\s*\n", sql) if s.strip() and not _only_comments(s)]


def _only_comments(statement: str) -> bool:
    return all(not line.strip() or line.strip().startswith("--") for line in statement.splitlines())


def _created_table(statement: str) -> str | None:
    """The table (or view) a statement creates; None for a macro."""
    match = re.search(r"^CREATE\s+(TABLE|VIEW|MACRO)\s+(\w+)", statement, re.MULTILINE)
    if match is None:
        raise ValueError(f"not a CREATE statement: {statement[:200]}")
    return None if match.group(1) == "MACRO" else match.group(2)


def _qualified(table: str) -> str:
    """'stg_orders' -> 'silver.stg_orders', as the lakehouse names its tables."""
    layers = {"stg": "silver", "int": "silver", "fct": "gold", "dim": "gold", "ml": "ml"}
    return f"{layers.get(table.split('_', 1)[0], 'silver')}.{table}"


def run(
    landing_root: str, threads: int | None = None, *, timings: dict[str, float] | None = None
) -> dict[str, pd.DataFrame]:
    """The gold and ML tables of the landing zone, as pandas DataFrames keyed "<layer>.<table>".

    ``timings``, when given, receives the seconds of every step (``bronze.<dataset>`` and the
    ``<layer>.<table>`` each SQL statement creates), ``to_pandas`` and ``total``.
    """
    timings = {} if timings is None else timings
    started = time.perf_counter()
    con = duckdb.connect()  # in memory
    try:
        con.execute("SET enable_progress_bar = false")
        if threads:
            con.execute(f"SET threads = {int(threads)}")
        files = scan_landing_zone(landing_root).files
        for dataset, spec in DATASETS.items():
            t0 = time.perf_counter()
            con.execute(bronze_sql(spec, [f.path for f in files if f.dataset == dataset]))
            timings[f"bronze.{dataset}"] = time.perf_counter() - t0
        for statement in _statements(SQL_FILE.read_text()):
            t0 = time.perf_counter()
            con.execute(statement)
            if table := _created_table(statement):
                timings[_qualified(table)] = time.perf_counter() - t0
        t0 = time.perf_counter()
        tables = {name: con.sql(f"SELECT * FROM {name.split('.')[1]}").df() for name in GOLD_TABLES}
        timings["to_pandas"] = time.perf_counter() - t0
    finally:
        con.close()
    timings["total"] = time.perf_counter() - started
    return tables


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--landing-root", required=True)
    parser.add_argument("--threads", type=int, default=None, help="DuckDB threads (default: all)")
    args = parser.parse_args()
    timings: dict[str, float] = {}
    tables = run(args.landing_root, args.threads, timings=timings)
    print(json.dumps({"seconds": {k: round(v, 3) for k, v in timings.items()},
                      "summary": summary(tables)}, indent=2, default=str))


if __name__ == "__main__":
    main()
