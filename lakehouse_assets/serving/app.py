"""The FastAPI application: REST under ``/api/v1``, GraphQL at ``/graphql``, docs at ``/docs``.

Every data response is ``{"data", "table_version", "as_of"}`` (and ``next_cursor`` when
paginated): ``table_version`` maps each table the response was read from to its Delta version,
``as_of`` is the analysis date of the data. Decimals are JSON strings, dates ISO 8601.
"""

# No `from __future__ import annotations`: FastAPI reads the endpoints' parameter types at
# run time, including the aliases defined inside create_app.
import datetime as dt
import hmac
import json
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, FastAPI, Path, Query, Security
from fastapi.responses import JSONResponse, PlainTextResponse
from fastapi.security import APIKeyHeader
from pydantic import BaseModel

from lakehouse_assets.serving import errors, queries
from lakehouse_assets.serving.config import DEFAULT_PAGE_SIZE, ServeConfig
from lakehouse_assets.serving.errors import ApiError, log
from lakehouse_assets.serving.graphql import schema
from lakehouse_assets.serving.pagination import Page
from lakehouse_assets.serving.snapshots import Lakehouse, Read

API_KEY_HEADER = "X-API-Key"


def _json_default(value: Any):
    if isinstance(value, Decimal):
        # Exact and positional ("0.000", never "0E-3"): the Delta decimal, never a float.
        return format(value, "f")
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


class LakehouseJSON(JSONResponse):
    def render(self, content: Any) -> bytes:
        return json.dumps(content, default=_json_default, separators=(",", ":")).encode()


def envelope(read: Read, data: Any, page: Page | None = None) -> LakehouseJSON:
    body = {"data": data, "table_version": read.table_version, "as_of": read.as_of}
    if page is not None:
        body["next_cursor"] = page.next_cursor
    return LakehouseJSON(body)


class GraphQLRequest(BaseModel):
    query: str
    variables: dict[str, Any] | None = None
    operationName: str | None = None


