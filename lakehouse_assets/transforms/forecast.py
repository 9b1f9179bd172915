"""Daily sales forecast, honest and deterministic.

The original design fits a linear regression of daily sales on day-of-week, month and year as plain
numbers. Here the same idea is made sound: day-of-week as one-hot terms, month as one-hot
terms (only once the history spans a year: with less, a month effect cannot be told apart
from the trend), and a linear trend in days. The daily series is small (one row per day),
so it is collected to the driver and fitted by closed-form least squares with numpy:
no randomness, no iteration, identical output for identical input.

Evaluation: fit on all but the last ``holdout_days`` days, report MAE, MAPE and RMSE on
those days, then refit on the whole history and forecast the ``horizon_days`` days after it.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import numpy as np
from pyspark.sql import DataFrame
from pyspark.sql.types import DateType, StringType, StructField, StructType

from lakehouse_assets.transforms.sales import MONEY

FORECAST_SCHEMA = StructType(
    [
        StructField("forecast_date", DateType(), False),
        StructField("predicted_sales", MONEY, False),
        StructField("lower_bound", MONEY, False),
        StructField("upper_bound", MONEY, False),
        StructField("model_version", StringType(), False),
    ]
)

MIN_DAYS_FOR_HOLDOUT_TRAINING = 14  # days the evaluation fit keeps before the holdout
MIN_DAYS_FOR_MONTH_TERMS = 365  # a month effect needs a year to be separable from trend
INTERVAL_Z = 1.96  # ~95 % band, assuming roughly normal residuals
MODEL_NAME = "ols-trend-dow"


def _calendar_series(daily_sales: DataFrame) -> tuple[list[dt.date], np.ndarray]:
    """Every day from the first to the last order date, with total_sales; missing days are 0."""
    rows = daily_sales.select("order_date", "total_sales").collect()  # a few thousand rows
    sales_by_date: dict[dt.date, float] = {}
    for row in rows:
        if row["order_date"] is not None:
            sales_by_date[row["order_date"]] = sales_by_date.get(row["order_date"], 0.0) + float(
                row["total_sales"] or 0
            )
    if not sales_by_date:
        return [], np.zeros(0)
    first, last = min(sales_by_date), max(sales_by_date)
    dates = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
    return dates, np.array([sales_by_date.get(d, 0.0) for d in dates])


def _spark_day_of_week(day: dt.date) -> int:
    """Spark's dayofweek numbering: 1 = Sunday .. 7 = Saturday."""
    return (day.weekday() + 1) % 7 + 1


class _LinearSalesModel:
    """Least squares on [1, trend, day-of-week one-hot (Sunday = baseline), month one-hot
    (January = baseline, only with >= MIN_DAYS_FOR_MONTH_TERMS of training days)]."""

    def __init__(self, origin: dt.date, use_month_terms: bool) -> None:
        self.origin = origin
        self.use_month_terms = use_month_terms
        self.coefficients: np.ndarray | None = None

    @property
    def version(self) -> str:
        return MODEL_NAME + ("-month" if self.use_month_terms else "") + "-v1"

    def design(self, dates: list[dt.date]) -> np.ndarray:
        rows = []
        for day in dates:
            weekday = [1.0 if _spark_day_of_week(day) == d else 0.0 for d in range(2, 8)]
            month = (
                [1.0 if day.month == m else 0.0 for m in range(2, 13)]
                if self.use_month_terms
                else []
            )
            rows.append([1.0, float((day - self.origin).days), *weekday, *month])
        return np.array(rows)

    def fit(self, dates: list[dt.date], sales: np.ndarray) -> _LinearSalesModel:
        # lstsq returns the minimum-norm solution when a term never occurs (e.g. a month
        # absent from training): that term's coefficient is 0, deterministically.
        self.coefficients, *_ = np.linalg.lstsq(self.design(dates), sales, rcond=None)
        return self

    def predict(self, dates: list[dt.date]) -> np.ndarray:
        return self.design(dates) @ self.coefficients


def _fit(dates: list[dt.date], sales: np.ndarray) -> _LinearSalesModel:
    model = _LinearSalesModel(dates[0], len(dates) >= MIN_DAYS_FOR_MONTH_TERMS)
    return model.fit(dates, sales)


