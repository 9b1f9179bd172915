"""Property test: bronze ingestion against a reference CSV reader, over a generated landing zone.

A seeded generator writes one landing zone of a few hundred folders (a dataset and a date each,
1-10 files per folder) that mixes valid rows with every defect bronze promises to handle. The
four bronze multi-assets ingest the whole date range in ONE Dagster run (a single-run
backfill), and the Delta tables they wrote are compared, file by file and row by row, with
what Python's ``csv`` module reads from the same bytes. A second run over the unchanged files
must change nothing.

Reproduce a failure with the seed its message shows (and explore other seeds the same way):

    BRONZE_PROPERTY_SEED=<seed> .venv/bin/python -m pytest \
        lakehouse_assets_tests/test_bronze_properties.py -x -q
"""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import hashlib
import io
import json
import os
import random
import re
from dataclasses import dataclass, field
from typing import Any

import pytest
from dagster import materialize

from lakehouse_assets.assets.bronze import bronze_assets
from lakehouse_assets.landing import DATASETS, DatasetSpec, LandingFile
from lakehouse_assets.partitions import range_tags
from lakehouse_assets.resources import DeltaSparkIOManager, LakehouseStorage, build_resources
from lakehouse_assets.transforms.bronze import parse_csv

SEED = int(os.environ.get("BRONZE_PROPERTY_SEED", "4180"))
CASES = int(os.environ.get("BRONZE_PROPERTY_CASES", "300"))  # folders: (dataset, date) pairs
# Datasets share dates: a range run records a materialization per table and date (12 a date),
# and with a date per folder those Dagster events took a third of a run.
DAYS = -(-CASES // 3)
PARSER_FILES = 3000  # files for the parser alone, without Spark (about a second)
FIRST_DAY = dt.date(2024, 1, 1)

UNBALANCED = "malformed CSV: unbalanced quote"
TS_FORMAT = "%Y-%m-%d %H:%M:%S.%f"  # how both sides show a timestamp (Spark's pattern below)
SPARK_TS_FORMAT = "yyyy-MM-dd HH:mm:ss.SSSSSS"


# --- the generator ------------------------------------------------------------------------------
@dataclass
class LandedFile:
    dataset: str
    day: dt.date
    rel: str  # path relative to the landing root, as bronze records it
    content: bytes
    kind: str  # csv, empty, header_only, latin1, duplicate_header
    # Physical lines given an opening quote that never closes. Which line is "the broken one"
    # is the generator's knowledge: the reference reader is told, bronze must find out.
    broken_lines: frozenset[int] = frozenset()
    crlf: bool = False
    bom: bool = False

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


WORDS = ["alpha", "Bob", "pending", "completed", "card", "x1", "Kitchen", "Nørd", "été"]
# String values, the awkward ones included: commas, quotes, LF and CRLF inside quotes (an
# embedded blank line too), padding, empty (null), non-ASCII. No bare CR: see read_reference.
TEXTS = [
    "Zoë", "東京", "naïve café", "Ærøskøbing", "🎉 party", "Ελληνικά", "réglé",
    "Smith, John", "a,b,,c", 'say "hi"', '"quoted"', "it's", '""', ",lead comma",
    "line one\nline two", "first\r\nsecond", "a\n\nb", "x\r\n\r\ny", "end\n", "\nstarts",
    " padded ", "  ", "", "tab\there", "x" * 300,
]
# Text no typed column parses (verified against Spark's try_cast / try_to_timestamp); the
# parseable forms are those typed_text writes and typed_reference reads.
BAD_VALUES = {
    "int": ["12.5", "5.0", "1e3", "abc", "2147483648", "n/a", "٣٤", "0x10"],
    "decimal": ["abc", "1,5", "12.3.4", "NaN", "Infinity", "999999999999999",
                "99999999999999.99995", "$5.00"],
    "timestamp": ["2024-02-30", "2024-13-01", "05/01/2024", "not-a-date", "1850-01-01",
                  "2300-01-01", "1899-12-31 23:59:59", "2024-01-05 25:00:00", "20240105",
                  "2024-01-05T", "yesterday"],
}
UNKNOWN_COLUMNS = ["coupon", "Note", "région", "_line_number", "_source_file", "x y", ""]
NAME_STEMS = ["orders", "part", "o'brien", "my file", "Ümlaut", "a,b", 'say "hi"', "semi;colon",
              "[1]", "50%", " lead", "back\\slash", "UPPER", "dot.dot", "z" * 40]


def type_kind(spark_type: str | None) -> str | None:
    if spark_type is None:
        return None
    return "decimal" if spark_type.startswith("decimal") else spark_type


def typed_text(rng: random.Random, kind: str) -> str:
    roll = rng.random()
    if roll < 0.05:
        return ""
    if roll < 0.17:
        text = rng.choice(BAD_VALUES[kind])
    elif kind == "int":
        text = rng.choice([str(rng.randint(-1000, 100000)), "+5", "007", "2147483647",
                           "-2147483648"])
    elif kind == "decimal":
        text = rng.choice([f"{rng.randint(0, 99999)}.{rng.randint(0, 99):02d}",
                           f"{rng.uniform(-50, 50):.6f}", "-0.5", ".5", "5.", "1.23455",
                           "1.23445", "1e3", "1E-2", "99999999999999.9999", "0.00005", "7"])
    else:
        moment = dt.datetime(1950, 1, 1) + dt.timedelta(
            days=rng.randint(0, 150 * 365), seconds=rng.randint(0, 86399),
            microseconds=rng.choice([0, 0, 123000, 123456]))
        text = rng.choice([
            f"{moment:%Y-%m-%d}", f"{moment:%Y-%m-%d %H:%M:%S}", f"{moment:%Y-%m-%dT%H:%M:%S}",
            f"{moment:%Y-%m-%d %H:%M}", f"{moment:%Y-%m-%d %H:%M:%S}.{moment.microsecond:06d}",
            f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond // 1000:03d}",
            "1900-01-01", "2199-12-31 23:59:59",  # the edges of bronze's storable range
        ])
    return f" {text}  " if rng.random() < 0.1 else text


def record_values(rng: random.Random, spec: DatasetSpec, header: list[str], keys: list[str],
                  ascii_only: bool) -> list[str]:
    """One valid record's values in header order (header names as bronze normalizes them)."""
    values = []
    for name in header:
        kind = type_kind(spec.types.get(name))
        if name == spec.key:
            # Duplicate keys are legal in bronze: one row per record, whatever its key.
            key = rng.choice(keys) if keys and rng.random() < 0.1 else f"k{rng.randint(1, 10**6)}"
            keys.append(key)
            values.append(key)
        elif kind is not None:
            values.append(typed_text(rng, kind))
        else:
            values.append(rng.choice(WORDS if ascii_only or rng.random() < 0.5 else TEXTS))
    if ascii_only:
        values = [v.encode("ascii", "replace").decode() for v in values]
    return values


def needs_quotes(value: str) -> bool:
    return any(c in value for c in ',"\r\n')


def render(rng: random.Random, values: list[str], after_broken: bool) -> str:
    """One record as CSV text: RFC 4180 quoting where needed, and now and then where not."""
    quoted = [needs_quotes(v) or rng.random() < 0.1 for v in values]
    if after_broken and any(quoted):
        # After an unclosed quote, the first quote of a later line pairs with it: a field runs
        # from the one to the other. Which line is the broken one is decidable only when that
        # field cannot be well-formed, so the first quoted value of a later line starts with
        # a letter or digit. (Were a comma, a quote or a line break to follow the pairing
        # quote, the two lines would be one valid record to any CSV reader.)
        first = quoted.index(True)
        if not values[first][:1].isalnum():
            values = [*values[:first], "x" + values[first], *values[first + 1:]]
    return ",".join(
        '"' + v.replace('"', '""') + '"' if q else v for v, q in zip(values, quoted)
    )


def broken_line(rng: random.Random, values: list[str]) -> str:
    """A record whose one field opens a quote that never closes (the line's only quote)."""
    fields = [v if v and not needs_quotes(v) else rng.choice(WORDS) for v in values]
    fields[rng.randrange(len(fields))] = '"' + rng.choice(WORDS) + " never closed"
    return ",".join(fields)


def header_text(rng: random.Random, names: list[str]) -> str:
    shown = []
    for name in names:
        if rng.random() < 0.15:
            name = name.upper()
        elif rng.random() < 0.1:
            name = name.title()
        if rng.random() < 0.15:
            name = f"  {name} "  # bronze trims and lower-cases header names
        shown.append(f'"{name}"' if rng.random() < 0.1 or needs_quotes(name) else name)
    return ",".join(shown)


def generate_file(rng: random.Random, dataset: str, day: dt.date, name: str) -> LandedFile:
    spec = DATASETS[dataset]
    rel = f"{dataset}/{day.isoformat()}/{name}"
    roll = rng.random()
    kind = ("empty" if roll < 0.04 else "header_only" if roll < 0.11 else
            "latin1" if roll < 0.15 else "duplicate_header" if roll < 0.17 else "csv")
    if kind == "empty":  # 0 bytes, or a lone BOM
        content = b"\xef\xbb\xbf" if rng.random() < 0.25 else b""
        return LandedFile(dataset, day, rel, content, kind)

    # Header: the required columns (rarely one missing), some optional and some unknown ones,
    # in any order.
    header = [c for c in spec.required if rng.random() > 0.03]
    header += [c for c in spec.optional if rng.random() < 0.6]
    header += rng.sample(UNKNOWN_COLUMNS, k=rng.choice([0, 0, 0, 1, 2]))
    if rng.random() < 0.5:
        rng.shuffle(header)
    if kind == "duplicate_header":
        header.append(rng.choice(header))  # shown in another case or padding: still a duplicate
    crlf, mixed_ends, bom = rng.random() < 0.3, rng.random() < 0.1, rng.random() < 0.2
    lines = [header_text(rng, header)]
    next_line = 2  # the physical line the next record starts on
    broken: set[int] = set()
    keys: list[str] = []
    for _ in range(0 if kind == "header_only" else rng.randint(0, 25)):
        roll = rng.random()
        values = record_values(rng, spec, header, keys, ascii_only=kind == "latin1")
        if roll < 0.06:
            line = rng.choice(["", "", "  ", "\t"])  # blank: counted, not a record
        elif roll < 0.13 and kind == "csv":
            broken.add(next_line)
            line = broken_line(rng, values)
        elif roll < 0.20:  # wrong field count: fields dropped or added
            cut = rng.randrange(1, len(values))
            values = values[:cut] if rng.random() < 0.5 else values + values[cut:][:2]
            line = render(rng, values, after_broken=bool(broken))
        else:
            line = render(rng, values, after_broken=bool(broken))
        lines.append(line)
        next_line += line.count("\n") + 1
    if kind == "latin1":  # a value latin-1 writes as a byte that is not UTF-8
        lines.append(render(rng, ["réglé"] * len(header), after_broken=False))
    text = ""
    for i, line in enumerate(lines):
        end = "\r\n" if crlf != (mixed_ends and rng.random() < 0.3) else "\n"
        text += line + (end if i < len(lines) - 1 or rng.random() < 0.85 else "")
    content = (b"\xef\xbb\xbf" if bom else b"") + text.encode(
        "latin-1" if kind == "latin1" else "utf-8")
    return LandedFile(dataset, day, rel, content, kind, frozenset(broken), crlf, bom)


def file_name(rng: random.Random, taken: set[str]) -> str:
    while True:
        suffix = rng.choice(["", "", f"-{rng.randint(0, 99)}", f" ({rng.randint(1, 9)})"])
        name = rng.choice(NAME_STEMS) + suffix + rng.choice([".csv", ".csv", ".csv", ".CSV"])
        if name not in taken:
            taken.add(name)
            return name


def generate_landing_zone(rng: random.Random, root: str) -> list[LandedFile]:
    """CASES folders, each a distinct (dataset, date) of DAYS dates with 1-10 files of random
    names, so that empty and header-only files sort anywhere among a folder's files."""
    pairs = [(day, dataset) for day in range(DAYS) for dataset in sorted(DATASETS)]
    files = []
    for day, dataset in sorted(rng.sample(pairs, CASES)):
        taken: set[str] = set()
        for _ in range(rng.randint(1, 10)):
            landed = generate_file(
                rng, dataset, FIRST_DAY + dt.timedelta(days=day), file_name(rng, taken)
            )
            path = os.path.join(root, landed.rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "wb") as f:
                f.write(landed.content)
            files.append(landed)
    return files


# --- the reference reader -----------------------------------------------------------------------
@dataclass
class Expected:
    failed: bool = False
    rows: dict[int, dict] = field(default_factory=dict)  # by line: every column bronze types
    quarantined: dict[int, dict] = field(default_factory=dict)  # by line: raw_line, reason
    blank_lines: int = 0


INT = re.compile(r"[+-]?[0-9]+")
DECIMAL = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
TIMESTAMP = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})"
    r"(?:[ T]([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:\.([0-9]{1,6}))?)?)?"
)
STORABLE = (dt.datetime(1900, 1, 1), dt.datetime(2200, 1, 1))  # bronze's timestamp range


