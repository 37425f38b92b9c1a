"""Root test configuration."""

import pytest

# ---- hackmatrix.reference: `--long` runs the long differential tests (ten times more games) ----


def pytest_addoption(parser):
    """Register --long (pytest only honours this hook in the root conftest)."""
    parser.addoption("--long", action="store_true", default=False,
                     help="also run tests marked `long` (ten times more differential games)")


def pytest_collection_modifyitems(config, items):
    """Skip tests marked `long` unless --long is given."""
    if config.getoption("--long"):
        return
    skip = pytest.mark.skip(reason="long test: run with --long")
    for item in items:
        if "long" in item.keywords:
            item.add_marker(skip)
