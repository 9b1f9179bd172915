"""Silver: the bronze rows of one entity -> (current version per key, quarantined rows).

The original design's cleaning, with its bugs fixed, applied by ONE generic function
(`build_silver`) driven by a small `EntitySpec` per entity (key, required columns, money
columns, extra rules, silver select list). Contracts: docs/contracts.md (bronze and silver).

Every bronze row ends in exactly one of three places (conservation):

* quarantine  - at least one validation reason applies (all of them are listed);
* silver      - valid, and the current version of its key (latest `_landing_date`, then the
  last row in file order: `_source_file`, then `_line_number`);
* superseded  - valid, but its key has a newer valid version (`superseded_rows`).

so ``bronze rows == silver rows + quarantine rows + superseded rows``.

Validation reasons:

* ``missing:<col>`` - a required column is null or blank (empty identifiers count as missing);
* ``unparseable:<col>`` - a required column's raw text is in `_rescued_data` (did not parse);
* ``negative:<col>`` - a money value below 0;
* ``out_of_range:<col>`` - a money value (or line_total) that does not fit silver's
  decimal(10,2) (Spark 4 runs ANSI mode, where a plain cast would fail the whole job);
* ``out_of_range:<col>`` for a timestamp - the text is a valid timestamp outside what every
  Delta reader can hold (bronze types 1900-01-01 to 2199-12-31 only);
* ``invalid_email`` (customers: email without '@'), ``non_positive_quantity`` (order items);
* plausibility, with limits set per deployment (``Plausibility``): ``future:order_date`` /
  ``future:created_at`` (later than the landing date plus ``max_future_days``),
  ``too_early:order_date`` (before ``earliest_order_date``), ``above_max:<col>`` (a quantity
  above ``max_quantity``, a price above ``max_unit_price``);
* ``order_rejected`` plus the order's own reasons as ``order:<reason>`` (order items) - the
  item's order has no valid version, only quarantined ones (a guest order without customer,
  an order dated in the future). An item whose order is merely unknown yet (late arriving)
  is not rejected; referential integrity counts it. When a valid version of the order lands
  later, its items are re-classified and return to silver (``revisited_landing_dates``);
* ``duplicate_key_in_landing_date`` - the key occurs again later in file order on the same
  landing date; only the last occurrence of the day is a candidate version (contract).

All expressions are Spark SQL over the bronze row; every cast of a possibly-bad value is a
`try_cast` and every division a `try_divide`, so bad values never raise.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F
from pyspark.sql.types import DecimalType, StringType

from lakehouse_assets.landing import DATASETS

# Silver's money type: every amount in the stg_ tables (the contracts check it).
MONEY = DecimalType(10, 2)
MONEY_TYPE = MONEY.simpleString()  # decimal(10,2), in SQL

DUPLICATE_KEY_IN_LANDING_DATE = "duplicate_key_in_landing_date"


@dataclass(frozen=True)
class Plausibility:
    """Bounds of the plausibility rules; a deployment sets them (resources.QualitySettings)."""

    earliest_order_date: dt.date = dt.date(2000, 1, 1)
    # A date may lie this many days after its landing date: time zones, not the future.
    max_future_days: int = 1
    # Real retail data has bulk orders in the thousands; 80,995 of one item is a typo.
    max_quantity: int = 10_000
    max_unit_price: Decimal = Decimal("100000")

    def sql(self) -> dict[str, str]:
        """The bounds as SQL literals, for the rules' condition templates."""
        return {
            "earliest_order_date": f"DATE'{self.earliest_order_date.isoformat()}'",
            "max_future_days": str(int(self.max_future_days)),
            "max_quantity": str(int(self.max_quantity)),
            "max_unit_price": f"{Decimal(self.max_unit_price)}BD",
        }


PLAUSIBILITY = Plausibility()


def money(sql: str) -> str:
    """SQL for `sql` as silver's money type; null (not an ANSI error) when it does not fit."""
    return f"try_cast({sql} AS {MONEY_TYPE})"