def typed_reference(spark_type: str, text: str) -> Any:
    """`text` as the column's type (int, decimal(18,4) rounded half up, timestamp within
    bronze's storable range), for the forms the generator writes; None when it does not
    parse. Timestamps as TS_FORMAT text, as read_written shows them."""
    text = text.strip(" ")
    kind = type_kind(spark_type)
    if kind == "int":
        return int(text) if INT.fullmatch(text) and -2**31 <= int(text) < 2**31 else None
    if kind == "decimal":
        if not DECIMAL.fullmatch(text):
            return None
        with decimal.localcontext(decimal.Context(prec=60)):
            value = decimal.Decimal(text).quantize(decimal.Decimal("0.0001"), decimal.ROUND_HALF_UP)
        return value if abs(value) < 10**14 else None  # 18 digits, 4 of them after the point
    match = TIMESTAMP.fullmatch(text)
    if not match:
        return None
    y, mo, d, h, mi, s, fraction = match.groups()
    try:
        moment = dt.datetime(int(y), int(mo), int(d), int(h or 0), int(mi or 0), int(s or 0),
                             int((fraction or "0").ljust(6, "0")))
    except ValueError:  # 2024-02-30, 25:00
        return None
    return f"{moment:{TS_FORMAT}}" if STORABLE[0] <= moment < STORABLE[1] else None


