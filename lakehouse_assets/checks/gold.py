"""Gold validation rules as plain functions over DataFrames.

Value and consistency rules are integrity rules (ERROR); the historical trend is a warning.
Reconciliations compare sums of decimals, so equal data gives exactly equal sums; the
tolerance (rules.Thresholds.money_tolerance) only absorbs the rounding of one average.
"""

import datetime as dt
from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal
from statistics import median

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from lakehouse_assets.checks.counting import (
    Counts,
    CountedRule,
    Judge,
    KeyCounts,
    evaluate_alone,
    sample_keys,
)
from lakehouse_assets.checks.results import ERROR, WARN, RuleResult
from lakehouse_assets.checks.rules import THRESHOLDS, Thresholds


def _judge_conditions(key: str, rule: str, table: str, threshold: str, t: Thresholds) -> Judge:
    """The result of a rule that fails on any row breaking one of its conditions."""

    def judge(c: Counts, _: KeyCounts) -> RuleResult:
        return RuleResult(
            rule=rule,
            table=table,
            passed=c.failed == 0,
            rows_checked=c.rows,
            rows_failed=c.failed,
            threshold=threshold,
            sample_keys=c.sample([key], t.sample_size),
            details={"violations": c.by_condition},
        )

    return judge


def spend_values(
    table: str, total_col: str, avg_col: str, segment_col: str | None = None,
    key: str = "customer_id",
) -> CountedRule:
    """No negative spend or order value; total >= average order value per customer;
    total spend (and segment, where the table has one) never null.

    The average is null for a customer without orders (fct_customer_metrics' prospects); the
    comparison then does not apply.
    """

    def counted(_: DataFrame, t: Thresholds):
        total, avg = F.col(total_col), F.col(avg_col)
        conditions = {
            f"negative_{total_col}": total < 0,
            f"negative_{avg_col}": avg < 0,
            f"{total_col}_below_{avg_col}": total < avg,
            f"null_{total_col}": total.isNull(),
        }
        if segment_col:
            conditions[f"null_{segment_col}"] = F.col(segment_col).isNull()
        threshold = f"{total_col} >= 0, {avg_col} >= 0, {total_col} >= {avg_col}, not null"
        return conditions, _judge_conditions(key, "spend_values", table, threshold, t)

    return counted


def customer_spend_values(
    df: DataFrame,
    table: str,
    total_col: str,
    avg_col: str,
    segment_col: str | None = None,
    key: str = "customer_id",
    t: Thresholds = THRESHOLDS,
) -> RuleResult:
    """``spend_values`` on ``df`` alone."""
    return evaluate_alone(spend_values(table, total_col, avg_col, segment_col, key), df, [key], t)


def metric_rules(table: str) -> CountedRule:
    """customer_id not null and unique, predicted_clv_12m >= 0, recency, frequency and
    monetary scores within [score_min, score_max] where present. Uniqueness is read from the
    key's counts (the table is keyed by customer_id)."""

    def counted(_: DataFrame, t: Thresholds):
        lo, hi = t.score_min, t.score_max
        conditions = {
            "null_customer_id": F.col("customer_id").isNull(),
            "negative_predicted_clv_12m": F.col("predicted_clv_12m") < 0,
            **{
                f"{s}_out_of_range": F.col(s).isNotNull() & ~F.col(s).between(lo, hi)
                for s in ("recency_score", "frequency_score", "monetary_score")
            },
        }
        rows = _judge_conditions(
            "customer_id", "customer_metric_rules", table,
            f"customer_id unique and not null, predicted_clv_12m >= 0, scores in [{lo}, {hi}]",
            t,
        )

        def judge(c: Counts, k: KeyCounts) -> RuleResult:
            result = rows(c, k)
            details = {**result.details, "duplicate_customer_ids": k.duplicate_keys}
            if not k.duplicate_rows:
                return replace(result, details=details)
            duplicates = k.sample(t.sample_size, null_keys=False)
            return replace(
                result,
                passed=False,
                rows_failed=result.rows_failed + k.duplicate_rows,
                sample_keys=(duplicates + result.sample_keys)[: t.sample_size],
                details=details,
            )

        return conditions, judge

    return counted


def customer_metric_rules(df: DataFrame, table: str, t: Thresholds = THRESHOLDS) -> RuleResult:
    """``metric_rules`` on ``df`` alone."""
    return evaluate_alone(metric_rules(table), df, ["customer_id"], t)


def _sums(*terms: tuple[DataFrame, Column, str]) -> dict:
    """Several single-row aggregates computed in one Spark job (cross join of 1-row frames)."""
    frames = [df.agg(F.coalesce(F.sum(expr), F.lit(0)).alias(name)) for df, expr, name in terms]
    joined = frames[0]
    for frame in frames[1:]:
        joined = joined.crossJoin(frame)
    row = joined.first()
    return {name: Decimal(row[name]) for _, _, name in terms}