@dataclass(frozen=True)
class EntitySpec:
    """Everything that differs between the silver tables of two entities."""

    entity: str  # a landing dataset (lakehouse_assets.landing.DATASETS): its key and columns
    # Bronze money columns: must be >= 0 and fit decimal(10,2) when present.
    money: tuple[str, ...]
    # (reason, SQL condition over the bronze row that is TRUE when the row violates the rule);
    # {names} in a condition are Plausibility bounds.
    rules: tuple[tuple[str, str], ...]
    # SQL select list over the bronze row giving the silver columns in contract order
    # (`_landing_date` is appended by `build_silver`).
    silver_columns: tuple[str, ...]
    # The entity whose rejection rejects this one's rows (by the parent's key column).
    parent: str | None = None

    @property
    def key(self) -> str:
        return DATASETS[self.entity].key

    @property
    def required(self) -> tuple[str, ...]:
        """Bronze columns that must be present and parseable (the landing contract's
        required columns)."""
        return DATASETS[self.entity].required

    @property
    def rejected_parent_reason(self) -> str:
        return f"{(self.parent or '').removesuffix('s')}_rejected"


# --- customers -------------------------------------------------------------------------------
# The original design filters invalid emails away silently; here they go to quarantine as `invalid_email`.
CUSTOMERS = EntitySpec(
    entity="customers",
    money=(),
    rules=(
        ("invalid_email", "trim(email) <> '' AND NOT contains(email, '@')"),
        ("future:created_at", "to_date(created_at) > date_add(_landing_date, {max_future_days})"),
    ),
    silver_columns=(
        "customer_id",
        "lower(trim(email)) AS email",
        "initcap(trim(first_name)) AS first_name",
        "initcap(trim(last_name)) AS last_name",
        "upper(trim(country)) AS country",
        "to_date(created_at) AS customer_created_at",
        "phone",
        "city",
        "age",
        "contains(email, '@') AS is_valid_email",
    ),
)

# --- products --------------------------------------------------------------------------------
_COST_PRICE = money("cost_price")
_LIST_PRICE = money("list_price")
PRODUCTS = EntitySpec(
    entity="products",
    money=("cost_price", "list_price"),
    rules=(
        ("above_max:cost_price", "cost_price > {max_unit_price}"),
        ("above_max:list_price", "list_price > {max_unit_price}"),
    ),
    silver_columns=(
        "product_id",
        "trim(product_name) AS product_name",
        "initcap(trim(category)) AS category",
        "department",
        "supplier_id",
        "stock_level",
        "reorder_point",
        f"{_COST_PRICE} AS cost_price",
        f"{_LIST_PRICE} AS list_price",
        # Margins from the silver (rounded) prices, so profit_margin == list_price - cost_price
        # holds exactly in silver.
        f"{money(f'{_LIST_PRICE} - {_COST_PRICE}')} AS profit_margin",
        # The original design divides unguarded (an ANSI error when list_price is 0): null instead; also
        # null when the percentage does not fit decimal(5,2) (cost far above list price).
        f"try_cast(try_divide({_LIST_PRICE} - {_COST_PRICE}, {_LIST_PRICE}) * 100 AS decimal(5,2))"
        " AS profit_margin_pct",
    ),
)

# --- orders ----------------------------------------------------------------------------------
_ORDER_STATUS = "lower(trim(status))"
ORDERS = EntitySpec(
    entity="orders",
    money=("shipping_cost", "tax_amount", "discount_amount"),
    rules=(
        ("future:order_date", "to_date(order_date) > date_add(_landing_date, {max_future_days})"),
        ("too_early:order_date", "to_date(order_date) < {earliest_order_date}"),
    ),
    silver_columns=(
        "order_id",
        "customer_id",
        "to_date(order_date) AS order_date",
        f"{_ORDER_STATUS} AS order_status",
        f"{money('shipping_cost')} AS shipping_cost",
        "year(order_date) AS order_year",
        "month(order_date) AS order_month",
        "quarter(order_date) AS order_quarter",
        "date_format(order_date, 'EEEE') AS order_day_of_week",
        # The original design compares the RAW status (' Completed ' -> false): a bug; use the normalised one.
        f"{_ORDER_STATUS} = 'completed' AS is_completed",
        "payment_method",
        "payment_status",
        "currency",
        f"{money('tax_amount')} AS tax_amount",
        f"{money('discount_amount')} AS discount_amount",
    ),
)

