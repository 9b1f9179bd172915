"""Tests for the landing-zone generator and the committed data_seeds sample (pure pandas, no Spark).

The data_seeds checks use an independent pandas implementation of the project's rules (RFM scores,
segments, churn risk, product tiers). `python -m lakehouse_assets_tests.test_datagen --write-readme`
rewrites the generated block of data_seeds/README.md from it.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import re
import sys
from collections import Counter
from itertools import combinations
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lakehouse_assets.datagen import OPTIONAL_COLUMNS, REQUIRED_COLUMNS, generate_landing_zone
from lakehouse_assets.datagen.__main__ import main as datagen_cli
from lakehouse_assets.datagen.defects import KINDS
from lakehouse_assets.datagen.retail import NON_PRODUCT_CODES

SEEDS = Path(__file__).resolve().parents[1] / "data_seeds"
KEYS = {"customers": "customer_id", "products": "product_id", "orders": "order_id", "order_items": "order_item_id"}
PATH_RE = re.compile(r"^(customers|products|orders|order_items)/(\d{4}-\d{2}-\d{2})/[^/]+\.csv$")
SMALL = dict(order_items=3000, start="2024-01-01", days=45)


def _digest(root: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(root.rglob("*")):
        if p.is_file():
            h.update(p.relative_to(root).as_posix().encode() + b"\0" + p.read_bytes() + b"\0")
    return h.hexdigest()


def _load(root: Path, dataset: str) -> pd.DataFrame:
    """Every row of a clean landing dataset, in contract order (landing date, file name, line)."""
    frames = []
    for path in sorted((root / dataset).glob("*/*.csv"), key=lambda p: (p.parent.name, p.name)):
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
        frames.append(df.assign(_landing=path.parent.name, _file=path.name, _row=range(len(df))))
    return pd.concat(frames, ignore_index=True)


def _current(df: pd.DataFrame, key: str) -> pd.DataFrame:
    return df.drop_duplicates(key, keep="last")  # rows are already in contract order: latest wins


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    root = tmp_path_factory.mktemp("lz")
    return root, generate_landing_zone(root, seed=7, **SMALL)


# --- determinism ----------------------------------------------------------------------------------
def test_same_seed_same_bytes_and_different_seed_differs(tmp_path, small):
    root, _ = small
    again = tmp_path / "again"
    generate_landing_zone(again, seed=7, **SMALL)
    assert _digest(again) == _digest(root)
    other = tmp_path / "other"
    generate_landing_zone(other, seed=8, **SMALL)
    assert _digest(other) != _digest(root)


def test_defects_are_deterministic_too(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    generate_landing_zone(a, seed=3, defect_rate=0.02, **SMALL)
    generate_landing_zone(b, seed=3, defect_rate=0.02, **SMALL)
    assert _digest(a) == _digest(b)


# --- contract conformance -------------------------------------------------------------------------
def test_layout_headers_and_summary(small):
    root, summary = small
    files = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
    assert len(files) == summary["files_written"]
    start = dt.date.fromisoformat(SMALL["start"])
    for rel in files:
        m = PATH_RE.match(rel)
        assert m, rel
        day = dt.date.fromisoformat(m.group(2))
        assert start <= day < start + dt.timedelta(days=SMALL["days"])
    for dataset in REQUIRED_COLUMNS:
        for path in (root / dataset).glob("*/*.csv"):
            header = next(csv.reader(path.open(encoding="utf-8")))
            assert set(REQUIRED_COLUMNS[dataset] + OPTIONAL_COLUMNS[dataset]) <= set(header), path
        assert len(_load(root, dataset)) == summary["rows"][dataset]
    assert summary["rows"]["order_items"] == SMALL["order_items"]
    assert set(summary["defects"]) == set(KINDS) and not any(summary["defects"].values())


def test_values_parse_and_land_on_the_right_date(small):
    root, _ = small
    c, p, o, i = (_load(root, d) for d in ("customers", "products", "orders", "order_items"))
    for df, key in ((c, "customer_id"), (p, "product_id"), (o, "order_id"), (i, "order_item_id")):
        assert (df[key] != "").all()
    created = pd.to_datetime(c.created_at, format="ISO8601")
    ordered = pd.to_datetime(o.order_date, format="ISO8601")
    for col in ("cost_price", "list_price"):
        assert (p[col].astype(float) > 0).all()
    for col in ("shipping_cost", "tax_amount", "discount_amount"):
        assert (o[col].astype(float) >= 0).all()
    assert (i.quantity.astype(int) > 0).all() and (i.unit_price.astype(float) > 0).all()
    assert set(o.currency) == {"USD"}
    assert set(o.payment_method) <= {"credit_card", "debit_card", "paypal", "bank_transfer"}
    assert set(o.payment_status) <= {"paid", "refunded", "pending"}
    assert p.product_id.str.fullmatch(r"\d+[A-Z]").any() and p.product_id.str.fullmatch(r"\d+").mean() > 0.8
    # customers and orders first land on their own date; items land with their order's first landing
    first_c = c.assign(created=created.dt.strftime("%Y-%m-%d")).drop_duplicates("customer_id")
    assert (first_c.created == first_c._landing).all()
    first_o = o.assign(day=ordered.dt.strftime("%Y-%m-%d")).drop_duplicates("order_id")
    assert (first_o.day == first_o._landing).all()
    merged = i.merge(first_o[["order_id", "_landing"]], on="order_id", suffixes=("", "_order"), how="left")
    assert (merged._landing == merged._landing_order).all()
    # referential integrity and sign-up before first order
    assert set(i.product_id) <= set(p.product_id) and set(o.customer_id) <= set(c.customer_id)
    first_order = ordered.groupby(o.customer_id).min()
    signup = created.groupby(c.customer_id).min().reindex(first_order.index)
    assert (signup <= first_order).all()
    # realistic shape: repeat buyers, reorders of the same product, customers who never order
    current = _current(o, "order_id")
    per_customer = current.groupby("customer_id").size()
    assert (per_customer > 1).mean() > 0.3 and per_customer.max() >= 5
    assert len(set(c.customer_id) - set(o.customer_id)) > 0
    pairs = i.merge(current[["order_id", "customer_id"]], on="order_id").groupby(["customer_id", "product_id"]).order_id.nunique()
    assert (pairs > 1).sum() > 0
    # re-sent customers/products carry changes
    assert c.customer_id.duplicated().any() and p.product_id.duplicated().any()


def _check_lifecycle(orders: pd.DataFrame) -> None:
    """Per order (in landing order): pending|processing, then completed|cancelled, then returned."""
    allowed = {None: {"pending", "processing"}, "pending": {"completed", "cancelled"},
               "processing": {"completed", "cancelled"}, "completed": {"returned"}, "cancelled": set(), "returned": set()}
    o = orders.assign(landing=pd.to_datetime(orders._landing))
    for order_id, rows in o.groupby("order_id", sort=False):
        prev, prev_day = None, None
        assert rows.order_date.nunique() == 1 and rows.customer_id.nunique() == 1, order_id
        for status, pay, day in zip(rows.status, rows.payment_status, rows.landing):
            assert status in allowed[prev], (order_id, prev, status)
            if prev is not None:
                assert 1 <= (day - prev_day).days <= 10, order_id
            if status == "returned":
                assert pay == "refunded"
            prev, prev_day = status, day


def test_order_status_lifecycle(small):
    root, _ = small
    o = _load(root, "orders")
    _check_lifecycle(o)
    final = _current(o, "order_id").status.value_counts(normalize=True)
    assert final["completed"] > 0.6 and final["cancelled"] > 0 and final["returned"] > 0


# --- defects --------------------------------------------------------------------------------------
MONEY = {"shipping_cost", "unit_price", "list_price", "cost_price", "tax_amount", "discount_amount"}


def _scan_defects(root: Path) -> Counter:
    """Independent evidence for every defect kind, read back from the files."""
    found: Counter = Counter()
    keys = {d: set() for d in ("orders", "products")}
    refs = []
    for path in sorted(root.rglob("*.csv")):
        dataset = path.parts[-3]
        raw = path.read_bytes()
        if not raw:
            found["empty_file"] += 1
            continue
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            found["non_utf8_file"] += 1
            continue
        lines = text.split("\n")
        lines = lines[:-1] if lines[-1] == "" else lines
        header = next(csv.reader([lines[0]]))
        if len(lines) == 1:
            found["header_only_file"] += 1
        if set(OPTIONAL_COLUMNS[dataset]) - set(header):
            found["missing_optional_column"] += 1
        if set(header) - set(REQUIRED_COLUMNS[dataset]) - set(OPTIONAL_COLUMNS[dataset]):
            found["extra_column"] += 1
        seen = Counter()
        for line in lines[1:]:
            if line.count('"') % 2:
                found["unbalanced_quote"] += 1
                continue
            fields = next(csv.reader([line]))
            if len(fields) != len(header):
                found["wrong_field_count"] += 1
                continue
            row = dict(zip(header, fields))
            seen[row[KEYS[dataset]]] += 1
            for col in MONEY & row.keys():
                if row[col] and not re.fullmatch(r"-?\d+(\.\d+)?", row[col]):
                    found["unparseable_number"] += 1
            for col in {"order_date", "created_at"} & row.keys():
                try:
                    dt.datetime.fromisoformat(row[col])
                except ValueError:
                    found["unparseable_date"] += 1
            if "email" in row and "@" not in row["email"]:
                found["bad_email"] += 1
            if dataset == "order_items":
                if re.fullmatch(r"-?\d+", row["quantity"]) and int(row["quantity"]) <= 0:
                    found["nonpositive_quantity"] += 1
                refs.append((row["order_id"], row["product_id"]))
            if dataset in keys:
                keys[dataset].add(row[KEYS[dataset]])
        found["duplicate_key"] += sum(n - 1 for n in seen.values())
    found["orphan_order_ref"] = sum(o not in keys["orders"] for o, _ in refs)
    found["orphan_product_ref"] = sum(p not in keys["products"] for _, p in refs)
    return found


def test_no_defects_at_rate_zero(small):
    root, summary = small
    found = _scan_defects(root)
    assert not any(found[k] for k in KINDS), found


def test_every_defect_kind_is_injected(tmp_path):
    summary = generate_landing_zone(tmp_path, seed=11, defect_rate=0.01, **SMALL)
    assert all(summary["defects"][k] > 0 for k in KINDS), summary["defects"]
    found = _scan_defects(tmp_path)
    missing = [k for k in KINDS if found[k] == 0]
    assert not missing, (missing, found)
    part_files = list(tmp_path.glob("*/*/*_part*.csv"))
    assert part_files  # defects add second files to some folders


# --- retail profile -------------------------------------------------------------------------------
# Digest of generate_landing_zone(seed=7, **SMALL) computed before the profile existed: the clean
# profile must keep writing exactly these bytes.
CLEAN_SMALL_DIGEST = "881ca42a43991387f4307e0f2720ca51d1292dcbc3aa1442b1d4f4915ebc0424"
IMPOSSIBLE_DATES = {"9999-12-31 00:00:00", "1970-01-01 00:00:00"}


def test_clean_profile_bytes_unchanged(tmp_path, small):
    root, summary = small
    assert _digest(root) == CLEAN_SMALL_DIGEST
    assert summary["profile"] == "clean" and "realities" not in summary
    explicit = tmp_path / "explicit"
    generate_landing_zone(explicit, seed=7, profile="clean", **SMALL)
    assert _digest(explicit) == CLEAN_SMALL_DIGEST


def _read_files(root: Path, dataset: str) -> list[tuple[str, str, list[dict]]]:
    """(landing date, file name, rows) per file, in contract order (date folder, then file name)."""
    out = []
    for path in sorted((root / dataset).glob("*/*.csv"), key=lambda p: (p.parent.name, p.name)):
        with path.open(encoding="utf-8", newline="") as f:
            out.append((path.parent.name, path.name, list(csv.DictReader(f))))
    return out


def _rows(files) -> list[dict]:
    return [dict(r, _landing=day) for day, _, rows in files for r in rows]


@pytest.fixture(scope="module")
def retail(tmp_path_factory):
    root = tmp_path_factory.mktemp("retail")
    summary = generate_landing_zone(root, seed=5, profile="retail", **SMALL)
    files = {d: _read_files(root, d) for d in KEYS}
    return root, summary, files, {d: _rows(f) for d, f in files.items()}


def test_retail_guest_orders(retail):
    _, summary, _, rows = retail
    customer = {r["order_id"]: r["customer_id"] for r in rows["orders"]}
    guests = {o for o, c in customer.items() if c == ""}
    assert 0.2 <= len(guests) / len(customer) <= 0.3
    assert len(guests) == summary["realities"]["guest_orders"]
    assert all(len({r["customer_id"] for r in rows["orders"] if r["order_id"] == o}) == 1 for o in list(guests)[:50])
    with_items = {r["order_id"] for r in rows["order_items"] if int(r["quantity"]) > 0}
    assert guests <= with_items  # their items are normal


def test_retail_cancellation_lines(retail):
    _, summary, _, rows = retail
    items, orders = rows["order_items"], rows["orders"]
    negative = [r for r in items if int(r["quantity"]) < 0]
    assert negative and len(negative) == summary["realities"]["cancellation_lines"]
    assert len({r["order_item_id"] for r in items}) == len(items)  # new ids, never a re-send
    final_status = {r["order_id"]: r["status"] for r in orders}  # rows are in contract order: last wins
    sold: dict[tuple[str, str], list[dict]] = {}  # an order may sell a product on two lines
    for r in items:
        if int(r["quantity"]) > 0:
            sold.setdefault((r["order_id"], r["product_id"]), []).append(r)
    for r in negative:
        assert final_status[r["order_id"]] == "completed"
        assert any(1 <= -int(r["quantity"]) <= int(o["quantity"]) and r["unit_price"] == o["unit_price"]
                   and r["_landing"] >= o["_landing"] for o in sold[(r["order_id"], r["product_id"])]), r


def test_retail_non_product_lines_are_known_products(retail):
    root, summary, files, rows = retail
    first_day = files["products"][0][0]
    products = {r["product_id"]: r for r in rows["products"]}
    on_first_day = {r["product_id"] for r in rows["products"] if r["_landing"] == first_day}
    assert set(NON_PRODUCT_CODES) <= on_first_day
    for code in NON_PRODUCT_CODES:
        assert products[code]["category"] == "Non-Product" and products[code]["cost_price"] == "0.00"
    fee_lines = [r for r in rows["order_items"] if r["product_id"] in NON_PRODUCT_CODES]
    assert len(fee_lines) == summary["realities"]["non_product_lines"] > 0
    assert Counter(r["product_id"] for r in fee_lines).most_common(1)[0][0] == "POST"
    assert {r["product_id"] for r in rows["order_items"]} <= set(products)  # no orphans
    assert {r["order_id"] for r in rows["order_items"]} <= {r["order_id"] for r in rows["orders"]}


def test_retail_prices_and_quantities(retail):
    _, summary, _, rows = retail
    realities = summary["realities"]
    quantity = [int(r["quantity"]) for r in rows["order_items"]]
    zero = sum(r["unit_price"] == "0.00" for r in rows["order_items"])
    assert zero == realities["zero_price_items"] > 0
    assert sum(q > 10_000 for q in quantity) == realities["extreme_quantity_items"] > 0
    assert sum(1_000 <= q <= 10_000 for q in quantity) == realities["large_quantity_items"] > 0
    assert len(quantity) == summary["rows"]["order_items"] == \
        SMALL["order_items"] + realities["cancellation_lines"] + realities["non_product_lines"]


def test_retail_renamed_products(retail):
    _, summary, _, rows = retail
    versions: dict[str, list[dict]] = {}
    for r in rows["products"]:
        versions.setdefault(r["product_id"], []).append(r)
    renamed = {p: v for p, v in versions.items() if len({r["product_name"] for r in v}) >= 2}
    assert len(renamed) == summary["realities"]["renamed_products"] > 0
    for v in renamed.values():
        assert len({r["_landing"] for r in v}) >= 2
        others = [{k: x for k, x in r.items() if k not in ("product_name", "_landing")} for r in v]
        assert all(o == others[0] for o in others)  # only the name changes


def test_retail_days_without_orders(retail):
    root, summary, _, rows = retail
    empty_days = summary["realities"]["empty_order_days"]
    assert len(empty_days) >= 2  # SMALL has 45 days
    for day in empty_days:
        for dataset in ("orders", "order_items"):
            (path,) = (root / dataset / day).glob("*.csv")  # exactly one file
            lines = path.read_text(encoding="utf-8").splitlines()
            assert len(lines) == 1 and lines[0].startswith('"'), path  # header only
    assert not {r["order_date"][:10] for r in rows["orders"]} & set(empty_days)
    _check_lifecycle(pd.DataFrame(rows["orders"]))  # moved status updates keep 1..10-day gaps


def test_retail_several_files_per_folder(retail):
    root, summary, files, _ = retail
    realities = summary["realities"]
    folders: dict[tuple[str, str], list[tuple[str, int]]] = {}
    for dataset, per_file in files.items():
        for day, name, rows in per_file:
            folders.setdefault((dataset, day), []).append((name, len(rows)))
    empty_days = set(realities["empty_order_days"])
    multi = sum(sum(n > 0 for _, n in f) >= 2 for f in folders.values())
    # a header-only file sorting before the folder's data files (folders of closed days not counted)
    leading = sum(f[0][1] == 0 and any(n > 0 for _, n in f) for f in folders.values())
    assert multi == realities["multi_file_folders"] > 0
    assert leading == realities["empty_leading_files"] > 0
    assert all(f[0][0] == "00_empty_extract.csv" for f in folders.values() if f[0][1] == 0 and len(f) > 1)
    assert all(len(folders[(d, day)]) == 1 for d in ("orders", "order_items") for day in empty_days)
    assert len(list(root.rglob("*.csv"))) == summary["files_written"]
    # Splitting keeps the row order: read in name order, each day's orders are still sorted by id.
    per_day: dict[str, list[int]] = {}
    for day, _, rows in files["orders"]:
        per_day.setdefault(day, []).extend(int(r["order_id"]) for r in rows)
    assert all(ids == sorted(ids) and len(set(ids)) == len(ids) for ids in per_day.values())


def test_retail_impossible_order_dates(retail):
    _, summary, _, rows = retail
    dates = {r["order_id"]: r["order_date"] for r in rows["orders"]}
    impossible = {o: d for o, d in dates.items() if d in IMPOSSIBLE_DATES}
    assert sorted(impossible.values()) == sorted(IMPOSSIBLE_DATES)
    assert summary["realities"]["impossible_date_orders"] == 2
    assert all(dt.date(2000, 1, 1) <= dt.date.fromisoformat(d[:10]) < dt.date(2100, 1, 1)
               for d in dates.values() if d not in IMPOSSIBLE_DATES)
    items = [r for r in rows["order_items"] if r["order_id"] in impossible]
    assert {r["order_id"] for r in items} == set(impossible)
    assert all(0 < int(r["quantity"]) <= 12 and r["unit_price"] != "0.00" for r in items)
    assert all(r["customer_id"] != "" for r in rows["orders"] if r["order_id"] in impossible)


def test_retail_is_deterministic(tmp_path, retail):
    root, summary, _, _ = retail
    again, other = tmp_path / "again", tmp_path / "other"
    assert generate_landing_zone(again, seed=5, profile="retail", **SMALL)["realities"] == summary["realities"]
    assert _digest(again) == _digest(root)
    generate_landing_zone(other, seed=6, profile="retail", **SMALL)
    assert _digest(other) != _digest(root)


def test_retail_combines_with_defects(tmp_path, retail):
    _, clean_summary, _, _ = retail
    a, b = tmp_path / "a", tmp_path / "b"
    summary = generate_landing_zone(a, seed=5, profile="retail", defect_rate=0.01, **SMALL)
    generate_landing_zone(b, seed=5, profile="retail", defect_rate=0.01, **SMALL)
    assert _digest(a) == _digest(b)
    assert all(summary["defects"][k] > 0 for k in KINDS), summary["defects"]
    assert summary["realities"] == clean_summary["realities"]  # defects come on top of the same realities
    found = _scan_defects(a)
    assert all(found[k] > 0 for k in KINDS), found


def test_cli_profile_flag(tmp_path, capsys):
    assert datagen_cli(["--out", str(tmp_path), "--seed", "5", "--order-items", "500", "--days", "20", "--profile", "retail"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["profile"] == "retail" and summary["realities"]["impossible_date_orders"] == 2
    with pytest.raises(ValueError):
        generate_landing_zone(tmp_path / "x", seed=1, order_items=10, days=5, profile="wholesale")


# --- data_seeds: independent pandas implementation of the rules ------------------------------------
def _cents(s: pd.Series) -> pd.Series:
    return (s.astype(float) * 100).round().astype("int64")


def expected_metrics(root: Path = SEEDS) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(customers with RFM/segment/churn, products with revenue/tier) following docs/business-rules.md."""
    customers = _current(_load(root, "customers"), "customer_id")
    products = _current(_load(root, "products"), "product_id")
    orders = _current(_load(root, "orders"), "order_id")
    items = _current(_load(root, "order_items"), "order_item_id")
    orders = orders.assign(order_date=pd.to_datetime(orders.order_date).dt.normalize(), shipping=_cents(orders.shipping_cost),
                           is_completed=orders.status.str.strip().str.lower() == "completed")
    items = items.assign(quantity=items.quantity.astype(int), line_total=items.quantity.astype(int) * _cents(items.unit_price))
    items = items[items.quantity > 0]
    completed = orders[orders.is_completed]
    # int_customer_orders: order_total = items + shipping
    subtotal = items.groupby("order_id").line_total.sum()
    co = completed.assign(order_total=completed.order_id.map(subtotal) + completed.shipping)
    analysis = co.order_date.max()
    rfm = co.groupby("customer_id").agg(last=("order_date", "max"), frequency=("order_id", "nunique"),
                                        monetary=("order_total", "sum"))
    rfm["recency_days"] = (analysis - rfm["last"]).dt.days

    def score(values, cuts, higher_is_better=True):
        out = pd.Series(1, index=values.index)
        for s, cut in zip((2, 3, 4, 5), cuts):
            out[(values >= cut) if higher_is_better else (values <= cut)] = s
        return out

    rfm["R"] = score(rfm.recency_days, (180, 90, 60, 30), higher_is_better=False)
    rfm["F"] = score(rfm.frequency, (2, 3, 4, 5))
    rfm["M"] = score(rfm.monetary, (10000, 20000, 30000, 50000))
    cm = customers[["customer_id"]].merge(rfm, left_on="customer_id", right_index=True, how="left")
    R, F, M = cm.R, cm.F, cm.M  # NaN for customers without completed orders: every comparison is False
    # Issue 4: no completed order -> frequency and monetary 0 (not the original design's NULLs), segment
    # 'Prospects' and churn risk 'Never Purchased', checked before the other segment rules.
    never = cm.frequency.isna()
    cm["frequency"] = cm.frequency.fillna(0).astype("int64")
    cm["monetary"] = cm.monetary.fillna(0).astype("int64")
    rules = [
        ("Prospects", never),
        ("Champions", (R >= 4) & (F >= 4) & (M >= 4)),
        ("Loyal Customers", (R >= 3) & (F >= 3) & (M >= 3)),
        ("New Customers", (R >= 4) & (F <= 2) & (M <= 2)),
        ("Big Spenders", (R >= 3) & (F <= 2) & (M >= 3)),
        ("At Risk", (R <= 2) & (F >= 3) & (M >= 3)),
        ("Cant Lose Them", (R <= 2) & (F <= 2) & (M >= 3)),
        ("Hibernating", (R <= 2) & (F >= 2) & (M <= 2)),
        ("Lost", (R <= 1) & (F <= 1) & (M <= 1)),
    ]
    cm["customer_segment"] = np.select([m for _, m in rules], [n for n, _ in rules], "Others")
    rec = cm.recency_days
    cm["churn_risk"] = np.select([never, (rec > 180) & (cm.frequency == 1), rec > 120, rec > 90],
                                 ["Never Purchased", "High", "Medium", "Low"], "Very Low")
    # product tiers: revenue over completed orders, percentile_cont (= linear interpolation) over all products
    sold = items.merge(completed[["order_id"]], on="order_id")
    revenue = sold.groupby("product_id").line_total.sum()
    pm = products[["product_id", "product_name", "category"]].assign(revenue=lambda d: d.product_id.map(revenue).fillna(0).astype("int64"))
    p80, p50, p20 = np.percentile(pm.revenue, [80, 50, 20])
    pm["performance_tier"] = np.select([pm.revenue >= p80, pm.revenue >= p50, pm.revenue >= p20], ["Star", "Performer", "Average"], "Underperformer")
    cm.attrs["analysis_date"] = analysis.date().isoformat()
    return cm.reset_index(drop=True), pm.reset_index(drop=True)


