"""Sales forecast: exact recovery of a synthetic trend + weekly (+ monthly) series."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from lakehouse_assets.transforms.forecast import fct_sales_forecast

START = dt.date(2024, 1, 7)  # a Sunday
WEEKLY = {1: 0.0, 2: 40.0, 3: 55.0, 4: 30.0, 5: 80.0, 6: 120.0, 7: -25.0}  # Spark dayofweek
MONTHLY = {m: 15.0 * (m % 4) for m in range(1, 13)}


def spark_dow(day: dt.date) -> int:
    return (day.weekday() + 1) % 7 + 1


def synthetic_sales(day: dt.date, with_months: bool = False) -> float:
    t = (day - START).days
    return 1000.0 + 2.5 * t + WEEKLY[spark_dow(day)] + (MONTHLY[day.month] if with_months else 0)


def daily_sales_df(spark, days: int, with_months: bool = False, skip: set[int] = frozenset()):
    dates = [START + dt.timedelta(days=i) for i in range(days) if i not in skip]
    rows = [(day, Decimal(f"{synthetic_sales(day, with_months):.2f}")) for day in dates]
    return spark.createDataFrame(rows, "order_date date, total_sales decimal(18,2)")


def test_recovers_trend_and_weekly_pattern(spark):
    daily = daily_sales_df(spark, 120)
    forecast, metrics = fct_sales_forecast(daily, horizon_days=30, holdout_days=28)
    rows = forecast.orderBy("forecast_date").collect()

    assert forecast.columns == [
        "forecast_date", "predicted_sales", "lower_bound", "upper_bound", "model_version"
    ]  # fmt: skip
    last = START + dt.timedelta(days=119)
    assert [r["forecast_date"] for r in rows] == [last + dt.timedelta(days=i) for i in range(1, 31)]
    for r in rows:
        expected = synthetic_sales(r["forecast_date"])
        assert float(r["predicted_sales"]) == pytest.approx(expected, abs=0.011)
        # A perfect fit: the interval collapses to the prediction.
        assert r["lower_bound"] == r["predicted_sales"] == r["upper_bound"]
        assert r["model_version"] == "ols-trend-dow-v1"

    assert metrics["mae"] == pytest.approx(0, abs=1e-6)
    assert metrics["rmse"] == pytest.approx(0, abs=1e-6)
    assert metrics["mape"] == pytest.approx(0, abs=1e-6)
    assert (metrics["training_days"], metrics["holdout_days"]) == (92, 28)
    assert metrics["history_days"] == 120
    assert metrics["history_end"] == last.isoformat()
    assert metrics["reason"] is None

    again, again_metrics = fct_sales_forecast(daily, horizon_days=30, holdout_days=28)
    assert again.orderBy("forecast_date").collect() == rows and again_metrics == metrics


def test_month_terms_with_a_year_of_history(spark):
    forecast, metrics = fct_sales_forecast(daily_sales_df(spark, 400, with_months=True), 10, 28)
    assert metrics["model_version"] == "ols-trend-dow-month-v1"
    assert metrics["mae"] == pytest.approx(0, abs=1e-6)
    for r in forecast.collect():
        assert float(r["predicted_sales"]) == pytest.approx(
            synthetic_sales(r["forecast_date"], with_months=True), abs=0.011
        )


def test_missing_days_count_as_zero_sales_and_widen_the_interval(spark):
    # Day 20 has no row: a 0 in the holdout-free fit's residuals gives a real interval.
    forecast, metrics = fct_sales_forecast(daily_sales_df(spark, 30, skip={20}), 7, 28)
    assert metrics["history_days"] == 30
    assert metrics["interval_std"] > 0
    row = forecast.orderBy("forecast_date").first()
    assert row["lower_bound"] < row["predicted_sales"] < row["upper_bound"]


def test_short_history_forecasts_without_holdout(spark):
    forecast, metrics = fct_sales_forecast(daily_sales_df(spark, 41), horizon_days=5)
    assert (metrics["mae"], metrics["mape"], metrics["rmse"]) == (None, None, None)
    assert (metrics["training_days"], metrics["holdout_days"]) == (41, 0)
    assert "shorter than holdout_days" in metrics["reason"]
    assert forecast.count() == 5


@pytest.mark.parametrize("days", [0, 1])
def test_too_short_history_gives_empty_forecast(spark, days):
    forecast, metrics = fct_sales_forecast(daily_sales_df(spark, days))
    assert forecast.count() == 0
    assert forecast.columns[0] == "forecast_date"
    assert metrics["reason"].startswith(f"history has {days} day(s)")
    assert metrics["mae"] is None
