"""Optional defect injection. With rate 0 the clean CSV bytes are written untouched.

Row-level defects edit individual CSV lines after Arrow has rendered the file; file-level defects
change a file's columns or add a second file to a folder. Every kind gets at least one occurrence
when rate > 0 so small test runs still exercise all of them.
"""

from __future__ import annotations

import csv
from collections import Counter

import numpy as np
import pyarrow as pa

from . import schema
from .csvio import csv_bytes, header_bytes

ALL = {d: None for d in schema.DATASETS}
# kind -> {dataset: target column (None = whole line)}; targets are required columns so they always exist.
ROW_DEFECTS = {
    "unbalanced_quote": {"customers": "first_name", "products": "product_name", "orders": "status", "order_items": "product_id"},
    "wrong_field_count": ALL,
    "unparseable_number": {"orders": "shipping_cost", "order_items": "unit_price", "products": "list_price"},
    "unparseable_date": {"orders": "order_date", "customers": "created_at"},
    "bad_email": {"customers": "email"},
    "nonpositive_quantity": {"order_items": "quantity"},
    "duplicate_key": ALL,
    "orphan_order_ref": {"order_items": "order_id"},  # the referenced order never arrives
    "orphan_product_ref": {"order_items": "product_id"},  # the referenced product never arrives
}
FILE_DEFECTS = ("missing_optional_column", "extra_column", "empty_file", "header_only_file", "non_utf8_file")
KINDS = tuple(ROW_DEFECTS) + FILE_DEFECTS

BAD_NUMBERS = ("N/A", "12.3.4", "1,50", "$9.99", "abc")
BAD_DATES = ("2024-02-30", "31/12/2023", "yesterday", "2024-13-01")
EXTRA_COLUMNS = ("source_system", "ingest_batch", "notes")
LATIN1_NAMES = ("José", "Zoë", "François", "Søren", "Renée")


def _quote(value: str) -> str:
    return '"' + value.replace('"', '""') + '"' if any(c in value for c in ',"\r\n') else value


