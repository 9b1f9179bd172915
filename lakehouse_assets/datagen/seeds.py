"""Builds the small committed sample landing zone in data_seeds/ (python -m lakehouse_assets.datagen.seeds).

The committed CSVs are the source of truth for tests; this script documents how they were made
and can rebuild them byte-for-byte. Each customer is built from an archetype (number of completed
orders, days between their last completed order and the analysis date, total per order) chosen so
that the RFM rules put customers into every segment and churn level; the test suite
recomputes the segments independently from the CSVs.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import shutil
from pathlib import Path

import numpy as np
import pyarrow as pa

from . import schema
from .csvio import day_slices, money
from .defects import DefectInjector
from .writer import LandingZoneWriter

START = dt.date(2023, 1, 1)
ANALYSIS_DATE = dt.date(2023, 7, 15)  # customer 1's last order: the latest completed order date
LAST_LANDING = dt.date(2023, 7, 20)
SEED = 3
DEFAULT_OUT = Path(__file__).resolve().parents[2] / "data_seeds"

# The five hand-checked customers of the original design, verbatim.
SEED_CUSTOMERS = [
    ("1", "john.doe@email.com", "John", "Doe", "US", "2023-01-15", "champion"),
    ("2", "jane.smith@email.com", "Jane", "Smith", "UK", "2023-02-20", "loyal"),
    ("3", "bob.jones@email.com", "Bob", "Jones", "US", "2023-03-10", "hibernating_low"),
    ("4", "alice.wilson@email.com", "Alice", "Wilson", "CA", "2023-01-25", "at_risk_medium"),
    ("5", "charlie.brown@email.com", "Charlie", "Brown", "US", "2023-04-05", "new"),
]

# archetype -> (completed orders lo..hi, days from last completed order to ANALYSIS_DATE lo..hi,
#               total per order incl. shipping in USD lo..hi, how many extra customers)
# Score thresholds: R 30/60/90/180 days, F 5/4/3/2 orders, M 500/300/200/100 USD.
ARCHETYPES = {
    "champion": ((6, 12), (0, 20), (110, 170), 6),  # R5 F5 M5
    "loyal": ((3, 5), (62, 85), (68, 95), 7),  # R3 F3-5 M3-4
    "new": ((1, 1), (3, 50), (20, 85), 7),  # R4-5 F1 M1-2
    "big_spender": ((1, 2), (10, 80), (210, 300), 6),  # R3-5 F1-2 M3-5
    "at_risk_low": ((3, 5), (93, 118), (75, 140), 4),  # R2 F3-4 M3-5, churn Low
    "at_risk_medium": ((3, 5), (125, 170), (75, 140), 3),  # churn Medium
    "cant_lose_low": ((1, 2), (93, 118), (220, 320), 3),  # R2 F1-2 M3-5
    "cant_lose_medium": ((1, 2), (125, 170), (220, 320), 3),
    "hibernating_low": ((2, 2), (93, 118), (20, 45), 3),  # R2 F2 M1
    "hibernating_medium": ((2, 3), (125, 175), (20, 45), 3),
    "hibernating_old": ((2, 2), (183, 190), (20, 45), 1),  # R1 F2: Hibernating, churn Medium (not High: F > 1)
    "lost": ((1, 1), (184, 194), (15, 60), 5),  # R1 F1 M1, churn High
    "others": ((1, 1), (62, 88), (20, 60), 7),  # R3 F1 M1 matches no named segment
}
# Customers without a completed order: (final status of their only order or None, count).
NO_COMPLETED = (("none", 3), ("cancelled", 2), ("returned", 1), ("pending", 1))

# product_id, name, category, department, cost, list price, popularity weight, launch date
PRODUCTS = [
    ("1001", "Wireless Headphones", "Audio", "Electronics", 52.00, 89.99, 6, START),
    ("1002", "Bluetooth Speaker", "Audio", "Electronics", 33.00, 59.99, 5, START),
    ("1003", "Earbuds", "Audio", "Electronics", 21.00, 39.99, 4, START),
    ("1004", "Wireless Mouse", "Computer Accessories", "Electronics", 11.50, 24.99, 6, START),
    ("1005", "Mouse Pad", "Computer Accessories", "Electronics", 3.20, 9.99, 3, START),
    ("1006", "USB-C Hub", "Computer Accessories", "Electronics", 17.00, 34.99, 3, START),
    ("1007", "Mechanical Keyboard", "Computer Accessories", "Electronics", 44.00, 79.99, 2, START),
    ("1008", "French Press", "Kitchen", "Home & Kitchen", 12.00, 29.99, 5, START),
    ("1009", "Coffee Grinder", "Kitchen", "Home & Kitchen", 22.00, 44.99, 3, START),
    ("1010", "Ceramic Mug", "Kitchen", "Home & Kitchen", 4.10, 12.99, 8, START),
    ("1011", "Chef Knife", "Kitchen", "Home & Kitchen", 30.00, 64.99, 2, START),
    ("85123A", "White Hanging Heart T-Light Holder", "Home Decor", "Home & Kitchen", 3.10, 8.95, 9, START),
    ("1012", 'Photo Frame 8" x 10"', "Home Decor", "Home & Kitchen", 6.00, 15.99, 3, START),
    ("1013", "Cushion Cover, Linen", "Home Decor", "Home & Kitchen", 7.50, 19.99, 2, START),
    ("1014", "Wall Clock", "Home Decor", "Home & Kitchen", 12.00, 27.99, 1, START),
    ("1015", "Yoga Mat", "Fitness", "Sports & Outdoors", 14.00, 34.99, 5, START),
    ("1016", "Yoga Block", "Fitness", "Sports & Outdoors", 4.50, 12.99, 3, START),
    ("1017", "Resistance Bands", "Fitness", "Sports & Outdoors", 6.80, 18.99, 2, START),
    ("1018", "Dumbbell Set", "Fitness", "Sports & Outdoors", 70.00, 119.99, 2, START),
    ("1019", "Water Bottle", "Fitness", "Sports & Outdoors", 5.90, 16.99, 4, dt.date(2023, 3, 1)),
    ("1020", "Cookbook", "Books", "Books & Stationery", 11.00, 24.99, 2, START),
    ("1021", "Travel Guide", "Books", "Books & Stationery", 8.00, 19.99, 1, START),
    ("1022", "Novel", "Books", "Books & Stationery", 6.00, 14.99, 3, START),
    ("1023", "Notebook", "Books", "Books & Stationery", 2.50, 7.99, 4, START),
    ("1024", "Vintage Radio", "Audio", "Electronics", 95.00, 149.99, 0, START),  # never sold
]
BUNDLES = (("1015", "1016"), ("1008", "1009"), ("1004", "1005"))  # bought together (co-purchase analysis)
PRICE_CHANGES = {"1002": (dt.date(2023, 4, 1), 54.99), "1018": (dt.date(2023, 4, 1), 109.99)}
EMAIL_CHANGES = {"12": dt.date(2023, 5, 2), "30": dt.date(2023, 6, 11)}  # re-sent with a new email
FREE_SHIPPING_FROM, SHIPPING = 75.0, 5.99


def _cents(x: float) -> int:
    return int(round(x * 100))


class _Builder:
    def __init__(self) -> None:
        self.rng = random.Random(SEED)  # stdlib Random: stable across NumPy versions
        self.customers: list[dict] = []
        self.orders: list[dict] = []  # one dict per order: id fields + its items + status events
        self.product_by_id = {p[0]: p for p in PRODUCTS}

    def price(self, pid: str, day: dt.date) -> float:
        change = PRICE_CHANGES.get(pid)
        return change[1] if change and day >= change[0] else self.product_by_id[pid][5]

    def basket(self, day: dt.date, lo: float, hi: float) -> list[tuple[str, int, float]]:
        """Random basket whose total (items + shipping) lands in [lo, hi]; often starts with a bundle."""
        sellable = [p for p in PRODUCTS if p[6] > 0 and p[7] <= day]
        weights = [p[6] for p in sellable]
        for _ in range(500):
            items: dict[str, int] = {}
            if self.rng.random() < 0.35:
                for pid in self.rng.choice(BUNDLES):
                    items[pid] = 1
            while True:
                sub = sum(q * self.price(pid, day) for pid, q in items.items())
                total = sub + (0 if sub >= FREE_SHIPPING_FROM else SHIPPING)
                if total >= lo or len(items) >= 6:
                    break
                pid = self.rng.choices(sellable, weights)[0][0]
                items[pid] = items.get(pid, 0) + (2 if self.rng.random() < 0.15 else 1)
            if lo <= total <= hi:
                return [(pid, q, self.price(pid, day)) for pid, q in items.items()]
        raise RuntimeError(f"no basket in [{lo}, {hi}] on {day}")

    def add_order(self, customer_id: str, day: dt.date, final: str, lo: float, hi: float) -> None:
        r = self.rng
        first = "pending" if r.random() < 0.6 else "processing"
        events = [(day, first, "pending" if first == "pending" and r.random() < 0.5 else "paid")]
        if final in ("completed", "returned"):
            done = day + dt.timedelta(days=r.randint(1, 4))
            events.append((done, "completed", "paid"))
            if final == "returned":
                events.append((done + dt.timedelta(days=r.randint(3, 10)), "returned", "refunded"))
        elif final == "cancelled":
            events.append((day + dt.timedelta(days=r.randint(1, 3)), "cancelled", "refunded"))
        self.orders.append({
            "customer_id": customer_id, "day": day, "items": self.basket(day, lo, hi), "events": events,
            "payment_method": r.choice(schema.PAYMENT_METHODS), "discount": r.random() < 0.1,
        })

    def add_customer(self, cid, email, first, last, country, created: dt.date, archetype: str | None, city=None,
                     phone=None, age=None) -> None:
        self.customers.append({"customer_id": cid, "email": email, "first_name": first, "last_name": last,
                               "country": country, "created_at": created, "phone": phone, "city": city,
                               "age": age, "landing": created})
        if archetype in ARCHETYPES:
            self._completed_orders(cid, created, archetype)
        elif archetype not in (None, "none"):
            lo, hi = (ANALYSIS_DATE + dt.timedelta(days=1), ANALYSIS_DATE + dt.timedelta(days=3)) \
                if archetype == "pending" else (created + dt.timedelta(days=1), ANALYSIS_DATE - dt.timedelta(days=20))
            self.add_order(cid, self._day_between(lo, hi), archetype, 20, 120)

    def _day_between(self, lo: dt.date, hi: dt.date) -> dt.date:
        return lo + dt.timedelta(days=self.rng.randint(0, (hi - lo).days))

    def _completed_orders(self, cid: str, created: dt.date, archetype: str) -> None:
        (f_lo, f_hi), (r_lo, r_hi), (lo, hi), _ = ARCHETYPES[archetype]
        r = self.rng
        n = r.randint(f_lo, f_hi)
        r_hi = min(r_hi, (ANALYSIS_DATE - created).days - n)  # leave a day per order after sign-up
        assert r_lo <= r_hi, (cid, archetype)
        last = ANALYSIS_DATE - dt.timedelta(days=0 if cid == "1" else r.randint(r_lo, r_hi))
        span = (last - created).days - 1
        days = sorted(r.sample(range(1, span + 1), n - 1)) if n > 1 else []
        for d in days + [(last - created).days]:
            self.add_order(cid, created + dt.timedelta(days=d), "completed", lo, hi)
        if r.random() < 0.3:  # an occasional cancelled or returned order besides the completed ones
            self.add_order(cid, self._day_between(created + dt.timedelta(days=1), last), r.choice(["cancelled", "returned"]), 20, 120)

    def build(self) -> None:
        r = self.rng
        for cid, email, first, last, country, created, archetype in SEED_CUSTOMERS:
            self.add_customer(cid, email, first, last, country, dt.date.fromisoformat(created), archetype)
        plan = [a for a, spec in ARCHETYPES.items() for _ in range(spec[3])] + [s for s, k in NO_COMPLETED for _ in range(k)]
        countries = list(schema.COUNTRIES)
        for i, archetype in enumerate(plan):
            cid = str(6 + i)
            first, last = r.choice(schema.FIRST_NAMES), r.choice(schema.LAST_NAMES)
            country = r.choice(countries)
            created = self._created_for(archetype)
            email = f"{first}.{last.replace(' ', '').replace(chr(39), '')}{cid}@{r.choice(schema.EMAIL_DOMAINS)}".lower()
            self.add_customer(cid, email, first, last, country, created, archetype,
                              city=r.choice(schema.COUNTRIES[country][3]),
                              phone=f"{schema.COUNTRIES[country][2]}-555-{r.randint(0, 9999):04d}" if r.random() < 0.8 else None,
                              age=r.randint(19, 74) if r.random() < 0.85 else None)
        for c in list(self.customers):
            if c["customer_id"] in EMAIL_CHANGES:
                assert EMAIL_CHANGES[c["customer_id"]] > c["created_at"]
                self.customers.append({**c, "email": c["email"].split("@")[0] + "@newmail.com",
                                       "landing": EMAIL_CHANGES[c["customer_id"]]})

    def _created_for(self, archetype: str) -> dt.date:
        """A sign-up date leaving room for the archetype's orders before its last-order window."""
        if archetype not in ARCHETYPES:
            return self._day_between(START, ANALYSIS_DATE - dt.timedelta(days=30))
        (_, f_hi), (_, r_hi), _, _ = ARCHETYPES[archetype]
        latest = ANALYSIS_DATE - dt.timedelta(days=r_hi + 2 * f_hi + 1)
        earliest = max(START, latest - dt.timedelta(days=60))
        return self._day_between(earliest, max(earliest, latest))

    # --- tables ---------------------------------------------------------------------------------
    def tables(self) -> dict:
        """Per dataset: (Arrow table sorted by landing day then key, landing day offsets)."""
        self.orders.sort(key=lambda o: (o["day"], int(o["customer_id"])))
        for i, o in enumerate(self.orders):
            o["order_id"] = str(5001 + i)
        cust = sorted(self.customers, key=lambda c: (c["landing"], int(c["customer_id"])))
        customers = {
            **{k: pa.array([c[k] for c in cust], pa.string()) for k in ("customer_id", "email", "first_name", "last_name", "country")},
            "created_at": pa.array([c["created_at"] for c in cust], pa.date32()),
            "phone": pa.array([c["phone"] for c in cust], pa.string()),
            "city": pa.array([c["city"] for c in cust], pa.string()),
            "age": pa.array([c["age"] for c in cust], pa.int64()),
        }
        prod_rows = [(p[7], p, p[5]) for p in PRODUCTS] + [(d, self.product_by_id[pid], price) for pid, (d, price) in PRICE_CHANGES.items()]
        prod_rows.sort(key=lambda r: (r[0], r[1][0]))
        products = {
            "product_id": pa.array([p[0] for _, p, _ in prod_rows]),
            "product_name": pa.array([p[1] for _, p, _ in prod_rows]),
            "category": pa.array([p[2] for _, p, _ in prod_rows]),
            "cost_price": money(np.array([_cents(p[4]) for _, p, _ in prod_rows])),
            "list_price": money(np.array([_cents(price) for _, _, price in prod_rows])),
            "department": pa.array([p[3] for _, p, _ in prod_rows]),
            "supplier_id": pa.array([f"SUP{int(p[0][:4]) % 7 + 1:03d}" for _, p, _ in prod_rows]),
            "stock_level": pa.array([40 + (int(p[0][:4]) * 37) % 160 for _, p, _ in prod_rows], pa.int64()),
            "reorder_point": pa.array([10 + (int(p[0][:4]) * 13) % 30 for _, p, _ in prod_rows], pa.int64()),
        }
        events, items = [], []
        for o in self.orders:
            sub = sum(_cents(q * price) for _, q, price in o["items"])
            money_cols = {"shipping": 0 if sub >= _cents(FREE_SHIPPING_FROM) else _cents(SHIPPING),
                          "tax": round(sub * 0.08), "discount": round(sub * 0.1) if o["discount"] else 0}
            for day, status, pay in o["events"]:
                events.append((day, o, status, pay, money_cols))
            for pid, q, price in o["items"]:
                items.append((o["day"], o["order_id"], pid, q, price))
        events.sort(key=lambda e: (e[0], int(e[1]["order_id"])))
        orders = {
            "order_id": pa.array([o["order_id"] for _, o, *_ in events]),
            "customer_id": pa.array([o["customer_id"] for _, o, *_ in events]),
            "order_date": pa.array([o["day"] for _, o, *_ in events], pa.date32()),
            "status": pa.array([e[2] for e in events]),
            "shipping_cost": money(np.array([e[4]["shipping"] for e in events])),
            "payment_method": pa.array([o["payment_method"] for _, o, *_ in events]),
            "payment_status": pa.array([e[3] for e in events]),
            "currency": pa.array(["USD"] * len(events)),
            "tax_amount": money(np.array([e[4]["tax"] for e in events])),
            "discount_amount": money(np.array([e[4]["discount"] for e in events])),
        }
        order_items = {
            "order_item_id": pa.array([str(90001 + i) for i in range(len(items))]),
            "order_id": pa.array([it[1] for it in items]),
            "product_id": pa.array([it[2] for it in items]),
            "quantity": pa.array([it[3] for it in items], pa.int64()),
            "unit_price": money(np.array([_cents(it[4]) for it in items])),
        }
        offset = lambda days: np.array([(d - START).days for d in days], dtype=np.int64)  # noqa: E731
        return {
            "customers": (pa.table(customers), offset(c["landing"] for c in cust)),
            "products": (pa.table(products), offset(r[0] for r in prod_rows)),
            "orders": (pa.table(orders), offset(e[0] for e in events)),
            "order_items": (pa.table(order_items), offset(it[0] for it in items)),
        }


def build_seeds(out_dir: Path = DEFAULT_OUT) -> dict:
    """Rewrite the dataset folders under out_dir (README.md and other files are left alone)."""
    builder = _Builder()
    builder.build()
    tables = builder.tables()
    assert max(e[0] for o in builder.orders for e in [o["events"][-1]]) <= LAST_LANDING
    for name in schema.DATASETS:
        shutil.rmtree(Path(out_dir) / name, ignore_errors=True)
    writer = LandingZoneWriter(Path(out_dir), START)
    clean = DefectInjector(np.random.default_rng(0), 0.0, {})
    for name in schema.DATASETS:
        table, landing = tables[name]
        for day, a, b in day_slices(landing):
            clean.write_day(writer, name, day, table.slice(a, b - a), a)
    return {"files_written": writer.files_written, "rows": dict(writer.rows)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Rebuild the committed data_seeds/ sample landing zone.")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    print(build_seeds(parser.parse_args(argv).out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