SEGMENTS = ["Champions", "Loyal Customers", "New Customers", "Big Spenders", "At Risk", "Cant Lose Them", "Hibernating", "Lost", "Others",
            "Prospects"]
CHURN = ["High", "Medium", "Low", "Very Low", "Never Purchased"]
TIERS = ["Star", "Performer", "Average", "Underperformer"]
BEGIN, END = "<!-- BEGIN GENERATED: rule expectations -->", "<!-- END GENERATED -->"


def render_expectations(cm: pd.DataFrame, pm: pd.DataFrame) -> str:
    def ids(values):
        return ", ".join(sorted(values, key=lambda v: (len(v), v)))

    no_orders = cm[cm.frequency == 0].customer_id
    out = [BEGIN, f"Analysis date (latest completed order_date): {cm.attrs['analysis_date']}", "",
           "| kind | value | ids |", "| --- | --- | --- |"]
    out += [f"| segment | {s} | {ids(cm[cm.customer_segment == s].customer_id)} |" for s in SEGMENTS]
    out += [f"| churn_risk | {c} | {ids(cm[cm.churn_risk == c].customer_id)} |" for c in CHURN]
    out += [f"| performance_tier | {t} | {ids(pm[pm.performance_tier == t].product_id)} |" for t in TIERS]
    out += [f"| no completed order | - | {ids(no_orders)} |", "",
            "| customer_id | recency_days | frequency | monetary_value | R | F | M | customer_segment | churn_risk |",
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in cm.sort_values("customer_id", key=lambda s: s.astype(int)).itertuples():
        if r.frequency == 0:
            out.append(f"| {r.customer_id} | - | 0 | 0.00 | - | - | - | {r.customer_segment} | {r.churn_risk} |")
        else:
            out.append(f"| {r.customer_id} | {int(r.recency_days)} | {int(r.frequency)} | {r.monetary / 100:.2f} | "
                       f"{int(r.R)} | {int(r.F)} | {int(r.M)} | {r.customer_segment} | {r.churn_risk} |")
    out += ["", "| product_id | product_name | category | revenue | performance_tier |", "| --- | --- | --- | --- | --- |"]
    for r in pm.sort_values("revenue", ascending=False, kind="stable").itertuples():
        out.append(f"| {r.product_id} | {r.product_name} | {r.category} | {r.revenue / 100:.2f} | {r.performance_tier} |")
    return "\n".join(out + [END])


def _readme_tables(text: str) -> list[list[dict]]:
    block = text[text.index(BEGIN):text.index(END)]
    tables, current = [], None
    for line in block.splitlines():
        if not line.startswith("|"):
            current = None
            continue
        cells = [c.strip() for c in line.strip("|").split("|")]
        if current is None:
            current = {"header": cells, "rows": []}
            tables.append(current)
        elif not set("".join(cells)) <= set("- "):
            current["rows"].append(dict(zip(current["header"], cells)))
    return [t["rows"] for t in tables]


@pytest.fixture(scope="module")
def seeds_metrics():
    return expected_metrics(SEEDS)


def test_seeds_cover_every_segment_churn_level_and_tier(seeds_metrics):
    cm, pm = seeds_metrics
    assert set(cm.customer_segment) == set(SEGMENTS)
    assert set(cm.churn_risk) == set(CHURN)
    assert set(pm.performance_tier) == set(TIERS)
    assert (cm.frequency == 0).sum() >= 1  # customers who never completed an order


def test_readme_claims_hold(seeds_metrics):
    cm, pm = seeds_metrics
    text = (SEEDS / "README.md").read_text(encoding="utf-8")
    summary, per_customer, per_product = _readme_tables(text)
    hint = "data_seeds/README.md is stale: run python -m lakehouse_assets_tests.test_datagen --write-readme"
    seg, churn = cm.set_index("customer_id").customer_segment, cm.set_index("customer_id").churn_risk
    assert {r["customer_id"]: (r["customer_segment"], r["churn_risk"]) for r in per_customer} == \
        {k: (seg[k], churn[k]) for k in cm.customer_id}, hint
    assert {r["product_id"]: r["performance_tier"] for r in per_product} == dict(zip(pm.product_id, pm.performance_tier)), hint
    column = {"segment": seg, "churn_risk": churn, "performance_tier": pm.set_index("product_id").performance_tier}
    for r in summary:
        claimed = set(filter(None, r["ids"].split(", ")))
        if r["kind"] == "no completed order":
            assert claimed == set(cm[cm.frequency == 0].customer_id), hint
        else:
            assert claimed == set(column[r["kind"]][column[r["kind"]] == r["value"]].index), (r, hint)
    assert render_expectations(cm, pm) in text, hint


def test_seeds_content_and_lifecycle():
    c = _load(SEEDS, "customers")
    first = c.drop_duplicates("customer_id")
    verbatim = [
        ("1", "john.doe@email.com", "John", "Doe", "US", "2023-01-15"),
        ("2", "jane.smith@email.com", "Jane", "Smith", "UK", "2023-02-20"),
        ("3", "bob.jones@email.com", "Bob", "Jones", "US", "2023-03-10"),
        ("4", "alice.wilson@email.com", "Alice", "Wilson", "CA", "2023-01-25"),
        ("5", "charlie.brown@email.com", "Charlie", "Brown", "US", "2023-04-05"),
    ]
    cols = ["customer_id", "email", "first_name", "last_name", "country", "created_at"]
    got = first[first.customer_id.isin(["1", "2", "3", "4", "5"])]
    assert sorted(map(tuple, got[cols].values.tolist())) == verbatim
    assert (got.created_at == got._landing).all()
    assert 40 <= c.customer_id.nunique() <= 80
    p = _load(SEEDS, "products")
    assert 20 <= p.product_id.nunique() <= 30 and 4 <= p.category.nunique() <= 6
    assert p.product_id.str.contains("[A-Za-z]").any() and p.department.nunique() >= 2
    o = _load(SEEDS, "orders")
    _check_lifecycle(o)
    final = _current(o, "order_id")
    assert 150 <= len(final) <= 500
    assert {"completed", "cancelled", "returned"} <= set(final.status)
    assert ((o.groupby("order_id").status.agg(list)).map(lambda s: s[:2] == ["pending", "completed"])).any()
    # co-purchase: at least three product pairs together in >= 5 completed orders
    items = _load(SEEDS, "order_items").merge(final[final.status == "completed"][["order_id"]], on="order_id")
    pairs = Counter(pair for _, g in items.groupby("order_id") for pair in combinations(sorted(set(g.product_id)), 2))
    assert sum(n >= 5 for n in pairs.values()) >= 3
    assert not _scan_defects(SEEDS)["duplicate_key"] and sum(_scan_defects(SEEDS).values()) == 0


def test_seeds_script_reproduces_committed_files(tmp_path):
    from lakehouse_assets.datagen.seeds import build_seeds

    build_seeds(tmp_path)
    (tmp_path / "README.md").write_bytes((SEEDS / "README.md").read_bytes())
    assert _digest(tmp_path) == _digest(SEEDS)


def _write_readme() -> None:
    readme = SEEDS / "README.md"
    text = readme.read_text(encoding="utf-8")
    block = render_expectations(*expected_metrics(SEEDS))
    readme.write_text(text[:text.index(BEGIN)] + block + text[text.index(END) + len(END):], encoding="utf-8")


if __name__ == "__main__":
    if "--write-readme" in sys.argv:
        _write_readme()
    else:
        print(render_expectations(*expected_metrics(SEEDS)))
