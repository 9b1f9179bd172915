"""The numbers two builds must agree on: the project's gold and ML tables, read and compared.

Tables are pandas DataFrames keyed ``"<layer>.<table>"`` (``GOLD_TABLES``). Two builds agree
when every table has the same keys and, per key, the same value in every column both have:
integers exactly, other numbers within ``REL_TOL`` relative (Spark computes in decimals where
DuckDB uses doubles), dates and timestamps as instants, everything else exactly; nulls only
equal nulls. Lineage and audit columns (``LINEAGE_COLUMNS`` and every ``_``-prefixed
metadata column) are not compared.
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
from typing import Any

import numpy as np
import pandas as pd

GOLD_TABLES: dict[str, str] = {  # table -> key
    "gold.fct_customer_metrics": "customer_id",
    "gold.dim_customer_segments": "customer_id",
    "gold.fct_product_performance": "product_id",
    "ml.ml_customer_features": "customer_id",
}

# The gold lineage columns on gold tables; metadata columns start with "_" (docs/contracts.md).
LINEAGE_COLUMNS = frozenset({"silver_source_tables", "processing_timestamp", "layer"})

REL_TOL = 1e-6
MAX_EXAMPLES = 3


def gold_tables_from_delta(spark: Any, lakehouse_root: str) -> dict[str, pd.DataFrame]:
    """The gold/ML tables of a lakehouse (``<root>/<layer>/<table>``, Delta) as pandas."""
    def read(name: str) -> pd.DataFrame:
        return spark.read.format("delta").load(f"{lakehouse_root}/{name.replace('.', '/')}")

    return {name: read(name).toPandas() for name in GOLD_TABLES}


def compared_columns(df: pd.DataFrame) -> list[str]:
    return [c for c in df.columns if c not in LINEAGE_COLUMNS and not c.startswith("_")]


def compare_gold(
    expected: dict[str, pd.DataFrame],
    actual: dict[str, pd.DataFrame],
    *,
    require_same_columns: bool = True,
) -> list[str]:
    """Human-readable differences between two builds' tables; empty when they agree.

    Tables of ``GOLD_TABLES`` are matched on their key; any other table present on both sides
    is skipped with no finding (there is no key to match it on). With
    ``require_same_columns`` a (non-lineage) column present on one side only is a difference.
    """
    differences: list[str] = []
    for name in sorted(set(expected) | set(actual)):
        if name not in actual or name not in expected:
            side = "actual" if name not in actual else "expected"
            differences.append(f"{name}: table missing in {side}")
            continue
        if name in GOLD_TABLES:
            differences += _compare_table(
                name, GOLD_TABLES[name], expected[name], actual[name], require_same_columns
            )
    return differences


def _compare_table(
    name: str, key: str, expected: pd.DataFrame, actual: pd.DataFrame, require_same_columns: bool
) -> list[str]:
    found: list[str] = []
    sides = {"expected": expected, "actual": actual}
    for side, df in sides.items():
        if key not in df.columns:
            return [f"{name}: key column {key} missing in {side}"]
    keyed = {}
    for side, df in sides.items():
        df = df[compared_columns(df)].copy()
        df[key] = df[key].map(lambda v: None if _is_null(v) else str(v))
        if df[key].isna().any():
            found.append(f"{name}: {int(df[key].isna().sum())} rows with a null {key} in {side}")
        duplicated = df[key][df[key].duplicated() & df[key].notna()]
        if len(duplicated):
            found.append(
                f"{name}: {len(duplicated)} duplicate {key} in {side}, e.g. "
                f"{_examples(duplicated.unique())}"
            )
        keyed[side] = df[df[key].notna()].drop_duplicates(key)

    exp, act = keyed["expected"], keyed["actual"]
    if require_same_columns:
        for side, cols in (
            ("expected", [c for c in exp.columns if c not in act.columns]),
            ("actual", [c for c in act.columns if c not in exp.columns]),
        ):
            if cols:
                found.append(f"{name}: columns only in {side}: {', '.join(cols)}")

    exp_keys, act_keys = set(exp[key]), set(act[key])
    for side, missing in (("actual", exp_keys - act_keys), ("expected", act_keys - exp_keys)):
        if missing:
            found.append(
                f"{name}: {len(missing)} {key} missing in {side} "
                f"(of {len(exp_keys if side == 'actual' else act_keys)}), "
                f"e.g. {_examples(sorted(missing))}"
            )

    merged = exp.merge(act, on=key, how="inner", suffixes=("__expected", "__actual"))
    for column in [c for c in exp.columns if c in act.columns and c != key]:
        x, y = merged[f"{column}__expected"], merged[f"{column}__actual"]
        differs = ~_same_values(x, y)
        if differs.any():
            rows = merged.loc[differs, [key]].assign(expected=x[differs], actual=y[differs])
            examples = "; ".join(
                f"{key}={r[key]}: expected {_show(r['expected'])}, actual {_show(r['actual'])}"
                for _, r in rows.sort_values(key).head(MAX_EXAMPLES).iterrows()
            )
            found.append(
                f"{name}.{column}: {int(differs.sum())} of {len(merged)} rows differ, "
                f"e.g. {examples}"
            )
    return found


def _is_null(value: Any) -> bool:
    if value is None or value is pd.NaT or value is pd.NA:
        return True
    try:
        return bool(value != value)  # NaN (float, numpy, Decimal('NaN'))
    except (TypeError, ValueError):
        return False


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, decimal.Decimal, np.number)) and not isinstance(
        value, (bool, np.bool_)
    )


def _is_datetime(value: Any) -> bool:
    return isinstance(value, (dt.date, np.datetime64, pd.Timestamp))


def _same(x: Any, y: Any) -> bool:
    if _is_null(x) or _is_null(y):
        return _is_null(x) and _is_null(y)
    if _is_number(x) and _is_number(y):
        fx, fy = float(x), float(y)
        if fx.is_integer() and fy.is_integer():
            return int(x) == int(y)  # integers exactly
        return math.isclose(fx, fy, rel_tol=REL_TOL, abs_tol=0.0)
    if _is_datetime(x) and _is_datetime(y):
        return pd.Timestamp(x) == pd.Timestamp(y)
    if type(x) is not type(y) and not (isinstance(x, str) and isinstance(y, str)):
        if isinstance(x, (bool, np.bool_)) and isinstance(y, (bool, np.bool_)):
            return bool(x) == bool(y)
        return False  # e.g. '1' vs 1: a type difference is a difference
    return bool(x == y)


def _same_values(x: pd.Series, y: pd.Series) -> pd.Series:
    return pd.Series(
        [_same(a, b) for a, b in zip(x.to_numpy(dtype=object), y.to_numpy(dtype=object))],
        index=x.index,
        dtype=bool,
    )


def _show(value: Any) -> str:
    if _is_null(value):
        return "null"
    if isinstance(value, decimal.Decimal):
        return str(value)
    return repr(value.item() if isinstance(value, np.generic) else value)


def _examples(values: Any) -> str:
    values = list(values)
    shown = ", ".join(str(v) for v in values[:MAX_EXAMPLES])
    return shown + (", ..." if len(values) > MAX_EXAMPLES else "")


def summary(tables: dict[str, pd.DataFrame]) -> dict[str, Any]:
    """A few headline numbers of a build's gold tables, for a report."""
    def money(series: pd.Series) -> float:
        return round(float(sum(float(v) for v in series if not _is_null(v))), 2)

    def counts(series: pd.Series) -> dict[str, int]:
        return {str(k): int(v) for k, v in series.value_counts().sort_index().items()}

    result: dict[str, Any] = {"rows": {name: len(df) for name, df in sorted(tables.items())}}
    if (metrics := tables.get("gold.fct_customer_metrics")) is not None:
        result["total_monetary_value"] = money(metrics["monetary_value"])
        result["total_predicted_clv_12m"] = money(metrics["predicted_clv_12m"])
        result["customers_per_churn_risk"] = counts(metrics["churn_risk"])
    if (segments := tables.get("gold.dim_customer_segments")) is not None:
        result["customers_per_segment"] = counts(segments["customer_segment"])
    if (performance := tables.get("gold.fct_product_performance")) is not None:
        result["total_revenue"] = money(performance["revenue"])
        result["total_profit"] = money(performance["total_profit"])
        result["products_per_tier"] = counts(performance["performance_tier"])
    if (features := tables.get("ml.ml_customer_features")) is not None:
        result["churn_risk_customers"] = int(sum(int(v) for v in features["is_churn_risk"]))
    return result
