"""Bronze ingestion: landing CSV files to typed rows, quarantined lines and a ledger entry per file.

Nothing is lost at bronze:
* every record of a file becomes either a bronze row or a quarantine row (with its raw text
  and the reason), so ``rows_loaded + lines_quarantined = records`` holds per file;
* a value that does not parse as its column's type is null in that column and kept verbatim
  in ``_rescued_data`` (a JSON object, as Auto Loader's rescued-data column), together with the
  values of columns the contract does not know;
* a file that cannot be read at all (not UTF-8, unreadable) is a ledger row with status
  ``failed`` and its error; the other files of the day still load.

Parsing is line-oriented RFC 4180: a record is one physical line unless a quoted field spans
lines; a quote that never closes quarantines that one line instead of swallowing the file.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import sys
from dataclasses import dataclass, field
from typing import Any, Iterable

from pyspark.sql import functions as F

from lakehouse_assets.landing import DatasetSpec, LandingFile

# A quoted field may span lines; beyond this many lines an open quote is treated as broken.
MAX_LINES_PER_RECORD = 50

# The csv module refuses fields over 128 KiB by default, and its error made a long but
# well-formed value look like a broken line. A record's size is bounded by its file, not here.
csv.field_size_limit(sys.maxsize)

STATUS_LOADED = "loaded"
STATUS_UNCHANGED = "unchanged"
STATUS_FAILED = "failed"

@dataclass
class ParsedFile:
    file: LandingFile
    content_hash: str
    rows: list[tuple[int, dict[str, str]]] = field(default_factory=list)  # (line, values)
    quarantined: list[tuple[int, str, str]] = field(default_factory=list)  # (line, raw, reason)
    blank_lines: int = 0
    error: str | None = None

    @property
    def records(self) -> int:
        return len(self.rows) + len(self.quarantined)


def _records(lines: list[str]) -> Iterable[tuple[int, str, list[str] | str]]:
    """Yield (first line number, raw text, fields or the reason it is not a record) per record.

    ``lines`` are the physical lines without their LF; a CRLF line keeps its CR, so that a
    quoted field spanning lines keeps its line breaks as landed (RFC 4180: CRLF included).
    """
    i = 0
    while i < len(lines):
        end = i + 1
        # An odd number of quotes leaves a quoted field open: take lines until it closes.
        quotes = lines[i].count('"')
        while quotes % 2 == 1 and end < len(lines) and end - i < MAX_LINES_PER_RECORD:
            quotes += lines[end].count('"')
            end += 1
        raw = "\n".join(lines[i:end]).removesuffix("\r")
        fields: list[str] | str | None = None
        if quotes % 2 == 0:
            try:
                fields = next(csv.reader([raw], strict=True)) if raw else []
            except csv.Error as exc:
                # Lines taken together that are no record: the quote of line i was "closed"
                # by a quote of a later line that opens a field of its own (another broken
                # line, the first line of a multi-line field). Line i alone is broken then;
                # the lines after it are records of their own, not part of a rejected blob.
                fields = f"malformed CSV: {exc}" if end - i == 1 else None
        if fields is None:
            yield i + 1, lines[i].removesuffix("\r"), "malformed CSV: unbalanced quote"
            i += 1
            continue
        yield i + 1, raw, fields
        i = end


def parse_csv(file: LandingFile, content: bytes) -> ParsedFile:
    """Split one landing file into rows and quarantined records (no Spark involved)."""
    parsed = ParsedFile(file=file, content_hash=hashlib.sha256(content).hexdigest())
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        parsed.error = f"not UTF-8: {exc}"
        return parsed
    lines = text.split("\n")  # CRs stay: _records drops those that end a record
    if lines and lines[-1] == "":
        lines.pop()  # the newline that ends the last record
    header: list[str] | None = None
    for line_number, raw, fields in _records(lines):
        if header is None:
            if isinstance(fields, str):
                parsed.error = f"unparseable header line: {raw[:200]!r}"
                return parsed
            header = [name.strip().lower() for name in fields]
            if len(set(header)) != len(header):
                parsed.error = f"duplicate column names in header: {header}"
                return parsed
            continue
        if raw.strip() == "":
            parsed.blank_lines += 1
            continue
        if isinstance(fields, str):
            parsed.quarantined.append((line_number, raw, fields))
        elif len(fields) != len(header):
            parsed.quarantined.append(
                (line_number, raw, f"expected {len(header)} fields, found {len(fields)}")
            )
        else:
            parsed.rows.append((line_number, dict(zip(header, fields))))
    return parsed


# Readers with nanosecond timestamps (pyarrow, delta-rs, pandas) end in 2262: bronze types
# timestamps of [1900-01-01, 2200-01-01) only, and rescues the text of any other as unparseable
# (silver then quarantines the row as out_of_range), so every table stays readable everywhere.
TIMESTAMP_RANGE = (dt.date(1900, 1, 1), dt.date(2200, 1, 1))


def storable_timestamp(sql: str) -> str:
    """SQL for `sql` (text) as a timestamp within TIMESTAMP_RANGE; null otherwise."""
    low, high = (f"TIMESTAMP'{d.isoformat()}'" for d in TIMESTAMP_RANGE)
    return (
        f"CASE WHEN try_to_timestamp({sql}) >= {low} AND try_to_timestamp({sql}) < {high} "
        f"THEN try_to_timestamp({sql}) END"
    )


def _typed(column: str, spark_type: str | None) -> str:
    raw = f"nullif(`{column}`, '')"
    if spark_type is None:
        return raw
    if spark_type == "timestamp":
        return storable_timestamp(f"trim({raw})")
    return f"try_cast(trim({raw}) AS {spark_type})"


def _audit(ingested_at: dt.datetime, run_id: str) -> list[Any]:
    return [F.lit(ingested_at).alias("_ingested_at"), F.lit(run_id).alias("_run_id")]


def _raw_arrow_schema(spec: DatasetSpec) -> Any:
    import pyarrow as pa

    return pa.schema([
        *((c, pa.string()) for c in spec.columns),
        ("_extra", pa.string()),
        ("_landing_date", pa.date32()),
        ("_source_file", pa.string()),
        ("_line_number", pa.int32()),
        ("_file_hash", pa.string()),
    ])


def raw_table(spec: DatasetSpec, pf: ParsedFile) -> Any:
    """One parsed file's rows as an Arrow table: every known column as text, the values of
    unknown columns as a JSON object, and where each row came from.

    Files are converted one at a time while they are read, so a long range (a backfill of a
    year) holds its rows as compact Arrow buffers rather than as a Python dict per row (the
    full build at size M peaked at 1.8 GiB of Python memory with the dicts; BENCHMARKS.md).
    """
    import pyarrow as pa

    known = spec.columns
    rows = pf.rows
    extras = []
    for _, values in rows:
        extra = {k: v for k, v in values.items() if k not in known and v != ""}
        extras.append(json.dumps(extra, sort_keys=True) if extra else None)
    n = len(rows)
    columns = {
        **{c: [values.get(c) for _, values in rows] for c in known},
        "_extra": extras,
        "_landing_date": [pf.file.landing_date] * n,
        "_source_file": [pf.file.relative_path] * n,
        "_line_number": [line for line, _ in rows],
        "_file_hash": [pf.content_hash] * n,
    }
    return pa.table(columns, schema=_raw_arrow_schema(spec))


def quarantine_records(pf: ParsedFile) -> list[tuple]:
    """One parsed file's unparseable records, in ``QUARANTINE_COLUMNS`` order."""
    return [
        (pf.file.landing_date, pf.file.relative_path, line, raw_text, reason, pf.content_hash)
        for line, raw_text, reason in pf.quarantined
    ]