def _reconciliation(
    rule: str, table: str, expected_name: str, values: dict, actual_names: list[str],
    t: Thresholds, rows_checked: int = 0,
) -> RuleResult:
    expected = values[expected_name]
    differences = {n: values[n] - expected for n in actual_names}
    off = [n for n, d in differences.items() if abs(d) > t.money_tolerance]
    return RuleResult(
        rule=rule,
        table=table,
        passed=not off,
        rows_checked=rows_checked,
        rows_failed=len(off),
        threshold=f"|sum - {expected_name}| <= {t.money_tolerance}",
        sample_keys=off,
        details={
            **{n: str(v) for n, v in values.items()},
            "differences": {n: str(d) for n, d in differences.items()},
        },
    )


def aggregation_reconciliation(
    int_customer_orders: DataFrame,
    fct_daily_sales: DataFrame,
    fct_customer_metrics: DataFrame,
    fct_customer_insights: DataFrame,
    t: Thresholds = THRESHOLDS,
) -> RuleResult:
    """Gold totals reconcile with silver.

    The sum of ``fct_daily_sales.total_sales`` and the customers' monetary values
    (``fct_customer_metrics.monetary_value``, ``fct_customer_insights.total_spend``) all equal
    the sum of ``int_customer_orders.order_total`` (completed orders, shipping included).
    """
    values = _sums(
        (int_customer_orders, F.col("order_total"), "completed_order_total"),
        (fct_daily_sales, F.col("total_sales"), "daily_sales_total"),
        (fct_customer_metrics, F.col("monetary_value"), "customer_metrics_monetary"),
        (fct_customer_insights, F.col("total_spend"), "customer_insights_spend"),
    )
    return _reconciliation(
        "aggregation_reconciliation", "gold.fct_daily_sales", "completed_order_total", values,
        ["daily_sales_total", "customer_metrics_monetary", "customer_insights_spend"], t,
        rows_checked=4,
    )


def product_revenue_reconciliation(
    fct_product_performance: DataFrame,
    stg_orders: DataFrame,
    stg_order_items: DataFrame,
    fct_daily_sales: DataFrame,
    t: Thresholds = THRESHOLDS,
) -> RuleResult:
    """Cross-metric: product revenue sums equal the sales they come from.

    The original design says "product revenue sums equal daily sales sums", but daily sales include each
    order's shipping cost and product revenue (line totals) does not. The rule reconciles
    ``sum(fct_product_performance.revenue)`` with the line totals of completed orders, and
    the daily sales with those line totals plus the completed orders' shipping: both sides
    of the original design's equation, with the shipping term that separates them reported.
    """
    completed = stg_orders.where("is_completed").select("order_id", "shipping_cost")
    lines = stg_order_items.join(completed.select("order_id"), "order_id")
    values = _sums(
        (lines, F.col("line_total"), "completed_line_total"),
        (fct_product_performance, F.col("revenue"), "product_revenue"),
        (completed, F.col("shipping_cost"), "completed_shipping"),
        (fct_daily_sales, F.col("total_sales"), "daily_sales_total"),
    )
    values["daily_sales_minus_shipping"] = (
        values.pop("daily_sales_total") - values["completed_shipping"]
    )
    return _reconciliation(
        "product_revenue_reconciliation", "gold.fct_product_performance", "completed_line_total",
        values, ["product_revenue", "daily_sales_minus_shipping"], t, rows_checked=2,
    )


def consistency(
    table: str, key: str, ratios: Callable[[Thresholds], dict[str, tuple[str, str, float]]]
) -> CountedRule:
    """Each ratio column equals numerator / denominator within its tolerance.

    ``ratios(t)``: ratio column -> (numerator, denominator, tolerance). A row whose
    denominator is 0 must have a null ratio (a date whose orders were all cancelled since),
    and that is consistent; a null ratio with a non-zero denominator is not.
    """

    def counted(_: DataFrame, t: Thresholds):
        conditions, tolerances = {}, ratios(t)
        for ratio, (num, den, tol) in tolerances.items():
            expected = F.try_divide(F.col(num).cast("double"), F.col(den))
            zero_den = F.col(den) == 0
            conditions[f"{ratio}_inconsistent"] = F.when(
                zero_den, F.col(ratio).isNotNull()
            ).otherwise(
                F.col(ratio).isNull()
                | (F.abs(F.col(ratio).cast("double") - expected) > F.lit(tol))
            )
        threshold = ", ".join(
            f"|{r} - {n}/{d}| <= {tol}" for r, (n, d, tol) in tolerances.items()
        )
        return conditions, _judge_conditions(key, "metric_consistency", table, threshold, t)

    return counted


