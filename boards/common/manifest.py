# Frozen into every board's firmware: the project's packages ($(PORT_DIR) is the repo root,
# where boards/common/port.mk runs), and MicroPython's own asyncio renamed `mpasyncio`, for
# benchmarks against the kernel's. No Python source is loaded from outside at boot.
package("hal", base_path="$(PORT_DIR)")
package("kernel", base_path="$(PORT_DIR)")
package("services", base_path="$(PORT_DIR)")
package(
    "mpasyncio",
    ("__init__.py", "core.py", "event.py", "funcs.py", "lock.py", "stream.py", "task.py"),
    base_path="$(BUILD)/extra",
)
module("asyncio.py", base_path="$(PORT_DIR)/boards/common/frozen")
module("uasyncio.py", base_path="$(PORT_DIR)/boards/common/frozen")
