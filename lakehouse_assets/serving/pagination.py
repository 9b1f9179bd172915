"""Keyset pagination with opaque cursors.

A cursor is base64url JSON of: the table versions the first page was read at, a fingerprint
of the query (endpoint, filters, sort), and the last row's sort value and key. The next page
is the rows after that position in the same order (``WHERE (sort, key) > (?, ?)``), so pages
neither skip nor repeat rows. A cursor is only valid for the table versions it was made at:
once a table has a new version the position may no longer exist, and the request fails with
409 ``stale_cursor``; the client restarts from the first page. A cursor of another query is
400 ``cursor_mismatch``, an undecodable one 400 ``invalid_cursor``.

Sort values travel as text (decimals and dates as their exact string) and are bound as
parameters; DuckDB casts them to the column's type, so a decimal never becomes a float.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import json
from dataclasses import dataclass

import duckdb

from lakehouse_assets.serving.errors import ApiError
from lakehouse_assets.serving.snapshots import Read


@dataclass(frozen=True)
class Page:
    rows: list[dict]
    next_cursor: str | None


def _text(value) -> str | int:
    """A sort value for the cursor: integers as they are, anything else as exact text."""
    if isinstance(value, (int, str)):
        return value
    return value.isoformat() if isinstance(value, dt.date) else format(value, "f")


def _fingerprint(query: dict) -> str:
    return hashlib.sha256(json.dumps(query, sort_keys=True, default=str).encode()).hexdigest()[:16]


def encode_cursor(versions: dict[str, int], query: dict, after: list) -> str:
    payload = {"v": versions, "q": _fingerprint(query), "after": after}
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, versions: dict[str, int], query: dict) -> list:
    """The position after which the page starts, once the cursor is known to fit."""
    try:
        payload = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        old_versions, fingerprint, after = payload["v"], payload["q"], payload["after"]
        if not (isinstance(after, list) and len(after) == 2 and isinstance(old_versions, dict)):
            raise ValueError("bad shape")
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise ApiError(400, "invalid_cursor", "the cursor is malformed; pass back a "
                       "next_cursor exactly as received, or omit it for the first page") from None
    if fingerprint != _fingerprint(query):
        raise ApiError(400, "cursor_mismatch", "the cursor belongs to another query (other "
                       "filters or sort); omit it to start this query from the first page")
    if old_versions != versions:
        raise ApiError(409, "stale_cursor", "a table changed since the first page; restart "
                       "without a cursor", cursor_versions=old_versions, table_version=versions)
    return after


def paginate(read: Read, sql: str, params: list, *, query: dict, sort: str, key: str,
             descending: bool, limit: int, cursor: str | None) -> Page:
    """One page of ``sql`` ordered by ``sort`` then the unique ``key`` (both selected, never
    null). ``sort`` and ``key`` are column names from the code, not from the client;
    ``query`` is what identifies the query for its cursors (filters and sort)."""
    direction, after_op = ("DESC", "<") if descending else ("ASC", ">")
    where, bound = "TRUE", []
    if cursor is not None:
        last_sort, last_key = decode_cursor(cursor, read.table_version, query)
        where = f"({sort} {after_op} ? OR ({sort} = ? AND {key} {after_op} ?))"
        bound = [last_sort, last_sort, last_key]
    try:
        rows = read.rows(
            f"SELECT * FROM ({sql}) AS q WHERE {where} "
            f"ORDER BY {sort} {direction}, {key} {direction} LIMIT ?",
            [*params, *bound, limit + 1],
        )
    except duckdb.ConversionException:  # a hand-made cursor with a value of the wrong type
        raise ApiError(400, "invalid_cursor", "the cursor's position does not fit this query") \
            from None
    if len(rows) <= limit:
        return Page(rows, None)
    last = rows[limit - 1]
    after = [_text(last[sort]), _text(last[key])]
    return Page(rows[:limit], encode_cursor(read.table_version, query, after))