@dataclass
class Records:
    """What csv reads from one file: its records as text, by first physical line."""

    failed: bool = False
    rows: dict[int, dict[str, str]] = field(default_factory=dict)  # header name -> text
    quarantined: dict[int, tuple[str, str]] = field(default_factory=dict)  # raw text, reason
    blank_lines: int = 0


def reference_records(landed: LandedFile) -> Records:
    try:
        text = landed.content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return Records(failed=True)
    # Generated files break lines with LF or CRLF only (no bare CR), so these physical lines
    # are the ones csv counts in line_num and bronze numbers.
    physical = text.split("\n")
    records = Records()
    # An unclosed quote: that one line is quarantined, and the rest of the file reads as if it
    # were not there. It is blanked for csv, which keeps every later line's number.
    for n in landed.broken_lines:
        records.quarantined[n] = (physical[n - 1].removesuffix("\r"), UNBALANCED)
    readable = "\n".join("" if n in landed.broken_lines else line
                         for n, line in enumerate(physical, 1))
    reader = csv.reader(io.StringIO(readable, newline=""), strict=True)
    header: list[str] | None = None
    while True:
        first = reader.line_num + 1  # the record's physical lines: first..last
        try:
            fields = next(reader)
        except StopIteration:
            break
        last = reader.line_num
        if header is None:  # line 1
            header = [name.strip().lower() for name in fields]
            if len(set(header)) != len(header):
                return Records(failed=True)
        elif first in landed.broken_lines:
            assert fields == [], (landed.rel, first, fields)
        elif last == first and physical[first - 1].strip() == "":
            records.blank_lines += 1
        elif len(fields) != len(header):
            # The record as landed, CRLFs inside its quotes included.
            raw = "\n".join(physical[first - 1:last]).removesuffix("\r")
            reason = f"expected {len(header)} fields, found {len(fields)}"
            records.quarantined[first] = (raw, reason)
        else:
            records.rows[first] = dict(zip(header, fields))
    return records


