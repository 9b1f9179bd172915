"""lakehouse-serve end to end: the real command in a subprocess on a free loopback port, over
real HTTP, on the lakehouse built from data_seeds; results checked against Spark SQL on the
same Delta tables."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from decimal import Decimal
from pathlib import Path

import deltalake
import httpx
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from lakehouse_assets_tests.conftest import free_port

KEYS = ("first-test-key", "second-test-key")
SERVE = str(Path(sys.executable).parent / "lakehouse-serve")
MAX_PAGE = 1000


class Server:
    def __init__(self, root, *args: str, keys=KEYS, log_dir: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("LAKEHOUSE_API_KEYS")}
        if keys:
            env["LAKEHOUSE_API_KEYS"] = ",".join(keys)
        self.log = log_dir / f"serve-{self.port}.log"
        self.process = subprocess.Popen(
            [SERVE, "--lakehouse-root", str(root), "--port", str(self.port), *args],
            env=env, stdout=open(self.log, "w"), stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while True:
            assert self.process.poll() is None, self.log.read_text()
            try:
                if httpx.get(self.url + "/health").status_code == 200:
                    break
            except httpx.TransportError:
                assert time.monotonic() < deadline, self.log.read_text()
                time.sleep(0.2)
        self.client = httpx.Client(base_url=self.url, headers={"X-API-Key": KEYS[0]},
                                   timeout=30)

    def get(self, path: str, **params):
        return self.client.get(path, params=params)

    def ok(self, path: str, **params) -> dict:
        response = self.get(path, **params)
        assert response.status_code == 200, response.text
        return response.json()

    def graphql(self, query: str, **variables) -> httpx.Response:
        return self.client.post("/graphql", json={"query": query, "variables": variables})

    def stop(self):
        self.client.close()
        self.process.terminate()
        self.process.wait(30)


@pytest.fixture(scope="module")
def server(seeded_lakehouse, tmp_path_factory):
    s = Server(seeded_lakehouse.storage.root, log_dir=tmp_path_factory.mktemp("serve"))
    yield s
    s.stop()


@pytest.fixture(scope="module")
def spark_sql(seeded_lakehouse):
    """Spark SQL on the same Delta tables: ``{<layer>.<table>}`` stands for the table's path."""
    lakehouse = seeded_lakehouse

    def run(sql: str) -> list[dict]:
        for layer in ("silver", "gold", "ml"):
            for name in os.listdir(os.path.join(lakehouse.storage.root, layer)):
                sql = sql.replace("{%s.%s}" % (layer, name),
                                  f"delta.`{lakehouse.storage.table_path(layer, name)}`")
        return [r.asDict() for r in lakehouse.spark.sql(sql).collect()]

    return run


def follow(server: Server, path: str, **params) -> tuple[list[dict], int]:
    """Every row of a paginated endpoint, following next_cursor to the end; and page count."""
    rows, pages, cursor = [], 0, None
    while True:
        body = server.ok(path, **params, **({"cursor": cursor} if cursor else {}))
        rows += body["data"]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            return rows, pages


