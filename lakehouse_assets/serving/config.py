"""Settings of ``lakehouse-serve``, from the command line and the environment."""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass

# Where the service finds its keys: never on the command line, where `ps` would show them.
API_KEYS_ENV = "LAKEHOUSE_API_KEYS"  # comma-separated
API_KEYS_FILE_ENV = "LAKEHOUSE_API_KEYS_FILE"  # one key per line

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000


@dataclass(frozen=True)
class ServeConfig:
    lakehouse_root: str
    api_keys: tuple[str, ...] = ()
    host: str = "127.0.0.1"
    port: int = 8000
    max_page_size: int = MAX_PAGE_SIZE

    @property
    def root(self) -> str:
        # As LakehouseStorage.root for a local path; not imported from there, because the
        # resources package loads Dagster and PySpark, which the service has no use for.
        return os.path.abspath(os.path.expanduser(self.lakehouse_root))

    def table_path(self, layer: str, table: str) -> str:
        return f"{self.root}/{layer}/{table}"  # the lakehouse's <root>/<layer>/<table>

    def check(self) -> None:
        """Without a key the service must not be reachable from other machines."""
        if not self.api_keys and not is_loopback(self.host):
            raise ValueError(
                f"refusing to listen on {self.host} without an API key: set {API_KEYS_ENV} or "
                f"{API_KEYS_FILE_ENV}, or listen on 127.0.0.1"
            )


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def api_keys_from_env(environ=os.environ) -> tuple[str, ...]:
    keys = environ.get(API_KEYS_ENV, "").split(",")
    if environ.get(API_KEYS_FILE_ENV):
        with open(environ[API_KEYS_FILE_ENV]) as f:
            keys += f.read().splitlines()
    return tuple(k.strip() for k in keys if k.strip())