def read_reference(landed: LandedFile) -> Expected:
    """What bronze should write for one file: its csv records, typed as bronze types them."""
    spec = DATASETS[landed.dataset]
    records = reference_records(landed)
    if records.failed:
        return Expected(failed=True)
    origin = {"_landing_date": landed.day, "_file_hash": landed.sha256}
    expected = Expected(blank_lines=records.blank_lines)
    for n, (raw, reason) in records.quarantined.items():
        expected.quarantined[n] = {"raw_line": raw, "reason": reason, **origin}
    for n, values in records.rows.items():
        row, rescued = {}, {}
        for column in spec.columns:
            raw, spark_type = values.get(column), spec.types.get(column)
            if raw is None or raw == "":
                row[column] = None  # a missing or empty value is null, never rescued
            elif spark_type is None:
                row[column] = raw  # text as landed, untrimmed
            else:
                row[column] = typed_reference(spark_type, raw)
                if row[column] is None:
                    rescued[column] = raw
        rescued.update((k, v) for k, v in values.items() if k not in spec.columns and v != "")
        expected.rows[n] = {**row, "_rescued_data": rescued or None, **origin}
    return expected


# --- what bronze wrote --------------------------------------------------------------------------
@dataclass
class Written:
    rows: dict[str, dict[int, dict]] = field(default_factory=dict)  # by file and line
    quarantined: dict[str, dict[int, dict]] = field(default_factory=dict)
    ledger: dict[str, dict[str, Any]] = field(default_factory=dict)  # by file
    duplicates: list[str] = field(default_factory=list)  # a file's line or file written twice
    tables: dict[str, list[tuple]] = field(default_factory=dict)  # every column, to compare runs