# --- order items -----------------------------------------------------------------------------
# line_total from the silver unit_price, so line_total == quantity * unit_price holds in silver.
_UNIT_PRICE = money("unit_price")
_LINE_TOTAL = money(f"quantity * {_UNIT_PRICE}")
ORDER_ITEMS = EntitySpec(
    entity="order_items",
    money=("unit_price",),
    rules=(
        # The original design filters these away silently; here they are quarantined.
        ("non_positive_quantity", "quantity <= 0"),
        ("above_max:quantity", "quantity > {max_quantity}"),
        ("above_max:unit_price", "unit_price > {max_unit_price}"),
        (
            "out_of_range:line_total",
            f"quantity IS NOT NULL AND {_UNIT_PRICE} IS NOT NULL AND {_LINE_TOTAL} IS NULL",
        ),
    ),
    silver_columns=(
        "order_item_id",
        "order_id",
        "product_id",
        "quantity",
        f"{_UNIT_PRICE} AS unit_price",
        f"{_LINE_TOTAL} AS line_total",
    ),
    parent="orders",
)

ENTITY_SPECS: dict[str, EntitySpec] = {
    spec.entity: spec for spec in (CUSTOMERS, PRODUCTS, ORDERS, ORDER_ITEMS)
}
ENTITY_KEYS: dict[str, str] = {entity: spec.key for entity, spec in ENTITY_SPECS.items()}


def _timestamp_columns(spec: EntitySpec) -> list[str]:
    return [c for c, t in DATASETS[spec.entity].types.items() if t == "timestamp"]


def _rescued_text(col: str) -> str:
    return f"get_json_object(_rescued_data, '$.{col}')"


def _validation_checks(
    bronze: DataFrame, spec: EntitySpec, limits: Plausibility
) -> list[tuple[str, str]]:
    """(reason, SQL condition TRUE when it applies) for every row-level rule, in report order.

    Conditions see timestamps as written: a valid timestamp bronze could not store (year 9999)
    is its parsed value here, so the plausibility rules judge it too.
    """
    text_columns = {f.name for f in bronze.schema.fields if isinstance(f.dataType, StringType)}
    timestamps = _timestamp_columns(spec)

    def rescued(col: str) -> str:
        return f"array_contains(_rescued_columns, '{col}')"

    checks: list[tuple[str, str]] = []
    for col in spec.required:
        blank = f" OR trim({col}) = ''" if col in text_columns else ""
        unparseable = rescued(col) + (f" AND {col} IS NULL" if col in timestamps else "")
        checks.append((f"unparseable:{col}", unparseable))
        checks.append((f"missing:{col}", f"({col} IS NULL{blank}) AND NOT {rescued(col)}"))
    for col in timestamps:
        checks.append((f"out_of_range:{col}", f"{rescued(col)} AND {col} IS NOT NULL"))
    bounds = limits.sql()
    checks.extend((reason, condition.format(**bounds)) for reason, condition in spec.rules)
    for col in spec.money:
        checks.append((f"negative:{col}", f"{col} < 0"))
        checks.append((f"out_of_range:{col}", f"{col} IS NOT NULL AND {money(col)} IS NULL"))
    return checks


def _key_is_missing(spec: EntitySpec) -> Column:
    return F.col(spec.key).isNull() | (F.trim(F.col(spec.key)) == "")


