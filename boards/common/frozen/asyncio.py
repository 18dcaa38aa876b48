# asyncio on MultiOS boards: the kernel's asyncio-compatible API (kernel/asyncio.py) under the
# name services and scripts import, so asyncio code runs unmodified as kernel tasks.
# MicroPython's own asyncio is frozen beside it as `mpasyncio` (for benchmarks).
import sys

import kernel.asyncio
from kernel.asyncio import *  # noqa: F401,F403

sys.modules["asyncio"] = kernel.asyncio  # later imports get the kernel's module itself


def __getattr__(name):  # the names kernel.asyncio loads on first use (streams)
    return getattr(kernel.asyncio, name)
