# kernel/heap: presize(obj, n), for the kernel objects made by the thousand.
#
# An instance's attribute table starts empty and regrows as __init__ fills it (2, 4, 6, 8,
# 10, 12, 17, 23 slots for a Task), each old table left behind as a small hole; thousands
# of such holes made every larger allocation's first-fit scan walk them (see
# boards/common/gcstart.c). presize() gives the table its final size up front, so __init__
# allocates it once. On a build without the C HAL (stock MicroPython) it does nothing.
# Not here: the allocator itself (C), what objects hold (their own modules).
try:
    from _hal import presize
except ImportError:

    def presize(obj, n):
        """Stand-in: this build has no `_hal`; the table (an instance's, a dict's) grows as
        it fills."""
        return obj
