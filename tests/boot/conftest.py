# conftest.py: boot tests run on every board in MULTIOS_BOARDS (set by `make test`).
import os

import pytest

from console import Console

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