def parsed_frames(
    spark: Any,
    spec: DatasetSpec,
    raw_tables: list[Any],
    quarantined: list[tuple],
    *,
    ingested_at: dt.datetime,
    run_id: str,
) -> tuple[Any, Any]:
    """(bronze rows, quarantined records) DataFrames of freshly parsed files, from their
    ``raw_table``s and ``quarantine_records``."""
    import pandas as pd
    import pyarrow as pa

    known = spec.columns
    # One chunk per column: Spark reads an Arrow table batch by batch and stops at an empty
    # batch, so the empty table of a header-only file lost the rows of every file after it.
    arrow = pa.concat_tables([_raw_arrow_schema(spec).empty_table(), *raw_tables]).combine_chunks()
    if arrow.num_rows:
        raw = spark.createDataFrame(arrow)  # the Arrow schema carries the Spark types
    else:  # Spark Connect infers no schema from an empty table, even an Arrow one
        from pyspark.sql.pandas.types import from_arrow_schema

        raw = spark.createDataFrame([], from_arrow_schema(arrow.schema))
    # Values that fail to parse, and unknown columns, are rescued verbatim as JSON.
    failures = ", ".join(
        f"'{c}', CASE WHEN nullif(`{c}`, '') IS NOT NULL AND {_typed(c, t)} IS NULL "
        f"THEN `{c}` END"
        for c, t in spec.types.items()
    )
    rescued = (
        f"map_concat(map_filter(map({failures}), (k, v) -> v IS NOT NULL), "
        "coalesce(from_json(_extra, 'map<string,string>'), map()))"
    )
    bronze = raw.selectExpr(
        *(f"{_typed(c, spec.types.get(c))} AS `{c}`" for c in known),
        f"CASE WHEN size({rescued}) > 0 THEN to_json({rescued}) END AS _rescued_data",
        "_landing_date",
        "_source_file",
        "_line_number",
        "_file_hash",
    ).select("*", *_audit(ingested_at, run_id))
    quarantine = spark.createDataFrame(
        pd.DataFrame(quarantined, columns=list(QUARANTINE_COLUMNS)), schema=QUARANTINE_SCHEMA
    ).select("*", *_audit(ingested_at, run_id))
    return bronze, quarantine


