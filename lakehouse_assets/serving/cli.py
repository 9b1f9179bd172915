"""``lakehouse-serve --lakehouse-root DIR [--host H] [--port P]``: start the service."""

from __future__ import annotations

import argparse
import logging
import os
import sys

from lakehouse_assets.serving.config import (API_KEYS_ENV, API_KEYS_FILE_ENV, ServeConfig,
                                             api_keys_from_env)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="lakehouse-serve",
        description="Serve the gold and ML tables over REST and GraphQL (no Spark). API keys "
        f"come from {API_KEYS_ENV} (comma-separated) or {API_KEYS_FILE_ENV} (one per line); "
        "without a key the service listens on 127.0.0.1 only.",
    )
    parser.add_argument("--lakehouse-root", default=os.environ.get("LAKEHOUSE_ROOT", "./lakehouse"),
                        help="root of the Delta tables (default: $LAKEHOUSE_ROOT or ./lakehouse)")
    parser.add_argument("--host", default="127.0.0.1", help="default %(default)s")
    parser.add_argument("--port", type=int, default=8000,
                        help="default %(default)s (dagster dev uses 3000)")
    parser.add_argument("--no-access-log", action="store_true", help="do not log every request")
    args = parser.parse_args(argv)

    config = ServeConfig(lakehouse_root=args.lakehouse_root, api_keys=api_keys_from_env(),
                         host=args.host, port=args.port)
    try:
        config.check()
    except ValueError as exc:
        parser.error(str(exc))
    logging.basicConfig(level=logging.INFO, format="%(levelname)s:     %(message)s")
    log = logging.getLogger("lakehouse_assets.serving")
    if config.api_keys:
        log.info("API key required on every route but /health (%d key(s))", len(config.api_keys))
    else:
        log.warning("no API key configured (%s / %s): serving WITHOUT authentication, on %s "
                    "only", API_KEYS_ENV, API_KEYS_FILE_ENV, config.host)
    log.info("serving %s on http://%s:%d (docs: /docs)", config.root, config.host, config.port)

    import uvicorn

    from lakehouse_assets.serving.app import create_app

    uvicorn.run(create_app(config), host=config.host, port=config.port,
                access_log=not args.no_access_log, log_level="info")
    return 0


if __name__ == "__main__":
    sys.exit(main())
