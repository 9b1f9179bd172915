"""The code location by domain, one module each, loaded by ``dagster.load_from_defs_folder``.

Each module returns the ``Definitions`` of its part of the lakehouse; the tables themselves are
declared in ``lakehouse_assets.assets`` and their rules in ``lakehouse_assets.checks``.
"""