def read_written(spark: Any, storage: LakehouseStorage) -> Written:
    """The three bronze tables of every dataset, read back from Delta (each read once)."""
    written = Written()

    def put(table: dict, rel: str, line: int, value: dict) -> None:
        if line in table.setdefault(rel, {}):
            written.duplicates.append(f"{rel}:{line}")
        table[rel][line] = value

    for dataset, spec in DATASETS.items():
        for name in (dataset, f"quarantine_{dataset}", f"ledger_{dataset}"):
            df = spark.read.format("delta").load(storage.table_path("bronze", name))
            # Timestamps as text in the session's time zone, not as the Python process's.
            shown = [f"date_format(`{c}`, '{SPARK_TS_FORMAT}') AS `{c} as text`"
                     for c in spec.columns if spec.types.get(c) == "timestamp"]
            collected = df.selectExpr("*", *shown).collect() if name == dataset else df.collect()
            written.tables[name] = sorted(
                (tuple(r)[: len(df.columns)] for r in collected), key=repr
            )
            for r in collected:
                r = r.asDict()
                origin = {k: r[k] for k in ("_landing_date", "_file_hash") if k in r}
                if name == dataset:
                    typed = {c: r.get(f"{c} as text", r[c]) for c in spec.columns}
                    rescued = r["_rescued_data"] and json.loads(r["_rescued_data"])
                    put(written.rows, r["_source_file"], r["_line_number"],
                        {**typed, "_rescued_data": rescued, **origin})
                elif name.startswith("quarantine_"):
                    put(written.quarantined, r["_source_file"], r["_line_number"],
                        {"raw_line": r["raw_line"], "reason": r["reason"], **origin})
                else:
                    if r["file_path"] in written.ledger:
                        written.duplicates.append(f"ledger row of {r['file_path']}")
                    written.ledger[r["file_path"]] = r
    return written


