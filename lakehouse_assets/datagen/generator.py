"""Vectorised synthetic e-commerce landing zone (see docs/contracts.md).

Everything is driven by NumPy generators spawned from one SeedSequence, and all rows are ordered
by explicit sort keys, so the same arguments always give byte-identical files. There are no
Python loops over customers, orders or items; the only per-entity Python code builds product
names/ids (at most 50k products).

Profiles
--------
``profile="clean"`` (the default) writes tidy data: every order has a customer, every line sells a
real product at a positive price and a small quantity, and each folder holds one file per day.

``profile="retail"`` adds what real retail order exports look like (the public "Online Retail" data
of a UK gift shop is the model), so the pipeline is tested against the data it will really meet:

1. Guest orders: 25 % of orders have an empty customer_id, because shoppers may check out without
   an account. Their items are ordinary.
2. Cancellations: about 2 % extra lines (counted against the regular items) with a new
   order_item_id, the order_id and product of a line of an order that ends completed, and a
   negative quantity (usually the whole quantity, sometimes part of it). Shops book a cancellation
   as a new negative line instead of editing the old one. It lands the same day or up to two weeks
   later and does not change the order's money, which was fixed when the order was placed.
3. Non-product lines: about 1 % extra lines, at most one per order, whose product codes are not
   goods: POST (postage, most of them), DOT (dotcom postage), M (manual adjustment), BANK CHARGES
   and AMAZONFEE. They appear in the products data too (first landing day, category "Non-Product",
   department "Fees & Postage", cost 0.00, list price the usual fee or 0.00 when it varies), so they
   are not orphans. An order with a postage line has shipping_cost 0.00, as the postage is billed on
   the line.
4. Free samples: 0.5 % of the regular lines have unit_price 0.00.
5. Extreme quantities: a few lines (at least 3, 1 in 20,000 lines) with quantities from 10,001 to
   99,999, typing errors that silver's default plausibility bound (quantity <= 10,000) must
   quarantine; and a few more (at least 3, 0.1 % of lines) with large but plausible wholesale
   quantities of 1,000 to 5,000.
6. Renamed products: 5 % of the products are re-sent on a later day with a changed product_name
   and every other column unchanged (products whose price changes are never renamed, so two
   versions of one product never meet on the same day).
7. Closed days: 5 % of the days (at least 2 when days >= 20; never the first or last day, never two
   in a row) have no orders at all, like a shop closed over Christmas. Orders that would fall on
   such a day are placed the next day and status updates move by one day (keeping 1 to 10 days
   between updates); the orders and order_items folders of the day hold one header-only file,
   because the export still runs and delivers a file without rows.
8. Several files per folder: on 30 % of the days each folder's rows are split into 2 or 3 files
   (``<dataset>_<date>.csv``, ``..._part2.csv``, ``..._part3.csv``), and 10 % of the folders also get
   a header-only ``00_empty_extract.csv`` whose name sorts before the data files; empty files amid
   data files are a known trap for readers. The files are consecutive slices of the day's rows in
   name order, so "last row in file order wins" still picks the intended version of a key.
9. Impossible dates: exactly one order dated ``9999-12-31 00:00:00`` and one dated
   ``1970-01-01 00:00:00`` (placeholder dates of real systems), both with ordinary lines and a
   customer, so tests can check they are quarantined and do not move the analysis date.

Everything else the clean profile guarantees still holds (orders after sign-up, status lifecycle,
landing dates). ``order_items`` counts the regular lines; retail writes its cancellation and
non-product lines on top. The realities use their own random generator, so the clean profile's
output is byte for byte what it was, and the same arguments give the same retail files. The
summary's "realities" gives the exact count of each kind written (``empty_order_days`` is the list
of ISO dates); ``defect_rate`` damages rows and files on top of the realities and is counted
separately under "defects" (a nonpositive_quantity defect, for example, is not a cancellation).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from . import schema
from .csvio import day_slices, header_bytes, id_strings, iso_timestamps, money
from .defects import DefectInjector
from .retail import IMPOSSIBLE_ORDER_DATES, LEADING_EMPTY_FILE, NON_PRODUCTS, Folder, Lines, RetailProfile
from .writer import LandingZoneWriter

DAY = 86_400
MEAN_EXTRA_ITEMS = 1.4  # items per order = 1 + Poisson(1.4)
ORDERS_PER_BUYER = 3.0
NEVER_ORDER_SHARE = 0.15
CHURNER_SHARE = 0.45
CHURN_MEAN_DAYS = 90.0
REORDER_SHARE = 0.25  # share of a returning customer's items that repeat an earlier product
COMPANION_SHARE = 0.2  # share of items that are the "bought together" companion of the previous item
FIRST_CUSTOMER_ID, FIRST_ORDER_ID, FIRST_ITEM_ID, FIRST_PRODUCT_ID = 1, 100_001, 1_000_001, 10_001

# Order outcome after the first landing: completed, cancelled, returned (completed first), no update yet.
OUTCOME_P = (0.85, 0.06, 0.05, 0.04)
PROFILES = ("clean", "retail")


@dataclass
class Dataset:
    """Rows of one landing dataset, sorted by landing day (offset from start)."""

    table: pa.Table
    landing_day: np.ndarray


def _as_date(value) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def _daily_intensity(start: dt.date, days: int) -> np.ndarray:
    """Relative order volume per calendar day: weekly cycle, mild summer lift, November/December peak."""
    dates = np.datetime64(start) + np.arange(days)
    weekday = (dates.astype("int64") + 3) % 7  # 1970-01-01 was a Thursday -> Monday = 0
    weekly = np.array([1.0, 0.95, 0.95, 1.0, 1.1, 1.25, 1.2])[weekday]
    doy = (dates - dates.astype("datetime64[Y]")).astype("int64")
    seasonal = 1.0 + 0.1 * np.sin(2 * np.pi * (doy - 100) / 365.25)
    holidays = 1.0 + 0.9 * np.exp(-(((doy - 330) / 10.0) ** 2)) + 0.5 * np.exp(-(((doy - 352) / 6.0) ** 2))
    return weekly * seasonal * holidays


def _items_per_order(rng: np.random.Generator, n_items: int) -> np.ndarray:
    """Items per order summing to exactly n_items (the last order is trimmed)."""
    k = 1 + rng.poisson(MEAN_EXTRA_ITEMS, size=int(n_items / (1 + MEAN_EXTRA_ITEMS) * 1.1) + 10)
    while k.sum() < n_items:  # practically never: the draw above has 10% headroom
        k = np.concatenate([k, 1 + rng.poisson(MEAN_EXTRA_ITEMS, size=len(k) // 10 + 10)])
    cum = np.cumsum(k)
    n_orders = int(np.searchsorted(cum, n_items)) + 1
    k = k[:n_orders].copy()
    k[-1] -= cum[n_orders - 1] - n_items
    return k


def _customers(rng, n_customers: int, days: int, epoch0: int):
    n = n_customers
    # A launch cohort in the first two weeks, then sign-ups with linearly growing density.
    early = rng.random(n) < 0.2
    signup_day = np.where(early, rng.random(n) * min(14, days), days * np.sqrt(rng.random(n)))
    signup_t = np.sort(np.minimum(signup_day * DAY, days * DAY - 1).astype(np.int64))  # ids follow sign-up order
    names = list(schema.COUNTRIES)
    share = np.array([schema.COUNTRIES[c][0] for c in names])
    country = rng.choice(len(names), n, p=share / share.sum())
    n_cities = np.array([len(schema.COUNTRIES[c][3]) for c in names])
    city_offset = np.concatenate([[0], np.cumsum(n_cities)[:-1]])
    city = city_offset[country] + (rng.random(n) * n_cities[country]).astype(np.int64)
    first = rng.integers(0, len(schema.FIRST_NAMES), n)
    last = rng.integers(0, len(schema.LAST_NAMES), n)
    domain = rng.integers(0, len(schema.EMAIL_DOMAINS), n)
    ids = FIRST_CUSTOMER_ID + np.arange(n)
    phone_digits = rng.integers(0, 10_000_000, n)
    age = np.clip(np.round(18 + rng.gamma(4.0, 6.0, n)), 18, 90).astype(np.int64)
    has_phone = rng.random(n) < 0.85
    has_age = rng.random(n) < 0.8
    # Some customers are re-sent later with a new email (and possibly city).
    update_day = np.full(n, -1)
    can_update = signup_t // DAY < days - 1
    upd = can_update & (rng.random(n) < 0.06)
    lo = signup_t[upd] // DAY + 1
    update_day[upd] = lo + (rng.random(upd.sum()) * (days - lo)).astype(np.int64)
    new_domain = (domain + 1 + rng.integers(0, len(schema.EMAIL_DOMAINS) - 1, n)) % len(schema.EMAIL_DOMAINS)
    new_city = np.where(rng.random(n) < 0.3, city_offset[country] + (rng.random(n) * n_cities[country]).astype(np.int64), city)

    first_a = pa.array(schema.FIRST_NAMES).take(first)
    last_a = pa.array(schema.LAST_NAMES).take(last)
    local = pc.utf8_lower(pc.binary_join_element_wise(first_a, pc.replace_substring(last_a, " ", ""), "."))
    local = pc.replace_substring(local, "'", "")
    id_s = id_strings(ids)
    all_cities = pa.array([c for k in names for c in schema.COUNTRIES[k][3]])
    prefixes = pa.array([schema.COUNTRIES[c][2] for c in names]).take(country)
    phone = pc.binary_join_element_wise(prefixes, pc.utf8_lpad(id_strings(phone_digits), 7, "0"), "-")

    def rows(sel, dom, city_idx):
        sel_idx = np.flatnonzero(sel)
        email = pc.binary_join_element_wise(
            pc.binary_join_element_wise(local.take(sel_idx), id_s.take(sel_idx), ""),
            pa.array(schema.EMAIL_DOMAINS).take(dom[sel_idx]),
            "@",
        )
        return pa.table({
            "customer_id": id_s.take(sel_idx),
            "email": email,
            "first_name": first_a.take(sel_idx),
            "last_name": last_a.take(sel_idx),
            "country": pa.array(names).take(country[sel_idx]),
            "created_at": iso_timestamps(epoch0 + signup_t[sel_idx]),
            "phone": pc.if_else(pa.array(has_phone[sel_idx]), phone.take(sel_idx), pa.scalar(None, pa.string())),
            "city": all_cities.take(city_idx[sel_idx]),
            "age": pa.array(age[sel_idx], mask=~has_age[sel_idx]),
        })

    everyone = np.ones(n, dtype=bool)
    table = pa.concat_tables([rows(everyone, domain, city), rows(upd, new_domain, new_city)])
    landing = np.concatenate([signup_t // DAY, update_day[upd]])
    order = np.argsort(landing, kind="stable")
    tax_rate = np.array([schema.COUNTRIES[c][1] for c in names])[country]
    return Dataset(table.take(order), landing[order]), signup_t, tax_rate


def _catalogue(rng, n_products: int):
    """Product attributes that do not depend on sales."""
    cats = [(dep, cat, med, nouns) for dep, cs in schema.TAXONOMY.items() for cat, (med, nouns) in cs.items()]
    cat = rng.integers(0, len(cats), n_products)
    median = np.array([c[2] for c in cats])[cat]
    list_cents = np.clip(np.round(median * rng.lognormal(0.0, 0.6, n_products) * 100), 99, 500_000).astype(np.int64)
    list_cents = list_cents - list_cents % 100 + 99  # x.99 price points
    cost_cents = np.round(list_cents * rng.uniform(0.35, 0.75, n_products)).astype(np.int64)
    adjective = rng.integers(0, len(schema.ADJECTIVES), n_products)
    noun_pick = rng.random(n_products)
    # Mostly numeric ids; about 5% carry a letter suffix like the classic '85123A'.
    numeric = FIRST_PRODUCT_ID + np.arange(n_products)
    suffix = np.where(rng.random(n_products) < 0.05, rng.integers(0, 6, n_products), -1)
    ids = [f"{num}{'ABCDEF'[s]}" if s >= 0 else str(num) for num, s in zip(numeric.tolist(), suffix.tolist())]
    names = []
    for c, a, u in zip(cat.tolist(), adjective.tolist(), noun_pick.tolist()):
        nouns = cats[c][3]
        names.append(f"{schema.ADJECTIVES[a]} {nouns[int(u * len(nouns))]}")
    # Zipf-like popularity over a random ranking of products.
    popularity = 1.0 / (np.arange(1, n_products + 1) + 5.0) ** 1.05  # Zipf-Mandelbrot: heavy tail, softer head
    popularity = popularity[rng.permutation(n_products)]
    # A "bought together" companion in the same category (or any product if the category is alone).
    companion = np.empty(n_products, dtype=np.int64)
    for c in range(len(cats)):  # per category, not per row
        members = np.flatnonzero(cat == c)
        if len(members):
            companion[members] = members[rng.permutation(len(members))] if len(members) > 1 else members
    return {
        "id": pa.array(ids, pa.string()),
        "max_numeric_id": int(numeric[-1]),
        "name": pa.array(names),
        "category": pa.array([c[1] for c in cats]).take(cat),
        "department": pa.array([c[0] for c in cats]).take(cat),
        "list_cents": list_cents,
        "cost_cents": cost_cents,
        "popularity": popularity / popularity.sum(),
        "companion": companion,
        "supplier": pc.binary_join_element_wise(
            "SUP", pc.utf8_lpad(id_strings(rng.integers(1, max(2, n_products // 20) + 1, n_products)), 3, "0"), ""
        ),
        "stock": rng.poisson(120, n_products),
        "reorder_point": rng.integers(10, 60, n_products),
    }


def _resolve_pointers(ptr: np.ndarray) -> np.ndarray:
    """Follow ptr[i] -> ptr[ptr[i]] ... to the root (pointer jumping; pointers always go backwards)."""
    while True:
        nxt = ptr[ptr]
        if np.array_equal(nxt, ptr):
            return ptr
        ptr = nxt


def _simulate(seed: int, n_items: int, start: dt.date, days: int, retail: RetailProfile | None = None):
    rngs = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(6)]
    r_cust, r_prod, r_ord, r_item, r_status, r_price = rngs
    epoch0 = int(np.datetime64(start, "s").astype(np.int64))

    k_items = _items_per_order(r_ord, n_items)
    n_orders = len(k_items)
    n_customers = max(20, int(n_orders / ORDERS_PER_BUYER / (1 - NEVER_ORDER_SHARE)))
    n_products = int(np.clip(n_items // 200, 30, 50_000))

    customers, signup_t, tax_rate = _customers(r_cust, n_customers, days, epoch0)

    # --- orders: each customer has an activity window and a lognormal propensity; orders are spread
    # over the window following the daily intensity (inverse-CDF sampling on the cumulative curve).
    intensity = _daily_intensity(start, days)
    grid_t = np.arange(days + 1, dtype=np.float64) * DAY
    grid_c = np.concatenate([[0.0], np.cumsum(intensity)])
    win_a = signup_t + 60 + r_ord.exponential(5 * DAY, n_customers)
    lifetime = np.where(r_ord.random(n_customers) < CHURNER_SHARE, r_ord.exponential(CHURN_MEAN_DAYS * DAY, n_customers), np.inf)
    win_b = np.minimum(win_a + lifetime, days * DAY - 1)
    win_a = np.minimum(win_a, win_b)
    c_a, c_b = np.interp(win_a, grid_t, grid_c), np.interp(win_b, grid_t, grid_c)
    weight = r_ord.lognormal(0.0, 1.0, n_customers) * (c_b - c_a)
    weight[r_ord.random(n_customers) < NEVER_ORDER_SHARE] = 0.0
    # Every would-be buyer places a first order; the rest go to repeat buyers in proportion to weight.
    buyers = np.flatnonzero(weight > 0)[:n_orders]
    per_customer = np.zeros(n_customers, dtype=np.int64)
    per_customer[buyers] = 1
    per_customer += r_ord.multinomial(n_orders - len(buyers), weight / weight.sum())
    cust = np.repeat(np.arange(n_customers), per_customer)
    u = c_a[cust] + r_ord.random(n_orders) * (c_b[cust] - c_a[cust])
    order_t = np.interp(u, grid_c, grid_t).astype(np.int64)
    order_t = np.maximum(order_t, signup_t[cust] + 60)  # strictly after sign-up
    if retail:
        order_t = retail.move_orders_off_closed_days(order_t)  # later, so still after sign-up
    by_time = np.lexsort((cust, order_t))
    cust, order_t = cust[by_time], order_t[by_time]
    order_day = order_t // DAY
    order_ids = FIRST_ORDER_ID + np.arange(n_orders)

    # --- items: Zipf popularity, "bought together" companions, and reorders of earlier products.
    cat = _catalogue(r_prod, n_products)
    item_order = np.repeat(np.arange(n_orders), k_items)
    product = r_item.choice(n_products, n_items, p=cat["popularity"])
    same_order_as_prev = np.concatenate([[False], item_order[1:] == item_order[:-1]])
    use_companion = same_order_as_prev & (r_item.random(n_items) < COMPANION_SHARE)
    product[1:][use_companion[1:]] = cat["companion"][product[:-1][use_companion[1:]]]
    # Reorders: walk each customer's items in time order; an item may copy the product of a random item
    # from one of that customer's earlier orders.
    item_cust = cust[item_order]
    seq = np.lexsort((np.arange(n_items), item_cust))  # items by customer, then time (items are time-sorted)
    pos = np.arange(n_items)
    seq_cust, seq_order = item_cust[seq], item_order[seq]
    # Position of the first item of the current customer / current order in that sequence.
    cust_start = np.maximum.accumulate(np.where(np.r_[True, seq_cust[1:] != seq_cust[:-1]], pos, 0))
    order_first = np.maximum.accumulate(np.where(np.r_[True, seq_order[1:] != seq_order[:-1]], pos, 0))
    earlier = order_first - cust_start
    reorder = (earlier > 0) & (r_item.random(n_items) < REORDER_SHARE)
    ptr = pos.copy()
    ptr[reorder] = cust_start[reorder] + (r_item.random(int(reorder.sum())) * earlier[reorder]).astype(np.int64)
    seq_product = product[seq][_resolve_pointers(ptr)]
    product[seq] = seq_product
    # One product per order line: shift exact duplicates within an order to the next product id.
    key = item_order * n_products + product
    ordered = np.argsort(key, kind="stable")
    dup = np.zeros(n_items, dtype=bool)
    dup[ordered[1:]] = key[ordered[1:]] == key[ordered[:-1]]
    product[dup] = (product[dup] + 1) % n_products

    # --- product landings: most at launch (day 0), some later but never after their first sale;
    # some get a later price change that is re-sent and applies to later orders.
    first_sale = np.full(n_products, days - 1, dtype=np.int64)
    np.minimum.at(first_sale, product, order_day[item_order])
    launch = np.where(r_price.random(n_products) < 0.75, 0, (r_price.random(n_products) * (first_sale + 1)).astype(np.int64))
    change = (launch < days - 1) & (r_price.random(n_products) < 0.1)
    change_day = np.where(change, launch + 1 + (r_price.random(n_products) * (days - 1 - launch)).astype(np.int64), days)
    new_list = (np.round(cat["list_cents"] * r_price.uniform(0.8, 1.25, n_products) / 100) * 100 - 1).astype(np.int64)
    new_list = np.maximum(new_list, 99)

    item_day = order_day[item_order]
    unit_cents = np.where(item_day >= change_day[product], new_list[product], cat["list_cents"][product])
    promo = r_item.random(n_items) < 0.08
    unit_cents = np.where(promo, np.round(unit_cents * r_item.uniform(0.7, 0.95, n_items)), unit_cents).astype(np.int64)
    quantity = np.minimum(r_item.geometric(0.72, n_items), 12)
    lines = Lines(item_order, product, quantity, unit_cents, item_day)
    if retail:
        lines = retail.adjust_items(lines, order_day, n_products)  # the order's own lines, part of its money

    # --- order money
    subtotal = np.bincount(lines.order, weights=lines.quantity * lines.unit_cents, minlength=n_orders).astype(np.int64)
    shipping = np.where(subtotal >= 7500, 0, r_ord.choice(np.array([499, 699, 999]), n_orders))
    if retail:
        shipping[retail.postage_orders(lines, n_products, n_orders)] = 0
    tax = np.round(subtotal * tax_rate[cust]).astype(np.int64)
    disc = np.where(r_ord.random(n_orders) < 0.12, np.round(subtotal * r_ord.choice(np.array([0.05, 0.1, 0.15, 0.2]), n_orders)), 0).astype(np.int64)
    preferred = r_ord.choice(4, n_customers, p=[0.5, 0.2, 0.2, 0.1])
    method = np.where(r_ord.random(n_orders) < 0.85, preferred[cust], r_ord.integers(0, 4, n_orders))

    orders = _order_events(r_status, order_day, method, days, retail)
    o = orders["order"]
    st_names, pay_names = pa.array(schema.ORDER_STATUSES), pa.array(schema.PAYMENT_STATUSES)
    order_ts = iso_timestamps(epoch0 + order_t)
    customer_ids = id_strings(FIRST_CUSTOMER_ID + cust)
    if retail:
        # Cancellations come after the order was placed: not part of its money, added after it.
        completed = orders["final"] == schema.ORDER_STATUSES.index("completed")
        lines = Lines.concat([lines, retail.cancellations(lines, completed)])
        guest = retail.guests(n_orders)
        customer_ids = pc.if_else(pa.array(guest), pa.scalar(None, pa.string()), customer_ids)  # blank, as in real exports
        impossible = retail.impossible_date_orders(lines, n_items, guest)  # sorted order indexes
        mask = np.zeros(n_orders, dtype=bool)
        mask[impossible] = True
        order_ts = pc.replace_with_mask(order_ts, pa.array(mask), pa.array(IMPOSSIBLE_ORDER_DATES[:len(impossible)], pa.string()))
    orders_table = pa.table({
        "order_id": id_strings(order_ids[o]),
        "customer_id": customer_ids.take(o),
        "order_date": order_ts.take(o),
        "status": st_names.take(orders["status"]),
        "shipping_cost": money(shipping[o]),
        "payment_method": pa.array(schema.PAYMENT_METHODS).take(method[o]),
        "payment_status": pay_names.take(orders["payment"]),
        "currency": pa.array(np.full(len(o), "USD")),
        "tax_amount": money(tax[o]),
        "discount_amount": money(disc[o]),
    })

    item_ids = FIRST_ITEM_ID + np.arange(n_items)
    product_ids = cat["id"]
    if retail:
        # Extra lines get new ids after the regular ones, in landing order; then every line is
        # placed by landing day and order (the regular items already are).
        extra = n_items + np.lexsort((lines.order[n_items:], lines.day[n_items:]))
        lines = Lines.concat([lines.take(np.arange(n_items)), lines.take(extra)])
        item_ids = FIRST_ITEM_ID + np.arange(len(lines))
        by_landing = np.lexsort((item_ids, lines.order, lines.day))
        lines, item_ids = lines.take(by_landing), item_ids[by_landing]
        product_ids = pa.concat_arrays([product_ids, pa.array([p[0] for p in NON_PRODUCTS])])
    items_table = pa.table({
        "order_item_id": id_strings(item_ids),
        "order_id": id_strings(order_ids[lines.order]),
        "product_id": product_ids.take(lines.product),
        "quantity": pa.array(lines.quantity.astype(np.int64)),
        "unit_price": money(lines.unit_cents),
    })

    pidx = np.concatenate([np.arange(n_products), np.flatnonzero(change)])
    p_land = np.concatenate([launch, change_day[change]])
    p_list = np.concatenate([cat["list_cents"], new_list[change]])
    p_cost = np.concatenate([cat["cost_cents"], np.round(cat["cost_cents"][change] * r_price.uniform(0.95, 1.1, int(change.sum()))).astype(np.int64)])
    p_stock = np.concatenate([cat["stock"], r_price.poisson(120, int(change.sum()))])
    p_sort = np.lexsort((pidx, p_land))
    pidx, p_land, p_list, p_cost, p_stock = pidx[p_sort], p_land[p_sort], p_list[p_sort], p_cost[p_sort], p_stock[p_sort]
    products_table = pa.table({
        "product_id": cat["id"].take(pidx),
        "product_name": cat["name"].take(pidx),
        "category": cat["category"].take(pidx),
        "cost_price": money(p_cost),
        "list_price": money(p_list),
        "department": cat["department"].take(pidx),
        "supplier_id": cat["supplier"].take(pidx),
        "stock_level": pa.array(p_stock.astype(np.int64)),
        "reorder_point": pa.array(cat["reorder_point"][pidx].astype(np.int64)),
    })
    if retail:
        products_table, p_land = retail.add_products(products_table, p_land, pidx, launch, change)

    datasets = {
        "customers": customers,
        "products": Dataset(products_table, p_land),
        "orders": Dataset(orders_table, orders["day"]),
        "order_items": Dataset(items_table, lines.day),  # items land with their order's first landing
    }
    ghosts = {"order_id": int(order_ids[-1]) + 1, "product_id": cat["max_numeric_id"] + 1}
    return datasets, ghosts


def _order_events(rng, order_day: np.ndarray, method: np.ndarray, days: int, retail: RetailProfile | None = None) -> dict:
    """Status lifecycle rows: first landing pending/processing, then completed/cancelled, then returned.

    Events that would land after the generated window are dropped (those orders are still open).
    With the retail profile no update lands on a closed day. "final" is each order's last status."""
    n = len(order_day)
    PENDING, PROCESSING, COMPLETED, CANCELLED, RETURNED = range(5)
    PAID, REFUNDED, PAY_PENDING = range(3)
    first_status = np.where(rng.random(n) < 0.65, PENDING, PROCESSING)
    unpaid = (method == 3) | ((first_status == PENDING) & (rng.random(n) < 0.3))  # bank transfers settle later
    first_pay = np.where(unpaid, PAY_PENDING, PAID)
    outcome = rng.choice(4, n, p=OUTCOME_P)  # 0 completed, 1 cancelled, 2 returned, 3 no update yet
    gap1 = rng.integers(1, 11, n)
    d1 = order_day + gap1
    if retail:
        d1 = retail.move_event_off_closed_day(d1, gap1)
    gap2 = rng.integers(1, 11, n)
    d2 = d1 + gap2
    if retail:
        d2 = retail.move_event_off_closed_day(d2, gap2)
    idx = np.arange(n)
    second = outcome != 3
    third = outcome == 2
    order = np.concatenate([idx, idx[second], idx[third]])
    day = np.concatenate([order_day, d1[second], d2[third]])
    status = np.concatenate([
        first_status,
        np.where(outcome[second] == 1, CANCELLED, COMPLETED),
        np.full(int(third.sum()), RETURNED),
    ])
    cancel_pay = np.where(first_pay[second] == PAID, REFUNDED, PAY_PENDING)
    payment = np.concatenate([
        first_pay,
        np.where(outcome[second] == 1, cancel_pay, PAID),
        np.full(int(third.sum()), REFUNDED),
    ])
    keep = day < days
    order, day, status, payment = order[keep], day[keep], status[keep], payment[keep]
    s = np.lexsort((order, day))
    final = np.where(second & (d1 < days), np.where(outcome == 1, CANCELLED, COMPLETED), first_status)
    final = np.where(third & (d2 < days), RETURNED, final)
    return {"order": order[s], "day": day[s], "status": status[s], "payment": payment[s], "final": final}