def rejected_parents(stg_parent: DataFrame, quarantine_parent: DataFrame, key: str) -> DataFrame:
    """(key, reasons) of every parent (order) that silver holds no valid version of, only
    quarantined ones: its children (items) are rejected with it."""
    return (
        quarantine_parent.where(F.col(key).isNotNull())
        .join(stg_parent.select(key), key, "left_anti")
        .groupBy(key)
        .agg(F.array_sort(F.array_distinct(F.flatten(F.collect_list("reasons")))).alias("reasons"))
    )


def landing_dates_to_revisit(
    bronze_children: DataFrame, touched_parents: DataFrame, key: str, start: dt.date, end: dt.date
) -> list[dt.date]:
    """Landing dates outside [start, end) holding children of parents a run touched: a newly
    valid or newly rejected order changes how its items, wherever they landed, are classified."""
    rows = (
        bronze_children.where(
            (F.col("_landing_date") < F.lit(start)) | (F.col("_landing_date") >= F.lit(end))
        )
        .join(touched_parents.select(key).distinct(), key, "left_semi")
        .select("_landing_date")
        .distinct()
        .collect()
    )
    return sorted(r[0] for r in rows)


def landing_dates_of_vanished_keys(
    stg: DataFrame, silver: DataFrame, bronze: DataFrame, key: str, replaced: Column
) -> list[dt.date]:
    """Other landing dates holding versions of keys that lose their current version: keys
    whose silver row lies in a replaced landing date (``replaced``) and that the new output
    no longer carries (a corrected file dropped the row, or its new version is invalid). Their
    latest valid version elsewhere becomes current again, so those dates are re-classified."""
    gone = stg.where(replaced).select(key).join(silver.select(key), key, "left_anti")
    rows = (
        bronze.where(~replaced)
        .join(gone, key, "left_semi")
        .select("_landing_date")
        .distinct()
        .collect()
    )
    return sorted(r[0] for r in rows)


def classify_bronze(
    bronze: DataFrame,
    spec: EntitySpec,
    limits: Plausibility = PLAUSIBILITY,
    rejected_parents: DataFrame | None = None,
) -> DataFrame:
    """The bronze rows plus `_reasons` (array<string>, empty when valid) and `_is_current`.

    ``rejected_parents`` (for an entity with a ``parent``: ``rejected_parents``' result)
    rejects the rows whose parent it lists, with the parent's reasons.
    """
    # Column names (lower-cased) whose raw text bronze rescued because it did not parse.
    rescued_columns = F.coalesce(
        F.expr(
            "map_keys(transform_keys(from_json(_rescued_data, 'map<string,string>'),"
            " (k, v) -> lower(k)))"
        ),
        F.expr("CAST(array() AS array<string>)"),
    )
    with_rescued = bronze.withColumn("_rescued_columns", rescued_columns)
    for col in _timestamp_columns(spec):
        with_rescued = with_rescued.withColumn(
            col, F.coalesce(F.col(col), F.expr(f"try_to_timestamp(trim({_rescued_text(col)}))"))
        )
    row_reasons = [
        F.when(F.coalesce(F.expr(condition), F.lit(False)), F.lit(reason))
        for reason, condition in _validation_checks(bronze, spec, limits)
    ]
    parent_reasons = F.lit(None).cast("array<string>")
    if rejected_parents is not None:
        parent_key = ENTITY_SPECS[spec.parent].key
        prefix = spec.parent.removesuffix("s") + ":"
        with_rescued = with_rescued.join(
            rejected_parents.select(parent_key, F.col("reasons").alias("_parent_reasons")),
            parent_key,
            "left",
        )
        parent_reasons = F.when(
            F.col("_parent_reasons").isNotNull(),
            F.concat(
                F.array(F.lit(spec.rejected_parent_reason)),
                F.transform("_parent_reasons", lambda r: F.concat(F.lit(prefix), r)),
            ),
        )
    # Contract: within one landing date the last row in file order wins; earlier ones are
    # quarantined (a duplicate key can only be judged when the key is present).
    last_in_file_order_first = [F.col("_source_file").desc(), F.col("_line_number").desc()]
    position_in_landing_date = F.row_number().over(
        Window.partitionBy(spec.key, "_landing_date").orderBy(*last_in_file_order_first)
    )
    duplicate_reason = F.when(
        ~_key_is_missing(spec) & (position_in_landing_date > 1),
        F.lit(DUPLICATE_KEY_IN_LANDING_DATE),
    )
    with_reasons = with_rescued.withColumn(
        "_reasons",
        F.concat(
            F.array_compact(F.array(*row_reasons, duplicate_reason)),
            F.coalesce(parent_reasons, F.array().cast("array<string>")),
        ),
    ).withColumn("_is_valid", F.size("_reasons") == 0)

    # Current version: among valid rows of a key, the latest landing date, then last in file order.
    newest_first = Window.partitionBy(spec.key, "_is_valid").orderBy(
        F.col("_landing_date").desc(), *last_in_file_order_first
    )
    return with_reasons.withColumn(
        "_is_current", F.col("_is_valid") & (F.row_number().over(newest_first) == 1)
    ).drop("_rescued_columns", "_parent_reasons")