# --- the comparison -----------------------------------------------------------------------------
def _shown(expected: Any, actual: Any) -> str:
    if isinstance(expected, dict) and isinstance(actual, dict):  # only the differing columns
        keys = [k for k in {**expected, **actual} if expected.get(k) != actual.get(k)]
        return "; ".join(f"{k}: expected {expected.get(k)!r}, bronze {actual.get(k)!r}"
                         for k in keys)
    return f"expected {expected!r}, bronze {actual!r}"


def differences(landed: LandedFile, what: str, expected: dict, actual: dict) -> str | None:
    """None when equal; else the file, its first differing lines and the file's text there."""
    if expected == actual:
        return None
    lines = sorted(set(expected) | set(actual))
    differing = [n for n in lines if expected.get(n, "<none>") != actual.get(n, "<none>")]
    shown = "\n".join(f"    line {n}: {_shown(expected.get(n, '<none>'), actual.get(n, '<none>'))}"
                      for n in differing[:3])
    physical = landed.content.decode("utf-8-sig", "replace").split("\n")
    start = max(differing[0] - 2, 0)
    around = "\n".join(f"    {i:>4}| {line!r}"
                       for i, line in enumerate(physical[start:differing[0] + 2], start + 1))
    return (f"seed {SEED}, file {landed.rel!r}, {what}: {len(differing)} of {len(lines)} lines "
            f"differ; first:\n{shown}\n  the file there (physical lines):\n{around}")


def compare(files: list[LandedFile], expected: dict[str, Expected], written: Written,
            loaded_status: str) -> list[str]:
    problems = [f"seed {SEED}: written twice: {d}" for d in written.duplicates[:5]]
    landed_paths = {f.rel for f in files}
    for stray in sorted({*written.rows, *written.quarantined, *written.ledger} - landed_paths):
        problems.append(f"seed {SEED}: bronze holds {stray!r}, which was never landed")
    for landed in files:
        want = expected[landed.rel]
        rows = written.rows.get(landed.rel, {})
        quarantined = written.quarantined.get(landed.rel, {})
        problems += filter(None, [
            differences(landed, f"bronze.{landed.dataset}", want.rows, rows),
            differences(landed, f"bronze.quarantine_{landed.dataset}", want.quarantined,
                        quarantined),
        ])
        entry = written.ledger.get(landed.rel)
        if entry is None:
            problems.append(f"seed {SEED}, file {landed.rel!r}: no ledger row")
            continue
        counts = ("records", "rows_loaded", "lines_quarantined", "blank_lines")
        ledger_want = {
            "status": "failed" if want.failed else loaded_status,
            "error": "an error" if want.failed else None,
            counts: (len(want.rows) + len(want.quarantined), len(want.rows),
                     len(want.quarantined), want.blank_lines),
            "_landing_date": landed.day,
            "size_bytes": len(landed.content),
            "content_hash": landed.sha256,
            # Conservation, counted in the tables: rows + quarantined lines = the ledger's records.
            "rows + quarantined": entry["records"],
        }
        ledger_got = {
            "status": entry["status"],
            "error": entry["error"] and "an error",
            counts: tuple(entry[c] for c in counts),
            "_landing_date": entry["_landing_date"],
            "size_bytes": entry["size_bytes"],
            "content_hash": entry["content_hash"],
            "rows + quarantined": len(rows) + len(quarantined),
        }
        if ledger_want != ledger_got:
            problems.append(f"seed {SEED}, file {landed.rel!r}, ledger: "
                            f"{_shown(ledger_want, ledger_got)} (error {entry['error']!r})")
    return problems


def report(problems: list[str]) -> str:
    return (f"{len(problems)} mismatches between bronze and the reference reader "
            f"(reproduce: BRONZE_PROPERTY_SEED={SEED}); the first:\n" + "\n".join(problems[:4]))


# --- the runs -----------------------------------------------------------------------------------
@dataclass
class Landing:
    storage: LakehouseStorage
    resources: dict
    files: list[LandedFile]
    expected: dict[str, Expected]  # by file
    first_run: Any
    written: Written


