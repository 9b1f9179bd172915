"""The landing-zone contract: which datasets exist, their columns, and where their files are.

Files land at ``<landing root>/<dataset>/<YYYY-MM-DD>/<any name>.csv``; the date folder is the
landing date and the daily partition key of the bronze tables. Bronze ingestion and the
landing sensor both discover files through ``scan_landing_zone`` so they agree on what counts.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from dataclasses import dataclass, field


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    key: str
    required: tuple[str, ...]
    optional: tuple[str, ...] = ()
    # Spark SQL type of every non-string column; the others are strings.
    types: dict[str, str] = field(default_factory=dict)

    @property
    def columns(self) -> tuple[str, ...]:
        return self.required + self.optional


MONEY = "decimal(18,4)"

DATASETS: dict[str, DatasetSpec] = {
    spec.name: spec
    for spec in (
        DatasetSpec(
            "customers",
            key="customer_id",
            required=("customer_id", "email", "first_name", "last_name", "country", "created_at"),
            optional=("phone", "city", "age"),
            types={"created_at": "timestamp", "age": "int"},
        ),
        DatasetSpec(
            "products",
            key="product_id",
            required=("product_id", "product_name", "category", "cost_price", "list_price"),
            optional=("department", "supplier_id", "stock_level", "reorder_point"),
            types={
                "cost_price": MONEY,
                "list_price": MONEY,
                "stock_level": "int",
                "reorder_point": "int",
            },
        ),
        DatasetSpec(
            "orders",
            key="order_id",
            required=("order_id", "customer_id", "order_date", "status", "shipping_cost"),
            optional=(
                "payment_method",
                "payment_status",
                "currency",
                "tax_amount",
                "discount_amount",
            ),
            types={
                "order_date": "timestamp",
                "shipping_cost": MONEY,
                "tax_amount": MONEY,
                "discount_amount": MONEY,
            },
        ),
        DatasetSpec(
            "order_items",
            key="order_item_id",
            required=("order_item_id", "order_id", "product_id", "quantity", "unit_price"),
            types={"quantity": "int", "unit_price": MONEY},
        ),
    )
}


@dataclass(frozen=True)
class LandingFile:
    dataset: str
    landing_date: dt.date
    path: str  # absolute
    relative_path: str  # to the landing root, e.g. orders/2024-01-05/orders.csv
    size: int


@dataclass
class LandingScan:
    files: list[LandingFile]
    skipped: list[str]  # human-readable reasons for every path that was not taken


def _parse_date_folder(name: str) -> dt.date | None:
    try:
        parsed = dt.date.fromisoformat(name)
    except ValueError:
        return None
    return parsed if parsed.isoformat() == name else None  # only YYYY-MM-DD


def scan_landing_zone(
    landing_root: str,
    *,
    datasets: tuple[str, ...] | None = None,
    dates: set[dt.date] | None = None,
    min_date: dt.date | None = None,
) -> LandingScan:
    """All CSV files of the contract under the landing root, sorted by (dataset, date, name).

    Folders that are not dates, dates before ``min_date``, symlinks and paths resolving outside
    the landing root are skipped with a reason, never an error.
    """
    root = os.path.realpath(landing_root)
    files: list[LandingFile] = []
    skipped: list[str] = []
    if not os.path.isdir(root):
        return LandingScan(files, [f"landing root {landing_root} does not exist"])
    for dataset in datasets or tuple(DATASETS):
        dataset_dir = os.path.join(root, dataset)
        if not os.path.isdir(dataset_dir):
            continue
        for date_name in sorted(os.listdir(dataset_dir)):
            date_dir = os.path.join(dataset_dir, date_name)
            landing_date = _parse_date_folder(date_name)
            if landing_date is None:
                skipped.append(f"{dataset}/{date_name}: not a YYYY-MM-DD folder")
                continue
            if dates is not None and landing_date not in dates:
                continue
            if min_date is not None and landing_date < min_date:
                skipped.append(f"{dataset}/{date_name}: before the partitions' start {min_date}")
                continue
            if not _inside(root, date_dir, skipped, f"{dataset}/{date_name}"):
                continue
            if not os.path.isdir(date_dir):
                continue
            for name in sorted(os.listdir(date_dir)):
                path = os.path.join(date_dir, name)
                rel = f"{dataset}/{date_name}/{name}"
                if not name.lower().endswith(".csv"):
                    if os.path.isfile(path):
                        skipped.append(f"{rel}: not a .csv file")
                    continue
                if not _inside(root, path, skipped, rel) or not os.path.isfile(path):
                    continue
                files.append(LandingFile(dataset, landing_date, path, rel, os.path.getsize(path)))
    return LandingScan(files, skipped)


def _inside(root: str, path: str, skipped: list[str], rel: str) -> bool:
    if os.path.islink(path):
        skipped.append(f"{rel}: symlinks are not followed")
        return False
    real = os.path.realpath(path)
    if os.path.commonpath([root, real]) != root:
        skipped.append(f"{rel}: resolves outside the landing root")
        return False
    return True


def file_sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