def generate_landing_zone(out_dir, *, seed: int, order_items: int, start="2024-01-01", days: int = 365,
                          defect_rate: float = 0.0, profile: str = "clean") -> dict:
    """Write a landing zone under out_dir and return a summary (files, rows per dataset, defects per kind;
    for the retail profile also "realities", the exact count of each reality written)."""
    if order_items < 1 or days < 1:
        raise ValueError("order_items and days must be positive")
    if not 0.0 <= defect_rate <= 1.0:
        raise ValueError("defect_rate must be within [0, 1]")
    if profile not in PROFILES:
        raise ValueError(f"profile must be one of {PROFILES}")
    start = _as_date(start)
    # Its own generator: the clean draws, and so the clean bytes, do not depend on the profile.
    retail = RetailProfile(np.random.default_rng([seed, 11]), days) if profile == "retail" else None
    datasets, ghosts = _simulate(seed, order_items, start, days, retail)
    injector = DefectInjector(np.random.default_rng([seed, 7]), defect_rate, ghosts)
    writer = LandingZoneWriter(Path(out_dir), start)
    injector.plan({name: (ds.table, ds.landing_day) for name, ds in datasets.items()})
    layout = retail.plan_files({n: d.landing_day for n, d in datasets.items()}) if retail else {}
    for name in schema.DATASETS:
        ds = datasets[name]
        header = header_bytes(ds.table.column_names)
        for day, a, b in day_slices(ds.landing_day):
            folder = layout.get((name, day), Folder([(a, b)], leading_empty=False))
            if folder.leading_empty:
                writer.write_named(name, day, LEADING_EMPTY_FILE, header, 0)
            for lo, hi in folder.parts:
                injector.write_day(writer, name, day, ds.table.slice(lo, hi - lo), lo)
        if retail and name in ("orders", "order_items"):
            for day in retail.closed_days.tolist():  # the export still delivers, just with no rows
                writer.write(name, day, header, 0)
    injector.write_extra_files(writer, {n: (d.table, d.landing_day) for n, d in datasets.items()})
    summary = {
        "out_dir": str(out_dir),
        "seed": seed,
        "start": start.isoformat(),
        "days": days,
        "defect_rate": defect_rate,
        "profile": profile,
        "files_written": writer.files_written,
        "bytes_written": writer.bytes_written,
        "rows": dict(writer.rows),
        "defects": dict(injector.counts),
    }
    if retail:
        summary["realities"] = retail.realities(start)
    return summary