def error(response: httpx.Response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"]["code"] == code, body
    assert body["error"]["message"]
    return body["error"]


# ------------------------------------------------------------------------------ basics
def test_serving_imports_neither_spark_nor_dagster():
    code = ("import sys, lakehouse_assets.serving.app; "
            "print(sorted(m for m in ('pyspark', 'dagster') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_health_needs_no_key_and_lists_table_versions(server):
    body = httpx.get(server.url + "/health").json()
    assert body["status"] == "ok"
    assert body["tables"]["gold.fct_customer_metrics"] == 0
    assert body["tables"]["ml.ml_customer_features"] == 0


ROUTES = ["/api/v1/customer-metrics", "/api/v1/customer/41", "/api/v1/customer/41/features",
          "/api/v1/segments", "/api/v1/products", "/api/v1/product-performance",
          "/api/v1/daily-sales", "/api/v1/sales-forecast", "/api/v1/high-risk-orders",
          "/api/v1/data-quality/runs", "/graphql/schema"]


def test_every_route_but_health_needs_a_configured_key(server):
    for route in ROUTES:
        assert httpx.get(server.url + route).status_code == 401, route
        error(httpx.get(server.url + route, headers={"X-API-Key": "wrong"}), 401,
              "unauthorized")
        for key in KEYS:
            assert httpx.get(server.url + route, headers={"X-API-Key": key}).status_code == 200
    error(httpx.post(server.url + "/graphql", json={"query": "{ product(id: \"1\") { id } }"}),
          401, "unauthorized")
    assert httpx.get(server.url + "/docs").status_code == 200
    assert "/api/v1/customer/{customer_id}" in httpx.get(server.url + "/openapi.json").json()[
        "paths"]


def test_without_a_key_it_listens_on_loopback_only(seeded_lakehouse, tmp_path):
    refused = subprocess.run(
        [SERVE, "--lakehouse-root", seeded_lakehouse.storage.root, "--host", "0.0.0.0"],
        env={k: v for k, v in os.environ.items() if not k.startswith("LAKEHOUSE_API_KEYS")},
        capture_output=True, text=True, timeout=60,
    )
    assert refused.returncode == 2 and "without an API key" in refused.stderr
    open_server = Server(seeded_lakehouse.storage.root, keys=(), log_dir=tmp_path)
    try:
        assert httpx.get(open_server.url + "/api/v1/segments").status_code == 200
        assert "WITHOUT authentication, on 127.0.0.1" in open_server.log.read_text()
    finally:
        open_server.stop()


# ------------------------------------------------------------------------------ endpoints
def test_responses_carry_table_versions_and_the_analysis_date(server, spark_sql):
    # The transforms' analysis date: the latest completed order date.
    [expected] = spark_sql("SELECT max(order_date) AS d FROM {silver.int_customer_orders}")
    body = server.ok("/api/v1/segments")
    assert body["as_of"] == expected["d"].isoformat() == "2023-07-15"
    assert body["table_version"] == {"gold.dim_customer_segments": 0, "gold.fct_daily_sales": 0}


def test_customer_metrics_filtered_by_segment_and_minimum_spend(server, spark_sql):
    body = server.ok("/api/v1/customer-metrics", segment="Champions", min_spend="500")
    expected = spark_sql("""
        SELECT m.customer_id, CAST(m.monetary_value AS STRING) AS spend
        FROM {gold.fct_customer_metrics} m
        JOIN {gold.dim_customer_segments} s ON s.customer_id = m.customer_id
        WHERE s.customer_segment = 'Champions' AND m.monetary_value >= 500
        ORDER BY m.monetary_value DESC, m.customer_id DESC""")
    assert expected
    assert [(r["customer_id"], r["monetary_value"]) for r in body["data"]] == [
        (r["customer_id"], r["spend"]) for r in expected]
    assert {r["customer_segment"] for r in body["data"]} == {"Champions"}
    assert body["next_cursor"] is None


def test_customer_metrics_paginated_to_the_end_in_every_sort(server, spark_sql):
    [count] = spark_sql("SELECT count(*) AS n FROM {gold.fct_customer_metrics}")
    for sort in ("monetary_value", "frequency", "predicted_clv_12m", "customer_id"):
        for order in ("asc", "desc"):
            rows, pages = follow(server, "/api/v1/customer-metrics", sort=sort, order=order,
                                 limit=9)
            whole = server.ok("/api/v1/customer-metrics", sort=sort, order=order,
                              limit=MAX_PAGE)["data"]
            assert rows == whole and len(rows) == count["n"] and pages == -(-count["n"] // 9)
            assert len({r["customer_id"] for r in rows}) == count["n"]
            values = [Decimal(r[sort]) if sort != "customer_id" else r[sort] for r in rows]
            assert values == sorted(values, reverse=order == "desc")


def test_customer_profile(server, spark_sql):
    body = server.ok("/api/v1/customer/41")
    [expected] = spark_sql("""
        SELECT m.email, CAST(m.monetary_value AS STRING) AS monetary_value,
               CAST(m.predicted_clv_12m AS STRING) AS clv, s.customer_segment,
               t.customer_segment AS tier, CAST(l.predicted_ltv AS STRING) AS ltv,
               l.last_purchase
        FROM {gold.fct_customer_metrics} m
        JOIN {gold.dim_customer_segments} s ON s.customer_id = m.customer_id
        JOIN {gold.fct_customer_spend_tiers} t ON t.customer_id = m.customer_id
        JOIN {gold.fct_customer_ltv} l ON l.customer_id = m.customer_id
        WHERE m.customer_id = '41'""")
    profile = body["data"]
    assert profile["customer_id"] == "41"
    assert profile["profile"]["email"] == expected["email"]
    assert profile["rfm"]["monetary_value"] == expected["monetary_value"]
    assert profile["segments"]["customer_segment"] == expected["customer_segment"]
    assert profile["segments"]["spend_tier"] == expected["tier"]
    assert profile["value"]["predicted_clv_12m"] == expected["clv"]
    assert profile["value"]["ltv"]["predicted_ltv"] == expected["ltv"]
    assert profile["value"]["ltv"]["last_purchase"] == expected["last_purchase"].isoformat()
    assert set(body["table_version"]) == {
        "gold.fct_customer_metrics", "gold.dim_customer_segments", "gold.fct_customer_ltv",
        "gold.fct_customer_spend_tiers", "gold.fct_daily_sales"}

    [prospect] = spark_sql("SELECT min(customer_id) AS id FROM {gold.dim_customer_segments} "
                           "WHERE customer_segment = 'Prospects'")
    without_orders = server.ok(f"/api/v1/customer/{prospect['id']}")["data"]
    assert without_orders["value"]["ltv"] is None
    assert without_orders["segments"]["customer_segment"] == "Prospects"

    error(server.get("/api/v1/customer/nobody"), 404, "customer_not_found")
    error(server.get("/api/v1/customer/41' OR '1'='1"), 404, "customer_not_found")
    features = server.ok("/api/v1/customer/41/features")["data"]
    assert features["monetary_value"] == expected["monetary_value"]


def test_segment_summary(server, spark_sql):
    expected = spark_sql("""
        SELECT customer_segment, count(*) AS n, CAST(sum(monetary_value) AS STRING) AS revenue
        FROM {gold.dim_customer_segments} GROUP BY customer_segment""")
    data = server.ok("/api/v1/segments")["data"]
    assert {(r["segment"], r["customers"], r["revenue"]) for r in data} == {
        (r["customer_segment"], r["n"], r["revenue"]) for r in expected}
    champions = next(r for r in data if r["segment"] == "Champions")
    assert champions["avg_order_value"] == str(
        (Decimal(champions["revenue"]) / champions["orders"]).quantize(Decimal("0.01")))


def test_products_by_tier_and_category(server, spark_sql):
    expected = spark_sql("""
        SELECT performance_tier, count(*) AS n, CAST(sum(revenue) AS STRING) AS revenue
        FROM {gold.fct_product_performance} GROUP BY performance_tier""")
    data = server.ok("/api/v1/product-performance", group_by="tier")["data"]
    assert {(r["group"], r["products"], r["revenue"]) for r in data} == {
        (r["performance_tier"], r["n"], r["revenue"]) for r in expected}
    by_category = server.ok("/api/v1/product-performance", group_by="category")["data"]
    assert sum(r["products"] for r in by_category) == sum(r["n"] for r in expected)

    stars, _ = follow(server, "/api/v1/products", tier="Star", limit=2)
    assert {r["product_id"] for r in stars} == {r["product_id"] for r in spark_sql(
        "SELECT product_id FROM {gold.fct_product_performance} WHERE performance_tier = 'Star'")}
    assert server.ok("/api/v1/products", category="Kitchen' OR '1'='1")["data"] == []
    error(server.get("/api/v1/product-performance", group_by="supplier"), 422,
          "invalid_parameter")


def test_daily_sales_over_a_date_range(server, spark_sql):
    expected = spark_sql("""
        SELECT order_date, order_count, CAST(total_sales AS STRING) AS total_sales
        FROM {gold.fct_daily_sales}
        WHERE order_date BETWEEN DATE'2023-02-01' AND DATE'2023-04-30' ORDER BY order_date""")
    rows, pages = follow(server, "/api/v1/daily-sales", start="2023-02-01", end="2023-04-30",
                         limit=10)
    assert pages > 2
    assert [(r["order_date"], r["order_count"], r["total_sales"]) for r in rows] == [
        (r["order_date"].isoformat(), r["order_count"], r["total_sales"]) for r in expected]
    newest_first = server.ok("/api/v1/daily-sales", order="desc", limit=1)["data"]
    assert newest_first[0]["order_date"] == "2023-07-17"


def test_sales_forecast(server, spark_sql):
    expected = spark_sql("SELECT forecast_date, CAST(predicted_sales AS STRING) AS p "
                         "FROM {gold.fct_sales_forecast} ORDER BY forecast_date LIMIT 30")
    data = server.ok("/api/v1/sales-forecast", days=30)["data"]
    assert [(r["forecast_date"], r["predicted_sales"]) for r in data] == [
        (r["forecast_date"].isoformat(), r["p"]) for r in expected]
    assert len(server.ok("/api/v1/sales-forecast", days=7)["data"]) == 7
    error(server.get("/api/v1/sales-forecast", days=0), 422, "invalid_parameter")
    error(server.get("/api/v1/sales-forecast", days="soon"), 422, "invalid_parameter")


def test_high_risk_orders(server, spark_sql):
    expected = spark_sql("SELECT order_id, CAST(order_total AS STRING) AS total, risk_reasons "
                         "FROM {gold.fct_high_risk_orders}")
    rows, _ = follow(server, "/api/v1/high-risk-orders", limit=1)
    assert {(r["order_id"], r["order_total"], tuple(r["risk_reasons"])) for r in rows} == {
        (r["order_id"], r["total"], tuple(r["risk_reasons"])) for r in expected}
    flagged = server.ok("/api/v1/high-risk-orders", flag="is_high_value")["data"]
    assert flagged and all(r["is_high_value"] for r in flagged)
    error(server.get("/api/v1/high-risk-orders", flag="is_suspicious"), 422, "invalid_parameter")


def test_data_quality_summary_per_run(server, spark_sql, seeded_lakehouse):
    [expected] = spark_sql("""
        SELECT count(*) AS rules, count_if(NOT passed) AS failed
        FROM {gold.data_quality_summary} WHERE run_id = '%s'""" % seeded_lakehouse.result.run_id)
    runs = server.ok("/api/v1/data-quality/runs")["data"]
    [run] = [r for r in runs if r["run_id"] == seeded_lakehouse.result.run_id]
    assert (run["rules"], run["failed"]) == (expected["rules"], expected["failed"])
    rules = server.ok(f"/api/v1/data-quality/runs/{run['run_id']}")["data"]
    assert len(rules) == expected["rules"]
    assert [r["passed"] for r in rules] == sorted(r["passed"] for r in rules)  # failures first
    assert all(isinstance(r["sample_keys"], list) for r in rules)
    error(server.get("/api/v1/data-quality/runs/no-such-run"), 404, "run_not_found")


# ------------------------------------------------------------------------------ graphql
PRODUCT_FIELDS = "id name category unitsSold revenue averageUnitPrice uniqueCustomers"


def test_graphql_product_and_products_by_category(server, spark_sql):
    expected = {r["product_id"]: r for r in spark_sql("""
        SELECT product_id, category, units_sold, CAST(revenue AS STRING) AS revenue,
               CAST(avg_selling_price AS STRING) AS price, customers_count
        FROM {gold.fct_product_performance}""")}
    response = server.graphql("query($id: String!) { product(id: $id) { %s } }"
                              % PRODUCT_FIELDS, id="1009")
    assert response.status_code == 200, response.text
    body = response.json()
    product = body["data"]["product"]
    row = expected["1009"]
    assert (product["unitsSold"], product["revenue"], product["averageUnitPrice"],
            product["uniqueCustomers"]) == (row["units_sold"], row["revenue"], row["price"],
                                            row["customers_count"])
    assert body["extensions"]["table_version"]["gold.fct_product_performance"] == 0
    assert body["extensions"]["as_of"] == "2023-07-15"
    assert server.graphql('{ product(id: "none") { id } }').json()["data"] == {"product": None}

    category = row["category"]
    query = ("query($c: String!, $after: String) { productsByCategory(category: $c, first: 2, "
             "after: $after) { items { %s } nextCursor } }" % PRODUCT_FIELDS)
    items, after = [], None
    while True:
        page = server.graphql(query, c=category, after=after).json()["data"]["productsByCategory"]
        items += page["items"]
        after = page["nextCursor"]
        if after is None:
            break
    in_category = [r for r in expected.values() if r["category"] == category]
    assert sorted(i["id"] for i in items) == sorted(r["product_id"] for r in in_category)
    revenues = [Decimal(i["revenue"]) for i in items]
    assert revenues == sorted(revenues, reverse=True)


def test_graphql_refuses_deep_costly_and_malformed_queries(server):
    # Depth counts the document's nesting (introspection fields excepted), whatever the schema.
    too_deep = server.graphql('{ productsByCategory(category: "Kitchen") { items { id { a { '
                              "b { c { d } } } } } } }")
    assert too_deep.status_code == 400 and "exceeds maximum operation depth of 5" in too_deep.text
    costly = "{ %s }" % " ".join(
        f'p{i}: productsByCategory(category: "Kitchen", first: 1000) {{ items {{ id }} }}'
        for i in range(3))
    too_costly = server.graphql(costly)
    assert too_costly.status_code == 400 and "query cost 3000 exceeds" in too_costly.text
    by_variable = server.graphql("query($n: Int!) { a: productsByCategory(category: \"K\", "
                                 "first: $n) { items { id } } b: productsByCategory(category: "
                                 "\"K\", first: $n) { items { id } } c: product(id: \"1\") "
                                 "{ id } }", n=1)
    assert by_variable.status_code == 400  # a variable page size counts at the maximum
    assert server.graphql("{ nope }").status_code == 400
    assert server.graphql("{ product(id: ").status_code == 400
    bad_cursor = server.graphql('{ productsByCategory(category: "Kitchen", after: "x") '
                                "{ items { id } } }")
    assert bad_cursor.status_code == 400
    assert bad_cursor.json()["errors"][0]["extensions"]["code"] == "invalid_cursor"
    too_large = server.graphql('{ productsByCategory(category: "Kitchen", first: 1001) '
                               "{ items { id } } }")
    assert too_large.status_code == 422


# ------------------------------------------------------------------------------ errors
def test_bad_input_is_a_4xx_with_a_json_error(server):
    unknown = error(server.get("/api/v1/customer-metrics", segment="Whales"), 422,
                    "invalid_parameter")
    assert "Champions" in unknown["message"]
    error(server.get("/api/v1/customer-metrics", min_spend="lots"), 422, "invalid_parameter")
    error(server.get("/api/v1/daily-sales", start="2023-02-30"), 422, "invalid_parameter")
    error(server.get("/api/v1/daily-sales", start="2023-05-01", end="2023-04-01"), 400,
          "invalid_range")
    error(server.get("/api/v1/customer-metrics", limit=MAX_PAGE + 1), 422, "invalid_parameter")
    error(server.get("/api/v1/customer-metrics", sort="email"), 422, "invalid_parameter")
    error(server.get("/api/v1/customer-metrics", cursor="not a cursor"), 400, "invalid_cursor")
    forged = base64.urlsafe_b64encode(json.dumps({"v": {}, "q": "x", "after": 1}).encode())
    error(server.get("/api/v1/customer-metrics", cursor=forged.decode()), 400, "invalid_cursor")
    cursor = server.ok("/api/v1/customer-metrics", limit=2)["next_cursor"]
    error(server.get("/api/v1/customer-metrics", limit=2, cursor=cursor, segment="Lost"), 400,
          "cursor_mismatch")
    error(server.get("/api/v1/nothing-here"), 404, "not_found")


def test_a_missing_table_is_a_503_saying_how_to_build_it(seeded_lakehouse, tmp_path):
    root = tmp_path / "partial"
    shutil.copytree(Path(seeded_lakehouse.storage.root) / "gold" / "fct_daily_sales",
                    root / "gold" / "fct_daily_sales")
    partial = Server(root, log_dir=tmp_path)
    try:
        assert partial.ok("/api/v1/daily-sales", limit=1)["data"]
        missing = error(partial.get("/api/v1/customer/41"), 503, "table_missing")
        assert missing["details"]["table"] == "gold.dim_customer_segments"  # first, by name
        assert "lakehouse-build" in missing["details"]["how_to_build"]
        assert "Traceback" not in partial.get("/api/v1/segments").text
        assert httpx.get(partial.url + "/health").json()["tables"]["gold.fct_customer_ltv"] is None
    finally:
        partial.stop()


# ------------------------------------------------------------------------------ consistency
def test_a_read_during_a_rewrite_sees_one_whole_version(seeded_lakehouse, tmp_path):
    """delta-rs overwrites daily sales again and again while a client reads it: every response
    is exactly the old or the new table, and its table_version says which."""
    root = tmp_path / "lakehouse"
    table = root / "gold" / "fct_daily_sales"
    old = deltalake.DeltaTable(
        str(Path(seeded_lakehouse.storage.root) / "gold" / "fct_daily_sales")).to_pyarrow_table()
    # The same rows in a table delta-rs writes itself: it reads the lakehouse's liquid-clustered
    # tables but does not write to them (no support for the clustering table feature).
    deltalake.write_deltalake(str(table), old)
    new = old.set_column(old.schema.get_field_index("order_count"), "order_count",
                         pc.add(old.column("order_count"), pa.scalar(1, pa.int64())))
    live = Server(root, log_dir=tmp_path)
    try:
        before = live.ok("/api/v1/daily-sales", limit=MAX_PAGE)["data"]
        stale = live.ok("/api/v1/daily-sales", limit=5)["next_cursor"]
        contents = {0: before, 1: [{**r, "order_count": r["order_count"] + 1} for r in before]}
        seen, done = [], threading.Event()

        def reader():
            with httpx.Client(base_url=live.url, headers={"X-API-Key": KEYS[0]}) as http:
                while not done.is_set():
                    body = http.get("/api/v1/daily-sales", params={"limit": MAX_PAGE}).json()
                    seen.append((body["table_version"]["gold.fct_daily_sales"], body["data"]))

        thread = threading.Thread(target=reader)
        thread.start()
        for version in range(1, 9):  # odd versions hold the new content, even the old
            deltalake.write_deltalake(str(table), new if version % 2 else old, mode="overwrite")
            time.sleep(0.05)
        done.set()
        thread.join()

        final = live.ok("/api/v1/daily-sales", limit=MAX_PAGE)
        assert final["table_version"]["gold.fct_daily_sales"] == 8  # no restart needed
        assert len({v for v, _ in seen}) > 2, "the reader saw too few versions"
        for version, data in seen:
            assert data == contents[version % 2], f"a mixed read at version {version}"
        error(live.get("/api/v1/daily-sales", limit=5, cursor=stale), 409, "stale_cursor")
    finally:
        live.stop()


# ------------------------------------------------------------------------------ benchmark
def test_serving_benchmark_smoke(seeded_lakehouse, tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.serving", "--lakehouse-root",
         seeded_lakehouse.storage.root, "--requests", "20", "--seconds", "5",
         "--out", str(tmp_path)],
        cwd=Path(__file__).resolve().parent.parent, capture_output=True, text=True, timeout=120,
    )
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    report = json.loads((tmp_path / "custom" / "serving.json").read_text())
    assert {(r["endpoint"], r["clients"]) for r in report["runs"]} == {
        (e, c) for e in ("customer_profile", "daily_sales_range") for c in (1, 16)}
    assert all(r["requests"] > 0 and r["errors"] == 0 and r["p99_ms"] > 0 for r in report["runs"])
    assert 0 < report["server_peak_rss_mib"] < 1024
