"""Silver contracts as pandera.pyspark DataFrameModels, validated in a small number of passes.

The models declare what docs/contracts.md promises for each ``silver.stg_*`` table: Spark
types, nullability, ranges, allowed order statuses and the email pattern.

The contract (``contract``, or ``validate_contract`` on a frame alone) does not let pandera
run its data checks: pandera's pyspark backend runs one Spark job per column check
(``filter(~cond).limit(1).count()``) and reports only pass/fail. Instead:

* the *schema* (columns present, Spark types) is compared with the model's declared
  types without reading data (see ``schema_errors``);
* every data-level declaration of the model (nullability and each Check, read from the
  model's own schema, so the model stays the single declaration) becomes a Spark condition,
  and all of them are counted in ONE aggregation, the one that also counts the table's key
  (``checks.counting``); offending keys are fetched by one more limited query only when
  something failed.

Findings listed in ``WARN_ONLY`` (an unknown order status) are warnings; all others errors.
"""

import pandera.pyspark as pa
import pyspark.sql.types as T
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from lakehouse_assets.checks.counting import Counts, CountedRule, KeyCounts, evaluate_alone
from lakehouse_assets.checks.results import ERROR, WARN, RuleResult
from lakehouse_assets.checks.rules import EMAIL_PATTERN, KNOWN_ORDER_STATUSES, THRESHOLDS, Thresholds
from lakehouse_assets.transforms.silver import MONEY


class StgCustomers(pa.DataFrameModel):
    customer_id: T.StringType() = pa.Field(str_length={"min_value": 1})
    email: T.StringType() = pa.Field(str_matches=EMAIL_PATTERN)
    first_name: T.StringType() = pa.Field()
    last_name: T.StringType() = pa.Field()
    country: T.StringType() = pa.Field()
    customer_created_at: T.DateType() = pa.Field()
    phone: T.StringType() = pa.Field(nullable=True)
    city: T.StringType() = pa.Field(nullable=True)
    age: T.IntegerType() = pa.Field(nullable=True, in_range={"min_value": 0, "max_value": 130})
    is_valid_email: T.BooleanType() = pa.Field()
    # pandera ignores attributes starting with "_": the column name comes from the alias.
    landing_date: T.DateType() = pa.Field(alias="_landing_date")


class StgProducts(pa.DataFrameModel):
    product_id: T.StringType() = pa.Field(str_length={"min_value": 1})
    product_name: T.StringType() = pa.Field()
    category: T.StringType() = pa.Field()
    department: T.StringType() = pa.Field(nullable=True)
    supplier_id: T.StringType() = pa.Field(nullable=True)
    stock_level: T.IntegerType() = pa.Field(nullable=True, ge=0)
    reorder_point: T.IntegerType() = pa.Field(nullable=True, ge=0)
    cost_price: MONEY = pa.Field(ge=0)
    list_price: MONEY = pa.Field(ge=0)
    # Negative when a product sells below cost: allowed, only typed.
    profit_margin: MONEY = pa.Field(nullable=True)
    profit_margin_pct: T.DecimalType(5, 2) = pa.Field(nullable=True)
    # pandera ignores attributes starting with "_": the column name comes from the alias.
    landing_date: T.DateType() = pa.Field(alias="_landing_date")


class StgOrders(pa.DataFrameModel):
    order_id: T.StringType() = pa.Field(str_length={"min_value": 1})
    customer_id: T.StringType() = pa.Field(str_length={"min_value": 1})
    order_date: T.DateType() = pa.Field()
    order_status: T.StringType() = pa.Field(isin=list(KNOWN_ORDER_STATUSES))
    shipping_cost: MONEY = pa.Field(ge=0)
    order_year: T.IntegerType() = pa.Field()
    order_month: T.IntegerType() = pa.Field(in_range={"min_value": 1, "max_value": 12})
    order_quarter: T.IntegerType() = pa.Field(in_range={"min_value": 1, "max_value": 4})
    order_day_of_week: T.StringType() = pa.Field()
    is_completed: T.BooleanType() = pa.Field()
    payment_method: T.StringType() = pa.Field(nullable=True)
    payment_status: T.StringType() = pa.Field(nullable=True)
    currency: T.StringType() = pa.Field(nullable=True)
    tax_amount: MONEY = pa.Field(nullable=True, ge=0)
    discount_amount: MONEY = pa.Field(nullable=True, ge=0)
    # pandera ignores attributes starting with "_": the column name comes from the alias.
    landing_date: T.DateType() = pa.Field(alias="_landing_date")


class StgOrderItems(pa.DataFrameModel):
    order_item_id: T.StringType() = pa.Field(str_length={"min_value": 1})
    order_id: T.StringType() = pa.Field(str_length={"min_value": 1})
    product_id: T.StringType() = pa.Field(str_length={"min_value": 1})
    quantity: T.IntegerType() = pa.Field(ge=1)
    unit_price: MONEY = pa.Field(ge=0)
    line_total: MONEY = pa.Field(ge=0)
    # pandera ignores attributes starting with "_": the column name comes from the alias.
    landing_date: T.DateType() = pa.Field(alias="_landing_date")


CONTRACTS: dict[str, type[pa.DataFrameModel]] = {
    "stg_customers": StgCustomers,
    "stg_products": StgProducts,
    "stg_orders": StgOrders,
    "stg_order_items": StgOrderItems,
}

# (column, check) findings that warn instead of failing the contract.
WARN_ONLY = frozenset({("order_status", "isin")})