def create_app(config: ServeConfig) -> FastAPI:
    lakehouse = Lakehouse(config)
    keys = [k.encode() for k in config.api_keys]
    header = APIKeyHeader(name=API_KEY_HEADER, auto_error=False,
                          description="One of the keys the service was started with.")

    async def require_key(key: str | None = Security(header)) -> None:  # async: no thread hop
        if not keys:
            return  # no key configured: the service listens on loopback only (cli)
        # Compare with every key, each in constant time: the answer's timing tells nothing.
        given = (key or "").encode()
        if not any([hmac.compare_digest(given, k) for k in keys]):
            raise ApiError(401, "unauthorized", f"missing or unknown API key (header "
                           f"{API_KEY_HEADER})")

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        missing = [t for t, v in lakehouse.status().items() if v is None]
        if missing:
            log.warning("tables not built yet (their endpoints answer 503): %s",
                        ", ".join(missing))
        yield

    app = FastAPI(
        title="lakehouse_assets serving",
        version="1",
        description="The gold and ML tables of the lakehouse, read with delta-rs and DuckDB. "
        "Each response reads one Delta version per table (`table_version`); `as_of` is the "
        "analysis date of the data (latest day with completed orders). Decimals are strings.",
        lifespan=lifespan,
    )
    errors.install(app)
    api = APIRouter(prefix="/api/v1", dependencies=[Depends(require_key)])

    Limit = Annotated[int, Query(ge=1, le=config.max_page_size,
                                 description=f"page size, at most {config.max_page_size}")]
    Cursor = Annotated[str | None, Query(max_length=2000,
                                         description="`next_cursor` of the previous page")]
    Order = Annotated[Literal["asc", "desc"], Query()]
    Id = Annotated[str, Path(min_length=1, max_length=200)]

    @app.get("/health", tags=["service"])
    def health():
        """Liveness, and the Delta version of every served table on disk (null: not built).
        Needs no key."""
        return LakehouseJSON({"status": "ok", "tables": lakehouse.status()})

    @api.get("/customer-metrics", tags=["customers"])
    def customer_metrics(
        segment: Annotated[Literal[queries.SEGMENTS] | None, Query()] = None,
        min_spend: Annotated[Decimal | None, Query(ge=0, description="minimum monetary_value "
                                                   "(completed order totals)")] = None,
        sort: Literal[queries.CUSTOMER_SORTS] = "monetary_value",
        order: Order = "desc", limit: Limit = DEFAULT_PAGE_SIZE, cursor: Cursor = None,
    ):
        """Customers with RFM metrics, CLV, churn risk and RFM segment."""
        with lakehouse.read(*queries.CUSTOMER_METRICS) as read:
            page = queries.customer_metrics(read, segment=segment, min_spend=min_spend,
                                            sort=sort, descending=order == "desc",
                                            limit=limit, cursor=cursor)
            return envelope(read, page.rows, page)

    @api.get("/customer/{customer_id}", tags=["customers"])
    def customer(customer_id: Id):
        """One customer's profile, RFM, segments (RFM segment, spend tier, churn risk) and
        value (current and predicted CLV, lifetime value; `ltv` null without orders)."""
        with lakehouse.read(*queries.CUSTOMER_PROFILE) as read:
            profile = queries.customer_profile(read, customer_id)
            if profile is None:
                raise ApiError(404, "customer_not_found", f"no customer {customer_id!r}")
            return envelope(read, profile)

    @api.get("/customer/{customer_id}/features", tags=["customers"])
    def customer_features(customer_id: Id):
        """The customer's row of the ML feature table (`ml.ml_customer_features`)."""
        with lakehouse.read("ml.ml_customer_features") as read:
            features = queries.customer_features(read, customer_id)
            if features is None:
                raise ApiError(404, "customer_not_found", f"no customer {customer_id!r}")
            return envelope(read, features)

    @api.get("/segments", tags=["customers"])
    def segments():
        """Per RFM segment: customers, revenue, orders, average order value, predicted CLV
        and the recommended action."""
        with lakehouse.read("gold.dim_customer_segments") as read:
            return envelope(read, queries.segment_summary(read))

    @api.get("/products", tags=["products"])
    def products(
        tier: Annotated[Literal[queries.TIERS] | None, Query()] = None,
        category: Annotated[str | None, Query(max_length=200)] = None,
        sort: Literal[queries.PRODUCT_SORTS] = "revenue",
        order: Order = "desc", limit: Limit = DEFAULT_PAGE_SIZE, cursor: Cursor = None,
    ):
        """Product performance, filtered by performance tier and category."""
        with lakehouse.read(*queries.PRODUCTS) as read:
            page = queries.products(read, tier=tier, category=category, sort=sort,
                                    descending=order == "desc", limit=limit, cursor=cursor)
            return envelope(read, page.rows, page)

    @api.get("/product-performance", tags=["products"])
    def product_performance(group_by: Literal[tuple(queries.PRODUCT_GROUPS)] = "tier"):
        """Products, units, revenue and profit per performance tier or per category."""
        with lakehouse.read(*queries.PRODUCTS) as read:
            return envelope(read, queries.product_performance(read, group_by))

    @api.get("/daily-sales", tags=["sales"])
    def daily_sales(start: dt.date | None = None, end: dt.date | None = None,
                    order: Order = "asc", limit: Limit = DEFAULT_PAGE_SIZE,
                    cursor: Cursor = None):
        """Daily sales between `start` and `end` (inclusive, ISO dates)."""
        if start and end and start > end:
            raise ApiError(400, "invalid_range", f"start {start} is after end {end}")
        with lakehouse.read("gold.fct_daily_sales") as read:
            page = queries.daily_sales(read, start=start, end=end, descending=order == "desc",
                                       limit=limit, cursor=cursor)
            return envelope(read, page.rows, page)

    @api.get("/sales-forecast", tags=["sales"])
    def sales_forecast(days: Annotated[int, Query(ge=1, le=366)] = 30):
        """The first `days` days of the sales forecast (the table holds 30)."""
        with lakehouse.read("gold.fct_sales_forecast") as read:
            return envelope(read, queries.sales_forecast(read, days))

    @api.get("/high-risk-orders", tags=["sales"])
    def high_risk_orders(
        flag: Literal[queries.RISK_FLAGS] | None = None,
        min_flags: Annotated[int | None, Query(ge=1)] = None,
        customer_id: Annotated[str | None, Query(max_length=200)] = None,
        start: dt.date | None = None, end: dt.date | None = None,
        sort: Literal[queries.RISK_SORTS] = "order_date",
        order: Order = "desc", limit: Limit = DEFAULT_PAGE_SIZE, cursor: Cursor = None,
    ):
        """Orders with at least one risk flag, with the reasons."""
        if start and end and start > end:
            raise ApiError(400, "invalid_range", f"start {start} is after end {end}")
        with lakehouse.read("gold.fct_high_risk_orders") as read:
            page = queries.high_risk_orders(
                read, flag=flag, min_flags=min_flags, customer_id=customer_id, start=start,
                end=end, sort=sort, descending=order == "desc", limit=limit, cursor=cursor)
            return envelope(read, page.rows, page)

    @api.get("/data-quality/runs", tags=["data quality"])
    def quality_runs(failed_only: bool = False, limit: Limit = DEFAULT_PAGE_SIZE,
                     cursor: Cursor = None):
        """Per Dagster run, newest first: rules evaluated, passed, failed, blocking failures."""
        with lakehouse.read("gold.data_quality_summary") as read:
            page = queries.quality_runs(read, failed_only=failed_only, limit=limit,
                                        cursor=cursor)
            return envelope(read, page.rows, page)

    @api.get("/data-quality/runs/{run_id}", tags=["data quality"])
    def quality_run(run_id: Id):
        """Every rule result of one run, failures first."""
        with lakehouse.read("gold.data_quality_summary") as read:
            rules = queries.quality_run(read, run_id)
            if not rules:
                raise ApiError(404, "run_not_found", f"no quality results for run {run_id!r}")
            return envelope(read, rules)

    @app.post("/graphql", tags=["graphql"], dependencies=[Depends(require_key)])
    def graphql(request: GraphQLRequest):
        """GraphQL over POST (schema: GET /graphql/schema). Errors that stop the request
        (syntax, validation, depth or cost limit, bad arguments) are 4xx; the table versions
        read are in `extensions`."""
        with lakehouse.read(*queries.PRODUCTS) as read:
            result = schema.execute_sync(request.query, variable_values=request.variables,
                                         operation_name=request.operationName,
                                         context_value=read)
            body: dict[str, Any] = {"data": result.data}
            status = 200
            if result.errors:
                body["errors"] = [e.formatted for e in result.errors]
                causes = [e.original_error for e in result.errors]
                api_errors = [c for c in causes if isinstance(c, ApiError)]
                if api_errors:
                    status = api_errors[0].status
                    for error, cause in zip(body["errors"], causes):
                        if isinstance(cause, ApiError):
                            error["extensions"] = {"code": cause.code}
                elif any(c is not None for c in causes):
                    raise next(c for c in causes if c is not None)  # a bug: the 500 handler
                else:
                    status = 400  # the request itself is invalid
            body["extensions"] = {"table_version": read.table_version, "as_of": read.as_of}
            return LakehouseJSON(body, status_code=status)

    @app.get("/graphql/schema", tags=["graphql"], dependencies=[Depends(require_key)],
             response_class=PlainTextResponse)
    def graphql_schema():
        """The GraphQL schema (SDL)."""
        return schema.as_str()

    app.include_router(api)
    return app
