# Frozen into build/unix/micropython: MicroPython's own asyncio (for comparisons against
# kernel.asyncio in one run). The project's packages load from the source tree
# (MICROPYPATH=.frozen:.) so tests see edits without a rebuild.
include("$(MPY_DIR)/extmod/asyncio")