def _violation(column: str, check_name: str, stats: dict) -> Column:
    """Spark condition TRUE when a non-null value violates pandera's built-in check."""
    c = F.col(f"`{column}`")
    if check_name == "greater_than_or_equal_to":
        return c < F.lit(stats["min_value"])
    if check_name == "greater_than":
        return c <= F.lit(stats["min_value"])
    if check_name == "less_than_or_equal_to":
        return c > F.lit(stats["max_value"])
    if check_name == "less_than":
        return c >= F.lit(stats["max_value"])
    if check_name == "in_range":
        low = c < F.lit(stats["min_value"]) if stats.get("include_min", True) else c <= F.lit(
            stats["min_value"])
        high = c > F.lit(stats["max_value"]) if stats.get("include_max", True) else c >= F.lit(
            stats["max_value"])
        return low | high
    if check_name == "isin":
        return ~c.isin(list(stats["allowed_values"]))
    if check_name == "notin":
        return c.isin(list(stats["forbidden_values"]))
    if check_name == "str_matches":
        pattern = stats["pattern"]
        return ~c.rlike(getattr(pattern, "pattern", pattern))
    if check_name == "str_length":
        length = F.length(c)
        bad = F.lit(False)
        if stats.get("min_value") is not None:
            bad = bad | (length < stats["min_value"])
        if stats.get("max_value") is not None:
            bad = bad | (length > stats["max_value"])
        return bad
    raise NotImplementedError(
        f"Contract check {check_name!r} on {column!r} has no one-pass translation; add it to "
        "contracts._violation."
    )


def schema_errors(df: DataFrame, model: type[pa.DataFrameModel]) -> list[dict]:
    """Schema-level findings (missing columns, wrong Spark types) from the model's own
    declarations; reads no data.

    Not ``model.validate(..., SCHEMA_ONLY)``: pandera 0.35's pyspark backend counts nulls as
    a *schema* check (one Spark job per non-nullable column) and its dtype check raises an
    AssertionError instead of reporting when a decimal column arrives as another type.
    """
    actual = {f.name: f.dataType for f in df.schema.fields}
    found = []
    for name, column in model.to_schema().columns.items():
        expected = column.dtype.type
        if name not in actual:
            found.append({"column": name, "check": "column_in_dataframe",
                          "reason": "COLUMN_NOT_IN_DATAFRAME",
                          "error": f"column '{name}' not in the frame"})
        elif actual[name] != expected:
            found.append({"column": name, "check": f"dtype('{expected.simpleString()}')",
                          "reason": "WRONG_DATATYPE",
                          "error": f"expected {expected.simpleString()}, got "
                                   f"{actual[name].simpleString()}"})
    return found


def contract(model: type[pa.DataFrameModel], key: str, table: str) -> CountedRule:
    """The contract as a counted rule (see the module docstring)."""

    def counted(df: DataFrame, t: Thresholds):
        structural = schema_errors(df, model)
        # A missing or mistyped column is already reported; its values are not checked (a
        # range check on a string column would fail the query under ANSI mode).
        skip = {e["column"] for e in structural}
        conditions: dict[str, Column] = {}
        checks: dict[str, tuple[str, str]] = {}  # condition name -> (column, check)
        for name, column in model.to_schema().columns.items():
            if name in skip:
                continue
            declared = [("not_nullable", F.col(f"`{name}`").isNull())] if not column.nullable else []
            declared += [
                (check.name, _violation(name, check.name, check.statistics))
                for check in column.checks
            ]
            for check, condition in declared:
                checks[f"{name}.{check}"] = (name, check)
                conditions[f"{name}.{check}"] = condition
        samples = key in df.columns

        def judge(c: Counts, _: KeyCounts) -> RuleResult:
            findings = [{**e, "failed_rows": None, "severity": ERROR} for e in structural]
            for condition, failed in c.by_condition.items():
                if failed:
                    column, check = checks[condition]
                    severity = WARN if (column, check) in WARN_ONLY else ERROR
                    findings.append({"column": column, "check": check, "failed_rows": failed,
                                     "severity": severity})
            # A structural finding fails every row; otherwise the rows breaking any check.
            rows_failed = c.rows if structural else c.failed
            return RuleResult(
                rule="pandera_contract",
                table=table,
                passed=not findings,
                rows_checked=c.rows,
                rows_failed=rows_failed if findings else 0,
                threshold=f"{model.__name__}: 0 violations ({len(conditions)} data checks); "
                f"warn-only: {sorted('.'.join(w) for w in WARN_ONLY)}",
                severity=ERROR if any(f["severity"] == ERROR for f in findings) else WARN,
                sample_keys=c.sample([key], t.sample_size) if samples else [],
                details={"findings": findings},
                description=format_report(table, findings, c.rows),
            )

        return conditions, judge

    return counted


def validate_contract(
    df: DataFrame,
    model: type[pa.DataFrameModel],
    key: str,
    table: str,
    t: Thresholds = THRESHOLDS,
) -> RuleResult:
    """The contract's findings by column and check, with counts, on ``df`` alone."""
    keys = [key] if key in df.columns else []
    return evaluate_alone(contract(model, key, table), df, keys, t)


def format_report(table: str, findings: list[dict], rows: int) -> str:
    """A readable report: one line per failing column and check, with its count."""
    if not findings:
        return f"{table}: contract satisfied ({rows} rows)."
    lines = [f"{table}: {len(findings)} contract violation(s) in {rows} rows"]
    for f in findings:
        count = "schema" if f["failed_rows"] is None else f"{f['failed_rows']} rows"
        extra = f": {f['error']}" if f.get("error") else ""
        lines.append(f"- [{f['severity']}] {f['column']} / {f['check']} ({count}){extra}")
    return "\n".join(lines)