class DefectInjector:
    def __init__(self, rng: np.random.Generator, rate: float, ghosts: dict):
        self.rng = rng
        self.rate = rate
        self.counts = Counter({k: 0 for k in KINDS})
        self._next_ghost = dict(ghosts)  # first never-used numeric id per referenced key
        self._row_plan: dict[str, dict[int, str]] = {d: {} for d in schema.DATASETS}
        self._file_plan: dict[tuple[str, int], list[str]] = {}
        self._folders: list[tuple[str, int]] = []

    def _how_many(self, population: int) -> int:
        return max(1, int(round(self.rate * population))) if population else 0

    def plan(self, datasets: dict) -> None:
        """Pick the rows and files to damage, all before writing so choices don't depend on write order."""
        if self.rate <= 0:
            return
        n_rows = {d: len(t) for d, (t, _) in datasets.items()}
        wanted: dict[str, list[str]] = {d: [] for d in schema.DATASETS}
        for kind, targets in ROW_DEFECTS.items():
            names = [d for d in schema.DATASETS if d in targets]
            sizes = np.array([n_rows[d] for d in names], dtype=float)
            split = self.rng.multinomial(self._how_many(int(sizes.sum())), sizes / sizes.sum())
            for d, k in zip(names, split.tolist()):
                wanted[d] += [kind] * k
        for d, kinds in wanted.items():
            rows = self.rng.choice(n_rows[d], size=min(len(kinds), n_rows[d]), replace=False)
            self._row_plan[d] = dict(zip(rows.tolist(), kinds))
        self._folders = [(d, int(day)) for d, (_, ld) in datasets.items() for day in np.unique(ld)]
        for kind, allowed in (("missing_optional_column", ("customers", "products", "orders")), ("extra_column", schema.DATASETS)):
            candidates = [f for f in self._folders if f[0] in allowed]
            for i in self.rng.choice(len(candidates), size=min(self._how_many(len(candidates)), len(candidates)), replace=False):
                self._file_plan.setdefault(candidates[i], []).append(kind)

    # --- main files -------------------------------------------------------------------------------
    def write_day(self, writer, dataset: str, day: int, table: pa.Table, first_row: int) -> None:
        for kind in self._file_plan.get((dataset, day), []):
            table = self._change_columns(kind, dataset, table)
        payload = csv_bytes(table)
        edits = {r - first_row: k for r, k in self._row_plan[dataset].items() if first_row <= r < first_row + len(table)}
        if edits:
            payload, extra = self._edit_lines(payload, table.column_names, dataset, edits)
        else:
            extra = 0
        writer.write(dataset, day, payload, len(table) + extra)

    def _change_columns(self, kind: str, dataset: str, table: pa.Table) -> pa.Table:
        self.counts[kind] += 1
        if kind == "missing_optional_column":
            present = [c for c in schema.OPTIONAL_COLUMNS[dataset] if c in table.column_names]
            return table.drop_columns([present[self.rng.integers(len(present))]])
        name = EXTRA_COLUMNS[self.rng.integers(len(EXTRA_COLUMNS))]
        values = pa.array(np.full(len(table), "legacy_export"))
        return table.add_column(int(self.rng.integers(0, table.num_columns + 1)), name, values)

    def _edit_lines(self, payload: bytes, columns: list[str], dataset: str, edits: dict[int, str]):
        lines = payload.split(b"\n")  # Arrow output has no embedded newlines; lines[0] is the header
        inserts = []
        for row in sorted(edits):  # sorted: the rng draws happen in a fixed order
            kind, j = edits[row], row + 1
            if kind == "duplicate_key":
                inserts.append((int(self.rng.integers(j + 1, len(lines))), lines[j]))
            else:
                fields = next(csv.reader([lines[j].decode("utf-8")]))
                target = ROW_DEFECTS[kind][dataset]
                lines[j] = self._damage(kind, fields, columns.index(target) if target else None).encode("utf-8")
            self.counts[kind] += 1
        for pos, line in sorted(inserts, reverse=True):  # back to front keeps earlier positions valid
            lines.insert(pos, line)
        return b"\n".join(lines), len(inserts)

    def _damage(self, kind: str, fields: list[str], col: int | None) -> str:
        pick = lambda options: options[int(self.rng.integers(len(options)))]  # noqa: E731
        if kind == "wrong_field_count":
            fields = fields[:-1] if self.rng.random() < 0.5 else fields + ["unexpected"]
        elif kind == "unparseable_number":
            fields[col] = pick(BAD_NUMBERS)
        elif kind == "unparseable_date":
            fields[col] = pick(BAD_DATES)
        elif kind == "bad_email":
            fields[col] = fields[col].replace("@", "")
        elif kind == "nonpositive_quantity":
            fields[col] = pick(("0", "-1", "-3"))
        elif kind in ("orphan_order_ref", "orphan_product_ref"):
            key = "order_id" if kind == "orphan_order_ref" else "product_id"
            fields[col] = str(self._next_ghost[key])
            self._next_ghost[key] += 1
        rendered = [_quote(f) for f in fields]
        if kind == "unbalanced_quote":
            rendered[col] = '"' + fields[col].replace('"', '""')  # opening quote never closed
        return ",".join(rendered)

    # --- second files in a folder -------------------------------------------------------------------
    def write_extra_files(self, writer, datasets: dict) -> None:
        if self.rate <= 0:
            return
        for kind in ("empty_file", "header_only_file", "non_utf8_file"):
            folders = [f for f in self._folders if kind != "non_utf8_file" or f[0] == "customers"]
            picks = self.rng.choice(len(folders), size=min(self._how_many(len(folders)), len(folders)), replace=False)
            for i in sorted(picks.tolist()):
                dataset, day = folders[i]
                table, landing = datasets[dataset]
                if kind == "empty_file":
                    payload, rows = b"", 0
                elif kind == "header_only_file":
                    payload, rows = header_bytes(table.column_names), 0
                else:  # re-send a few of the day's customers with accented names, encoded as latin-1
                    a = int(np.searchsorted(landing, day))
                    part = table.slice(a, min(3, int(np.searchsorted(landing, day, side="right")) - a))
                    names = pa.array([LATIN1_NAMES[int(self.rng.integers(len(LATIN1_NAMES)))] for _ in range(len(part))])
                    part = part.set_column(part.column_names.index("first_name"), "first_name", names)
                    payload, rows = csv_bytes(part).decode("utf-8").encode("latin-1"), len(part)
                writer.write(dataset, day, payload, rows)
                self.counts[kind] += 1