def build_silver(
    bronze: DataFrame,
    spec: EntitySpec,
    limits: Plausibility = PLAUSIBILITY,
    rejected_parents: DataFrame | None = None,
) -> tuple[DataFrame, DataFrame]:
    """(silver, quarantine) for one entity; see the module docstring for the rules."""
    classified = classify_bronze(bronze, spec, limits, rejected_parents)
    silver = classified.filter("_is_current").selectExpr(*spec.silver_columns, "_landing_date")
    business_columns = [c for c in bronze.columns if not c.startswith("_")]
    quarantine = classified.filter(~F.col("_is_valid")).select(
        F.col(spec.key),
        "_landing_date",
        "_source_file",
        "_line_number",
        # array_compact gives array<string NOT NULL>, but Delta stores a new table's arrays
        # with nullable elements; without the cast the next MERGE into the table sees a type
        # change (array<string> -> array<string>) and the IO manager refuses it.
        F.col("_reasons").cast("array<string>").alias("reasons"),
        # Nulls kept in the JSON, so the record shows which required values were missing.
        F.to_json(F.struct(*business_columns), {"ignoreNullFields": "false"}).alias("record"),
    )
    return silver, quarantine


def superseded_rows(
    bronze: DataFrame,
    entity: str,
    limits: Plausibility = PLAUSIBILITY,
    rejected_parents: DataFrame | None = None,
) -> DataFrame:
    """Valid bronze rows whose key has a newer valid version (neither silver nor quarantine)."""
    classified = classify_bronze(bronze, ENTITY_SPECS[entity], limits, rejected_parents)
    return classified.filter(F.col("_is_valid") & ~F.col("_is_current")).select(*bronze.columns)


def silver_customers(bronze: DataFrame) -> tuple[DataFrame, DataFrame]:
    """bronze.customers -> (silver.stg_customers, silver.quarantine_customers)."""
    return build_silver(bronze, CUSTOMERS)


def silver_products(bronze: DataFrame) -> tuple[DataFrame, DataFrame]:
    """bronze.products -> (silver.stg_products, silver.quarantine_products)."""
    return build_silver(bronze, PRODUCTS)


def silver_orders(bronze: DataFrame) -> tuple[DataFrame, DataFrame]:
    """bronze.orders -> (silver.stg_orders, silver.quarantine_orders)."""
    return build_silver(bronze, ORDERS)


def silver_order_items(bronze: DataFrame) -> tuple[DataFrame, DataFrame]:
    """bronze.order_items -> (silver.stg_order_items, silver.quarantine_order_items)."""
    return build_silver(bronze, ORDER_ITEMS)