def metric_consistency(
    df: DataFrame,
    table: str,
    key: str,
    ratios: dict[str, tuple[str, str, float]],
    t: Thresholds = THRESHOLDS,
) -> RuleResult:
    """``consistency`` on ``df`` alone."""
    return evaluate_alone(consistency(table, key, lambda _: ratios), df, [key], t)


def segments_match_metrics(
    dim_customer_segments: DataFrame, fct_customer_metrics: DataFrame, t: Thresholds = THRESHOLDS
) -> RuleResult:
    """Cross-metric: the customers in segments are exactly those in the metrics."""
    seg = dim_customer_segments.select("customer_id").distinct().withColumn("_in_seg", F.lit(1))
    met = fct_customer_metrics.select("customer_id").distinct().withColumn("_in_met", F.lit(1))
    both = seg.join(met, "customer_id", "full")
    stats = both.agg(
        F.count_if(F.col("_in_seg").isNotNull()).alias("segments"),
        F.count_if(F.col("_in_met").isNotNull()).alias("metrics"),
        F.count_if(F.col("_in_met").isNull()).alias("only_segments"),
        F.count_if(F.col("_in_seg").isNull()).alias("only_metrics"),
    ).first()
    failed = int(stats["only_segments"]) + int(stats["only_metrics"])
    mismatched = both.where(F.col("_in_seg").isNull() | F.col("_in_met").isNull())
    return RuleResult(
        rule="segments_match_metrics",
        table="gold.dim_customer_segments",
        passed=failed == 0,
        rows_checked=int(stats["metrics"]),
        rows_failed=failed,
        threshold="customers(dim_customer_segments) == customers(fct_customer_metrics)",
        sample_keys=sample_keys(mismatched, ["customer_id"], t.sample_size) if failed else [],
        details={k: int(stats[k]) for k in ("segments", "metrics", "only_segments", "only_metrics")},
    )


def daily_trend(
    fct_daily_sales: DataFrame,
    dates: list[dt.date] | None,
    t: Thresholds = THRESHOLDS,
    metrics: tuple[str, ...] = ("total_sales", "order_count"),
) -> RuleResult:
    """Historical trend (WARN): a day's value outside a robust band of its history.

    For each checked date with sales, the band is median +- k * 1.4826 * MAD over the days
    with sales among the ``t.trend_days`` days before it (at least ``trend_min_history`` of
    them, else the date is not judged), never narrower than ``trend_min_relative_band`` of the
    median. ``dates``: the order dates the run touched (None = every date). Daily sales has
    one row per date, so its relevant slice is collected to the driver.
    """
    days = fct_daily_sales.where("order_count > 0")
    if dates is not None:
        if not dates:
            return _trend_result([], 0, t)
        lo = min(dates) - dt.timedelta(days=t.trend_days)
        days = days.where(F.col("order_date").between(F.lit(lo), F.lit(max(dates))))
    rows = sorted(
        (r["order_date"], {m: float(r[m]) for m in metrics})
        for r in days.select("order_date", *metrics).collect()
    )
    wanted = set(dates) if dates is not None else {d for d, _ in rows}
    flagged, judged = [], 0
    for i, (day, values) in enumerate(rows):
        if day not in wanted:
            continue
        start = day - dt.timedelta(days=t.trend_days)
        history = [v for d, v in rows[:i] if d >= start]
        if len(history) < t.trend_min_history:
            continue
        judged += 1
        for m in metrics:
            series = [h[m] for h in history]
            med = median(series)
            mad = median(abs(x - med) for x in series)
            half_width = max(t.trend_mad_k * 1.4826 * mad, t.trend_min_relative_band * abs(med))
            if abs(values[m] - med) > half_width:
                flagged.append({
                    "order_date": day.isoformat(), "metric": m, "value": values[m],
                    "band": [round(med - half_width, 2), round(med + half_width, 2)],
                })
    return _trend_result(flagged, judged, t)


def _trend_result(flagged: list, judged: int, t: Thresholds) -> RuleResult:
    dates = sorted({f["order_date"] for f in flagged})
    return RuleResult(
        rule="historical_trend",
        table="gold.fct_daily_sales",
        passed=not flagged,
        rows_checked=judged,
        rows_failed=len(dates),
        threshold=f"median +- {t.trend_mad_k} * 1.4826 * MAD over the trailing {t.trend_days} "
        f"days (>= {t.trend_min_history} days of history, band >= "
        f"{t.trend_min_relative_band:.0%} of the median)",
        severity=WARN,
        sample_keys=dates[: t.sample_size],
        details={"flagged": flagged[:20], "dates_judged": judged},
    )


__all__ = [
    "ERROR",
    "aggregation_reconciliation",
    "customer_metric_rules",
    "customer_spend_values",
    "daily_trend",
    "metric_consistency",
    "product_revenue_reconciliation",
    "segments_match_metrics",
]
