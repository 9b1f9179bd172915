"""ML: customer features, and their Parquet export for modelling."""

import os

from dagster import AssetIn, MaterializeResult, MetadataValue, asset

from lakehouse_assets.assets.factory import AUTOMATION, table_asset
from lakehouse_assets.resources import LakehouseStorage
from lakehouse_assets.transforms import ml

ml_customer_features = table_asset("ml", "ml_customer_features", ml.ml_customer_features)


@asset(
    key=["ml", "ml_customer_features_parquet"],
    ins={"features": AssetIn(key=["ml", "ml_customer_features"])},
    description="ml_customer_features exported as one Parquet file for pandas, scikit-learn or "
    "XGBoost.",
    group_name="ml",
    kinds={"parquet"},
    automation_condition=AUTOMATION,
)
def ml_customer_features_parquet(features, storage: LakehouseStorage) -> MaterializeResult:
    # A single file as the original design's toPandas().to_parquet; written beside and renamed into place
    # so a reader never sees half a file.
    target = f"{storage.root}/ml/exports/ml_customer_features.parquet"
    os.makedirs(os.path.dirname(target), exist_ok=True)
    pdf = features.toPandas()
    # Spark Connect attaches its query metrics as pandas attrs, which Parquet cannot store.
    pdf.attrs.clear()
    pdf.to_parquet(target + ".tmp", index=False)
    os.replace(target + ".tmp", target)
    return MaterializeResult(
        metadata={
            "path": MetadataValue.path(target),
            "dagster/row_count": MetadataValue.int(len(pdf)),
            "columns": MetadataValue.json(list(pdf.columns)),
        }
    )


ml_assets = [ml_customer_features, ml_customer_features_parquet]