def run_bronze(resources: dict, files: list[LandedFile]):
    """Every bronze multi-asset over the whole date range, in one Dagster run."""
    days = sorted({f.day for f in files})
    return materialize(
        bronze_assets,
        resources=resources,
        tags=range_tags(days[0].isoformat(), days[-1].isoformat()),
    )


@pytest.fixture(scope="module")
def landing(spark, tmp_path_factory) -> Landing:
    root = tmp_path_factory.mktemp("bronze_properties")
    storage = LakehouseStorage(
        lakehouse_root=str(root / "lakehouse"), landing_root=str(root / "landing")
    )
    resources = build_resources(storage)
    # Keep the session's catalog entries (<layer>.<table>) on the other tests' lakehouses.
    resources["io_manager"] = DeltaSparkIOManager(
        storage=storage, spark=resources["spark"], register_in_catalog=False
    )
    files = generate_landing_zone(random.Random(SEED), storage.landing)
    expected = {f.rel: read_reference(f) for f in files}
    result = run_bronze(resources, files)
    assert result.success
    return Landing(storage, resources, files, expected, result, read_written(spark, storage))


def test_parse_csv_matches_the_reference_on_many_more_files():
    # The parser alone, without Spark: many more generated files than the Dagster run holds.
    rng, problems = random.Random(SEED + 1), []
    for i in range(PARSER_FILES):
        dataset = rng.choice(sorted(DATASETS))
        landed = generate_file(rng, dataset, FIRST_DAY, f"f{i}.csv")
        parsed = parse_csv(
            LandingFile(dataset, landed.day, "/nowhere/" + landed.rel, landed.rel,
                        len(landed.content)),
            landed.content,
        )
        want = reference_records(landed)
        got = Records(
            failed=parsed.error is not None,
            rows=dict(parsed.rows),
            quarantined={line: (raw, reason) for line, raw, reason in parsed.quarantined},
            blank_lines=parsed.blank_lines,
        )
        problems += filter(None, [
            differences(landed, "parsed rows", want.rows, got.rows),
            differences(landed, "parsed quarantine", want.quarantined, got.quarantined),
            None if (want.failed, want.blank_lines) == (got.failed, got.blank_lines) else
            f"seed {SEED}, file {landed.rel!r}: (failed, blank lines) expected "
            f"{(want.failed, want.blank_lines)}, parsed {(got.failed, got.blank_lines)} "
            f"({parsed.error})",
        ])
    assert not problems, report(problems)


def test_parse_csv_examples_the_property_found():
    header = "order_item_id,order_id,product_id,quantity,unit_price\n"
    items = LandingFile("order_items", FIRST_DAY, "/nowhere/a.csv", "order_items/a.csv", 0)
    # A quote that never closes, then later a quoted field spanning lines (or another broken
    # line): the two quotes were paired, and the lines between them quarantined as one record.
    parsed = parse_csv(items, (header + '1,o1,"broken,1,2\n'
                                        '2,o1,p1,1,2\n'
                                        '3,o1,"multi\nline",1,2\n').encode())
    assert [(line, raw, reason) for line, raw, reason in parsed.quarantined] == [
        (2, '1,o1,"broken,1,2', UNBALANCED)
    ]
    assert [(line, values["product_id"]) for line, values in parsed.rows] == [
        (3, "p1"), (4, "multi\nline")
    ]
    # A CRLF inside quotes is the value's, as landed (it was read as LF).
    parsed = parse_csv(items, (header + '1,o1,"first\r\nsecond",1,2\r\n').encode())
    assert [(line, values["product_id"]) for line, values in parsed.rows] == [
        (2, "first\r\nsecond")
    ]


def rowless_before_rows(landing: Landing, dataset: str) -> bool:
    """A file that adds no rows is read before one that does (the Arrow empty-batch bug)."""
    read = [landing.expected[f.rel] for f in sorted(landing.files, key=lambda f: (f.day, f.rel))
            if f.dataset == dataset and not landing.expected[f.rel].failed]
    with_rows = [i for i, e in enumerate(read) if e.rows]
    return bool(with_rows) and any(not e.rows for e in read[: with_rows[-1]])