QUARANTINE_COLUMNS = (
    "_landing_date", "_source_file", "_line_number", "raw_line", "reason", "_file_hash"
)
QUARANTINE_SCHEMA = (
    "_landing_date date, _source_file string, _line_number int, raw_line string, "
    "reason string, _file_hash string"
)
LEDGER_SCHEMA = (
    "_landing_date date, file_path string, size_bytes bigint, content_hash string, "
    "records int, rows_loaded int, lines_quarantined int, blank_lines int, status string, "
    "error string, _run_id string, _ingested_at timestamp"
)


@dataclass
class PreviousIngestion:
    """What bronze already holds for the landing dates being ingested (None: nothing yet)."""

    bronze: Any | None
    quarantine: Any | None
    ledger: list[dict[str, Any]]


@dataclass
class BronzeBatch:
    bronze: Any
    quarantine: Any
    ledger: Any
    files_loaded: int
    files_unchanged: int
    files_failed: int


def ingest_files(
    spark: Any,
    spec: DatasetSpec,
    files: list[LandingFile],
    previous: PreviousIngestion,
    *,
    run_id: str,
    ingested_at: dt.datetime,
    read_bytes: Any = None,
) -> BronzeBatch:
    """The full bronze content of the given landing files' dates.

    A file whose content hash the ledger already has as loaded is not parsed again: its rows
    and quarantined lines are carried over from bronze as they are. A changed file is parsed
    anew and replaces its earlier rows.
    """
    read_bytes = read_bytes or (lambda path: open(path, "rb").read())
    loaded_before = {
        row["file_path"]: row
        for row in previous.ledger
        if row["status"] in (STATUS_LOADED, STATUS_UNCHANGED)
    }
    raw_tables: list[Any] = []
    quarantined: list[tuple] = []
    ledger: list[dict[str, Any]] = []
    unchanged: list[str] = []
    for file in files:
        try:
            content = read_bytes(file.path)
        except OSError as exc:
            pf = ParsedFile(file=file, content_hash="", error=f"unreadable: {exc}")
            ledger.append(ledger_row(pf, status=STATUS_FAILED, run_id=run_id,
                                     ingested_at=ingested_at))
            continue
        digest = hashlib.sha256(content).hexdigest()
        before = loaded_before.get(file.relative_path)
        if before is not None and before["content_hash"] == digest:
            unchanged.append(file.relative_path)
            ledger.append({**before, "status": STATUS_UNCHANGED, "_run_id": run_id,
                           "_ingested_at": ingested_at})
            continue
        pf = parse_csv(file, content)
        ledger.append(ledger_row(pf, status=STATUS_LOADED, run_id=run_id,
                                 ingested_at=ingested_at))
        if pf.error is None:
            raw_tables.append(raw_table(spec, pf))
            quarantined += quarantine_records(pf)

    bronze, quarantine = parsed_frames(
        spark, spec, raw_tables, quarantined, ingested_at=ingested_at, run_id=run_id
    )
    if unchanged:
        # A column filter, not SQL text: file names may hold quotes (o'brien.csv).
        keep = F.col("_source_file").isin(unchanged)
        if previous.bronze is not None:
            bronze = bronze.unionByName(previous.bronze.where(keep), allowMissingColumns=True)
        if previous.quarantine is not None:
            quarantine = quarantine.unionByName(previous.quarantine.where(keep))
    return BronzeBatch(
        bronze=bronze,
        quarantine=quarantine,
        ledger=spark.createDataFrame(ledger, schema=LEDGER_SCHEMA),
        files_loaded=sum(1 for r in ledger if r["status"] == STATUS_LOADED),
        files_unchanged=len(unchanged),
        files_failed=sum(1 for r in ledger if r["status"] == STATUS_FAILED),
    )


def ledger_row(
    pf: ParsedFile, *, status: str, run_id: str, ingested_at: dt.datetime
) -> dict[str, Any]:
    return {
        "_landing_date": pf.file.landing_date,
        "file_path": pf.file.relative_path,
        "size_bytes": pf.file.size,
        "content_hash": pf.content_hash,
        "records": pf.records,
        "rows_loaded": len(pf.rows),
        "lines_quarantined": len(pf.quarantined),
        "blank_lines": pf.blank_lines,
        "status": status if pf.error is None else STATUS_FAILED,
        "error": pf.error,
        "_run_id": run_id,
        "_ingested_at": ingested_at,
    }
