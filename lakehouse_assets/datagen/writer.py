"""Writes files into the landing-zone layout and keeps the counters the summary reports."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

from .csvio import day_folder, file_name


class LandingZoneWriter:
    def __init__(self, root: Path, start: dt.date):
        self.root = Path(root)
        self.start = start
        self.files_written = 0
        self.bytes_written = 0
        self.rows: Counter = Counter()
        self._parts: Counter = Counter()  # files already written per folder

    def date_of(self, day: int) -> dt.date:
        return self.start + dt.timedelta(days=int(day))

    def write(self, dataset: str, day: int, payload: bytes, rows: int) -> Path:
        """Write the next file of a (dataset, day) folder: the first is the main file, later ones are _partN."""
        folder = day_folder(self.root, dataset, self.date_of(day))
        self._parts[folder] += 1
        return self.write_named(dataset, day, file_name(dataset, self.date_of(day), self._parts[folder]), payload, rows)

    def write_named(self, dataset: str, day: int, name: str, payload: bytes, rows: int) -> Path:
        """Write a file with a chosen name; it does not count as one of the folder's numbered parts."""
        folder = day_folder(self.root, dataset, self.date_of(day))
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / name
        path.write_bytes(payload)
        self.files_written += 1
        self.bytes_written += len(payload)
        self.rows[dataset] += rows
        return path
