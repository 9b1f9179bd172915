"""Gold sales marts: the sales forecast. (Daily sales, per-customer daily spend and the finance
mart are merged per landing day: ``assets.by_landing_day``.)"""

from dagster import MetadataValue
from pyspark.sql import DataFrame

from lakehouse_assets.assets.factory import table_asset
from lakehouse_assets.transforms import forecast


def sales_forecast(fct_daily_sales: DataFrame):
    """The forecast from the days with sales, and the model's held-out errors as metadata."""
    forecast_df, metrics = forecast.fct_sales_forecast(fct_daily_sales.where("order_count > 0"))
    meta = {
        f"holdout_{k}": MetadataValue.float(float(v))
        for k, v in metrics.items()
        if k in ("mae", "mape", "rmse") and v is not None
    }
    meta["model"] = MetadataValue.json({k: v for k, v in metrics.items()})
    return forecast_df, meta


fct_sales_forecast = table_asset("gold", "fct_sales_forecast", sales_forecast)

sales_assets = [fct_sales_forecast]