def test_generated_landing_zone_has_every_defect(landing):
    # The property says little if the generator stops producing a defect: count them.
    files, expected = landing.files, list(landing.expected.values())
    rows = [r for e in expected for r in e.rows.values()]
    reasons = [q["reason"] for e in expected for q in e.quarantined.values()]
    texts = [v for r in rows for v in r.values() if isinstance(v, str)]
    seen = {
        "unbalanced quote": reasons.count(UNBALANCED),
        "wrong field count": sum(r.startswith("expected ") for r in reasons),
        "rescued values": sum(r["_rescued_data"] is not None for r in rows),
        "duplicate keys": sum(
            len(e.rows) - len({next(iter(r.values())) for r in e.rows.values()}) for e in expected
        ),
        "blank lines": sum(e.blank_lines for e in expected),
        "CRLF files": sum(f.crlf for f in files),
        "BOM files": sum(f.bom for f in files),
        "CRLF inside quotes": sum("\r\n" in t for t in texts),
        "LF inside quotes": sum("\n" in t.replace("\r\n", "") for t in texts),
        "empty files": sum(f.kind == "empty" for f in files),
        "header-only files": sum(f.kind == "header_only" for f in files),
        "failed files": sum(e.failed for e in expected),
        "quote in a file name": sum("'" in f.rel or '"' in f.rel for f in files),
        "non-ASCII files": sum(any(b > 127 for b in f.content) for f in files),
        "rowless file before rows": sum(rowless_before_rows(landing, d) for d in DATASETS),
    }
    assert all(seen.values()), seen
    assert len(files) > 3 * CASES and len(rows) > 15 * CASES, (len(files), len(rows))


def test_one_run_covers_the_whole_date_range(landing):
    first, last = min(f.day for f in landing.files), max(f.day for f in landing.files)
    days = {(first + dt.timedelta(days=i)).isoformat() for i in range((last - first).days + 1)}
    for asset in bronze_assets:
        events = landing.first_run.asset_materializations_for_node(asset.node_def.name)
        for key in asset.keys:
            assert {e.partition for e in events if e.asset_key == key} == days, key


def test_bronze_tables_match_the_reference_reader(landing):
    problems = compare(landing.files, landing.expected, landing.written, loaded_status="loaded")
    assert not problems, report(problems)


def test_second_run_over_unchanged_files_changes_nothing(spark, landing):
    # Every file is unchanged: its rows and quarantined lines are carried over as they are
    # (ingestion time and run id included), and its ledger row says so. File names with a
    # quote once broke this run.
    result = run_bronze(landing.resources, landing.files)
    assert result.success
    again = read_written(spark, landing.storage)
    for dataset in DATASETS:
        for name in (dataset, f"quarantine_{dataset}"):
            before, after = landing.written.tables[name], again.tables[name]
            assert before == after, (
                f"seed {SEED}: bronze.{name} changed on a re-run ({len(before)} rows before, "
                f"{len(after)} after); first difference (before, after): "
                f"{next((b, a) for b, a in zip(before + [None], after + [None]) if b != a)}"
            )
    problems = compare(landing.files, landing.expected, again, loaded_status="unchanged")
    assert not problems, report(problems)
    for rel, entry in again.ledger.items():
        first = landing.written.ledger[rel]
        same = {k for k in entry if k not in ("status", "_run_id", "_ingested_at")}
        assert {k: entry[k] for k in same} == {k: first[k] for k in same}, (
            f"seed {SEED}: the ledger row of {rel!r} changed on a re-run")
    for asset in bronze_assets:
        dataset = asset.node_def.name.removeprefix("bronze_")
        loaded = sum(f.dataset == dataset and not landing.expected[f.rel].failed
                     for f in landing.files)
        meta = next(e.metadata for e in result.asset_materializations_for_node(asset.node_def.name)
                    if e.asset_key.path == ["bronze", dataset])
        assert (meta["files_loaded"].value, meta["files_unchanged"].value) == (0, loaded), dataset