def _error_metrics(actual: np.ndarray, predicted: np.ndarray) -> dict[str, float | None]:
    errors = predicted - actual
    nonzero = actual != 0  # MAPE is undefined on zero-sales days; they are left out of it
    mape = (
        float(np.mean(np.abs(errors[nonzero]) / np.abs(actual[nonzero])) * 100)
        if nonzero.any()
        else None
    )
    return {
        "mae": float(np.mean(np.abs(errors))),
        "mape": mape,
        "rmse": float(np.sqrt(np.mean(errors**2))),
    }


def _residual_std(residuals: np.ndarray) -> float:
    return float(np.std(residuals, ddof=1)) if len(residuals) > 1 else 0.0


def _cents(value: float) -> Decimal:
    return Decimal(f"{max(value, 0.0):.2f}")  # sales are never negative


def fct_sales_forecast(
    daily_sales: DataFrame, horizon_days: int = 30, holdout_days: int = 28
) -> tuple[DataFrame, dict[str, Any]]:
    """Forecast daily total_sales for the ``horizon_days`` days after the history.

    ``daily_sales``: a DataFrame with ``order_date`` and ``total_sales`` (e.g. fct_daily_sales).

    Returns ``(forecast_df, metrics)``. forecast_df: forecast_date, predicted_sales,
    lower_bound, upper_bound (predicted ± 1.96 × the sample std of the holdout residuals, or
    of the in-sample residuals when there is no holdout; all clipped at 0), model_version.
    metrics: mae, mape (percent, over non-zero days), rmse (holdout; None without holdout),
    training_days (days of the evaluation fit, or of the final fit without holdout),
    holdout_days, history_days, history_start / history_end (ISO dates or None),
    horizon_days, model_version, interval_std, reason (None, or why something was skipped).

    Histories shorter than ``holdout_days + 14`` days are not evaluated (metrics None) but
    still forecast; with fewer than 2 days there is nothing to fit and the forecast is empty.
    """
    spark = daily_sales.sparkSession
    dates, sales = _calendar_series(daily_sales)
    metrics: dict[str, Any] = {
        "mae": None,
        "mape": None,
        "rmse": None,
        "training_days": 0,
        "holdout_days": 0,
        "history_days": len(dates),
        "history_start": dates[0].isoformat() if dates else None,
        "history_end": dates[-1].isoformat() if dates else None,
        "horizon_days": horizon_days,
        "model_version": None,
        "interval_std": None,
        "reason": None,
    }
    if len(dates) < 2:
        metrics["reason"] = (
            f"history has {len(dates)} day(s) of sales; at least 2 are needed to fit a trend"
        )
        return spark.createDataFrame([], FORECAST_SCHEMA), metrics

    if holdout_days > 0 and len(dates) >= holdout_days + MIN_DAYS_FOR_HOLDOUT_TRAINING:
        split = len(dates) - holdout_days
        evaluation = _fit(dates[:split], sales[:split])
        holdout_predicted = evaluation.predict(dates[split:])
        metrics.update(_error_metrics(sales[split:], holdout_predicted))
        metrics.update(training_days=split, holdout_days=holdout_days)
        interval_std = _residual_std(sales[split:] - holdout_predicted)
        model = _fit(dates, sales)
    else:
        model = _fit(dates, sales)
        metrics["training_days"] = len(dates)
        metrics["reason"] = (
            f"history of {len(dates)} days is shorter than holdout_days + "
            f"{MIN_DAYS_FOR_HOLDOUT_TRAINING} = {holdout_days + MIN_DAYS_FOR_HOLDOUT_TRAINING};"
            " not evaluated, interval from in-sample residuals"
        )
        interval_std = _residual_std(sales - model.predict(dates))
    metrics.update(model_version=model.version, interval_std=interval_std)

    future = [dates[-1] + dt.timedelta(days=i) for i in range(1, horizon_days + 1)]
    half_width = INTERVAL_Z * interval_std
    rows = [
        (day, _cents(p), _cents(p - half_width), _cents(p + half_width), model.version)
        for day, p in zip(future, model.predict(future) if future else [], strict=True)
    ]
    return spark.createDataFrame(rows, FORECAST_SCHEMA), metrics
