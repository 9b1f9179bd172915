"""The "retail" profile: realities of real retail order data layered on the clean simulation.

What each reality is and why it exists is described in the generator module docstring. This
module only makes the choices. It draws from its own random generator, so the clean profile's
draws (and therefore its bytes) stay exactly as they were. The calls happen in a fixed order, so
the same arguments always give the same choices. Everything is vectorised over orders and items;
the only Python loop goes over landing folders, when rows are split into several files.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from . import schema
from .csvio import day_slices, money

GUEST_SHARE = 0.25  # share of orders placed without a customer account
CANCELLATION_SHARE = 0.02  # extra negative lines, as a share of the regular items
NON_PRODUCT_SHARE = 0.01  # extra postage/fee lines, as a share of the regular items
ZERO_PRICE_SHARE = 0.005  # regular items given away for free (samples)
EXTREME_QUANTITY_SHARE, EXTREME_QUANTITY_MIN = 0.00005, 3  # quantities above silver's default bound of 10,000
LARGE_QUANTITY_SHARE, LARGE_QUANTITY_MIN = 0.001, 3  # wholesale-sized but plausible quantities
RENAMED_PRODUCT_SHARE = 0.05
CLOSED_DAY_SHARE, CLOSED_DAYS_MIN, CLOSED_DAYS_MIN_FROM = 0.05, 2, 20  # at least 2 closed days when days >= 20
MULTI_FILE_DAY_SHARE = 0.3  # days on which the export job delivered each folder in 2-3 files
LEADING_EMPTY_SHARE = 0.1  # folders that also get a header-only file sorting before the data files
DAY = 86_400
MAX_STATUS_GAP = 10  # days between an order's status updates in the clean simulation (1..10)

LEADING_EMPTY_FILE = "00_empty_extract.csv"  # '0' sorts before every dataset name, so it is read first
IMPOSSIBLE_ORDER_DATES = ("9999-12-31 00:00:00", "1970-01-01 00:00:00")

# code, product name, list price in cents (0: the price varies per line), share of the non-product
# lines, median line price in cents, spread of the line price (lognormal sigma; 0 = always the median).
NON_PRODUCTS = (
    ("POST", "POSTAGE", 1800, 0.70, 1800, 0.0),
    ("DOT", "DOTCOM POSTAGE", 0, 0.12, 12_000, 0.6),
    ("M", "Manual", 0, 0.10, 250, 1.2),
    ("BANK CHARGES", "Bank Charges", 1500, 0.05, 1500, 0.0),
    ("AMAZONFEE", "AMAZON FEE", 0, 0.03, 25_000, 0.8),
)
NON_PRODUCT_CODES = tuple(p[0] for p in NON_PRODUCTS)
POSTAGE_CODES = ("POST", "DOT")  # billed as a line, so the order's shipping_cost is 0
NON_PRODUCT_CATEGORY, NON_PRODUCT_DEPARTMENT = "Non-Product", "Fees & Postage"
# Appended to a product name when the product is re-sent under a new name.
RENAME_SUFFIXES = (" - Cream", " - Red Retrospot", " (Boxed)", " - Pack of 2", " - New Design")


@dataclass
class Lines:
    """Order lines as parallel arrays; product indexes past the catalogue are non-product codes."""

    order: np.ndarray
    product: np.ndarray
    quantity: np.ndarray
    unit_cents: np.ndarray
    day: np.ndarray  # landing day

    def __len__(self) -> int:
        return len(self.order)

    def take(self, idx: np.ndarray) -> "Lines":
        return Lines(self.order[idx], self.product[idx], self.quantity[idx], self.unit_cents[idx], self.day[idx])

    @staticmethod
    def concat(parts: list["Lines"]) -> "Lines":
        return Lines(*(np.concatenate([getattr(p, f) for p in parts]) for f in ("order", "product", "quantity", "unit_cents", "day")))


@dataclass
class Folder:
    parts: list[tuple[int, int]]  # row ranges [start, stop) of the dataset table, one per data file
    leading_empty: bool


def _count(share: float, population: int, minimum: int = 0) -> int:
    return min(population, max(minimum, int(round(share * population))))


def _pick(rng: np.random.Generator, candidates: np.ndarray, k: int) -> np.ndarray:
    """k distinct candidates (all of them if there are fewer), sorted."""
    k = min(k, len(candidates))
    return np.sort(rng.choice(candidates, size=k, replace=False)) if k else candidates[:0]


class RetailProfile:
    def __init__(self, rng: np.random.Generator, days: int):
        self.rng = rng
        self.days = days
        self.closed_days = self._choose_closed_days()
        # Padded past the window: status updates may fall after it (they are dropped later).
        self.closed = np.zeros(days + 2 * MAX_STATUS_GAP + 2, dtype=bool)
        self.closed[self.closed_days] = True
        self.counts: dict = {}
        self._touched = np.zeros(0, dtype=bool)  # regular items given a special price or quantity

    # --- days without orders ------------------------------------------------------------------
    def _choose_closed_days(self) -> np.ndarray:
        """Closed days inside the window, never the first or last day and never two in a row, so
        moving an order or a status update by one day always reaches an open day in the window."""
        k = int(round(CLOSED_DAY_SHARE * self.days))
        if self.days >= CLOSED_DAYS_MIN_FROM:
            k = max(k, CLOSED_DAYS_MIN)
        slots = self.days - 2  # candidate days 1 .. days-2
        k = min(k, (slots + 1) // 2)
        if k <= 0:
            return np.zeros(0, dtype=np.int64)
        x = np.sort(self.rng.choice(slots - k + 1, size=k, replace=False))
        return 1 + x + np.arange(k)  # adding i keeps at least one open day between two closed days

    def move_orders_off_closed_days(self, order_t: np.ndarray) -> np.ndarray:
        """Orders that would fall on a closed day are placed the next day (the backlog after a closure)."""
        return order_t + DAY * self.closed[order_t // DAY]

    def move_event_off_closed_day(self, day: np.ndarray, gap: np.ndarray) -> np.ndarray:
        """A status update on a closed day moves one day later, or one day earlier when it is already
        MAX_STATUS_GAP days after the previous update, so gaps stay within 1..MAX_STATUS_GAP days."""
        hit = self.closed[np.minimum(day, len(self.closed) - 1)]
        return np.where(hit, np.where(gap < MAX_STATUS_GAP, day + 1, day - 1), day)

    # --- order lines ----------------------------------------------------------------------------
    def adjust_items(self, items: Lines, order_day: np.ndarray, n_products: int) -> Lines:
        """Free samples and extreme/large quantities on regular items (in place); returns the items
        followed by one postage/fee line on some orders (landing with the order)."""
        rng, n = self.rng, len(items)
        n_zero = _count(ZERO_PRICE_SHARE, n)
        n_extreme = _count(EXTREME_QUANTITY_SHARE, n, EXTREME_QUANTITY_MIN)
        n_large = _count(LARGE_QUANTITY_SHARE, n, LARGE_QUANTITY_MIN)
        pick = rng.permutation(n)  # disjoint picks, so each line shows one reality
        zero = pick[:n_zero]
        extreme = pick[n_zero:n_zero + n_extreme]
        large = pick[n_zero + n_extreme:n_zero + n_extreme + n_large]
        items.unit_cents[zero] = 0
        items.quantity[extreme] = rng.integers(10_001, 100_000, len(extreme))
        items.quantity[large] = rng.integers(1_000, 5_001, len(large))
        self._touched = np.zeros(n, dtype=bool)
        self._touched[pick[:n_zero + len(extreme) + len(large)]] = True

        # At most one fee line per order: an order never has two lines of the same fee code.
        fee_orders = _pick(rng, np.arange(len(order_day)), _count(NON_PRODUCT_SHARE, n))
        share = np.array([p[3] for p in NON_PRODUCTS])
        code = rng.choice(len(NON_PRODUCTS), size=len(fee_orders), p=share / share.sum())
        median = np.array([p[4] for p in NON_PRODUCTS], dtype=np.float64)[code]
        sigma = np.array([p[5] for p in NON_PRODUCTS])[code]
        cents = np.maximum(1, np.round(median * rng.lognormal(0.0, sigma))).astype(np.int64)
        fees = Lines(fee_orders, n_products + code, np.ones(len(fee_orders), dtype=np.int64), cents, order_day[fee_orders])
        self.counts.update(zero_price_items=len(zero), extreme_quantity_items=len(extreme),
                           large_quantity_items=len(large), non_product_lines=len(fees))
        return Lines.concat([items, fees])

    def postage_orders(self, lines: Lines, n_products: int, n_orders: int) -> np.ndarray:
        """Orders that carry a postage line (their shipping is billed on that line)."""
        postage = np.isin(lines.product, [n_products + NON_PRODUCT_CODES.index(c) for c in POSTAGE_CODES])
        has = np.zeros(n_orders, dtype=bool)
        has[lines.order[postage]] = True
        return has

    def cancellations(self, items: Lines, completed: np.ndarray) -> Lines:
        """Negative lines undoing all (mostly) or part of a regular item of an order that ends completed,
        landing the same day or up to two weeks later (never on a closed day)."""
        rng, n_regular = self.rng, len(self._touched)
        regular = np.arange(n_regular)
        candidates = regular[~self._touched & completed[items.order[:n_regular]]]
        lines = items.take(_pick(rng, candidates, _count(CANCELLATION_SHARE, n_regular)))
        whole = rng.random(len(lines)) < 0.7
        lines.quantity = -np.where(whole, lines.quantity, rng.integers(1, lines.quantity + 1))
        later = np.minimum(rng.integers(0, 15, len(lines)), np.maximum(0, self.days - 1 - lines.day))
        lines.day = lines.day + later
        lines.day = lines.day + self.closed[lines.day]  # closed days are at most days-2: the next day is open
        self.counts["cancellation_lines"] = len(lines)
        return lines

    # --- orders -----------------------------------------------------------------------------------
    def guests(self, n_orders: int) -> np.ndarray:
        guest = np.zeros(n_orders, dtype=bool)
        guest[_pick(self.rng, np.arange(n_orders), _count(GUEST_SHARE, n_orders))] = True
        self.counts["guest_orders"] = int(guest.sum())
        return guest

    def impossible_date_orders(self, lines: Lines, n_regular: int, guest: np.ndarray) -> np.ndarray:
        """Two orders of a customer whose lines are all ordinary; they get IMPOSSIBLE_ORDER_DATES in that order."""
        special = np.ones(len(lines), dtype=bool)
        special[:n_regular] = self._touched  # fee and cancellation lines come after the regular items
        unusual = guest.copy()
        unusual[lines.order[special]] = True
        picked = _pick(self.rng, np.flatnonzero(~unusual), len(IMPOSSIBLE_ORDER_DATES))
        self.counts["impossible_date_orders"] = len(picked)
        return picked

    # --- products ---------------------------------------------------------------------------------
    def add_products(self, products: pa.Table, landing: np.ndarray, pidx: np.ndarray, launch: np.ndarray,
                     price_changed: np.ndarray) -> tuple[pa.Table, np.ndarray]:
        """Adds the non-product codes (first day) and renamed re-sends of some products, keeping the
        rows sorted by landing day."""
        rng, n_products, days = self.rng, len(launch), self.days
        # A product with a price change is never renamed, so a re-send only changes the name and
        # never meets another version of the same product on one landing day.
        eligible = np.flatnonzero(~price_changed & (launch < days - 1))
        renamed = _pick(rng, eligible, _count(RENAMED_PRODUCT_SHARE, n_products))
        rename_day = launch[renamed] + 1 + (rng.random(len(renamed)) * (days - 1 - launch[renamed])).astype(np.int64)
        row_of = np.zeros(n_products, dtype=np.int64)
        row_of[pidx] = np.arange(len(pidx))  # unambiguous for renamed products: they have one version
        again = products.take(row_of[renamed])
        suffix = pa.array(RENAME_SUFFIXES).take(rng.integers(0, len(RENAME_SUFFIXES), len(renamed)))
        names = pc.binary_join_element_wise(again.column("product_name"), suffix, "")
        again = again.set_column(again.column_names.index("product_name"), "product_name", names)

        k = len(NON_PRODUCTS)
        types = products.schema
        fees = pa.table({
            "product_id": pa.array(NON_PRODUCT_CODES, types.field("product_id").type),
            "product_name": pa.array([p[1] for p in NON_PRODUCTS], types.field("product_name").type),
            "category": pa.array([NON_PRODUCT_CATEGORY] * k, types.field("category").type),
            "cost_price": money(np.zeros(k, dtype=np.int64)),
            "list_price": money(np.array([p[2] for p in NON_PRODUCTS], dtype=np.int64)),
            "department": pa.array([NON_PRODUCT_DEPARTMENT] * k, types.field("department").type),
            "supplier_id": pa.array([None] * k, types.field("supplier_id").type),
            "stock_level": pa.array([None] * k, types.field("stock_level").type),
            "reorder_point": pa.array([None] * k, types.field("reorder_point").type),
        }).select(products.column_names)
        table = pa.concat_tables([products, fees, again])
        day = np.concatenate([landing, np.zeros(k, dtype=np.int64), rename_day])
        key = np.concatenate([pidx, n_products + np.arange(k), renamed])
        order = np.lexsort((key, day))
        self.counts["renamed_products"] = len(renamed)
        return table.take(order), day[order]

    # --- files --------------------------------------------------------------------------------------
    def plan_files(self, landing_days: dict[str, np.ndarray]) -> dict[tuple[str, int], Folder]:
        """Which folders are split into 2-3 data files and which get a leading header-only file.

        Files are contiguous row ranges and their names sort in row order, so reading a folder's files
        by name gives the rows in their original order: a key repeated within a day keeps its final
        version last."""
        rng = self.rng
        folders = [(name, day, a, b) for name in schema.DATASETS for day, a, b in day_slices(landing_days[name])]
        if not folders:
            return {}
        split_day = np.zeros(self.days, dtype=bool)
        split_day[_pick(rng, np.arange(self.days), _count(MULTI_FILE_DAY_SHARE, self.days))] = True
        leading = np.zeros(len(folders), dtype=bool)
        leading[_pick(rng, np.arange(len(folders)), _count(LEADING_EMPTY_SHARE, len(folders), 1))] = True
        sizes = np.array([b - a for _, _, a, b in folders])
        split = np.array([split_day[day] for _, day, _, _ in folders]) & (sizes >= 2)
        if not split.any() and sizes.max() >= 2:  # small runs still show every reality
            split[int(np.argmax(sizes))] = True
        plan = {}
        for i, (name, day, a, b) in enumerate(folders):  # one iteration per folder, not per row
            cuts = []
            if split[i]:
                n_files = min(int(rng.integers(2, 4)), b - a)
                cuts = (a + 1 + np.sort(rng.choice(b - a - 1, size=n_files - 1, replace=False))).tolist()
            bounds = [a, *cuts, b]
            plan[(name, day)] = Folder(list(zip(bounds[:-1], bounds[1:])), bool(leading[i]))
        self.counts["multi_file_folders"] = int(sum(len(f.parts) > 1 for f in plan.values()))
        self.counts["empty_leading_files"] = int(sum(f.leading_empty for f in plan.values()))
        return plan

    def realities(self, start: dt.date) -> dict:
        days = [(start + dt.timedelta(days=int(d))).isoformat() for d in self.closed_days]
        keys = ("guest_orders", "cancellation_lines", "non_product_lines", "zero_price_items", "extreme_quantity_items",
                "large_quantity_items", "renamed_products", "multi_file_folders", "empty_leading_files",
                "impossible_date_orders")
        return {**{k: int(self.counts.get(k, 0)) for k in keys}, "empty_order_days": days}
