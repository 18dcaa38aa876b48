# conftest.py: boot tests run on every board in MULTIOS_BOARDS (set by `make test`).
import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "tools"))
from console import Console  # noqa: E402

BOARDS = os.environ.get("MULTIOS_BOARDS", "arm").split()


def pytest_generate_tests(metafunc):
    if "board" in metafunc.fixturenames:
        metafunc.parametrize("board", BOARDS)


@pytest.fixture
def console(board, request):
    """A freshly booted MultiOS on `board`, with one 60 s deadline for the whole test."""
    c = Console(board, request.node.name.replace("/", "_"))
    yield c
    c.close()
