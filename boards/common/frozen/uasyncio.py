# uasyncio on MultiOS boards: MicroPython's old name for asyncio, the same module as
# `import asyncio` (kernel/asyncio.py). init installs both names in sys.modules at boot; this
# file serves an import before that (or after a script dropped the name).
import sys

import kernel.asyncio
from kernel.asyncio import *  # noqa: F401,F403

sys.modules["uasyncio"] = kernel.asyncio  # later imports get the kernel's module itself


def __getattr__(name):  # the names kernel.asyncio loads on first use (streams)
    return getattr(kernel.asyncio, name)
