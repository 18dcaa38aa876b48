# kernel/errors: the kernel's exception types, in one place.
#
# Owns: KernelPanic (a broken kernel invariant), CancelledError and TimeoutError (asyncio's
# names and bases), QueueFull / QueueEmpty (CPython's asyncio names), CallNotPermitted
# (kernel.request found no instance that may take a call) and Watchdog (the C
# HAL's preallocated step-watchdog exception when `_hal` exists, an equivalent class when it
# does not, so the kernel runs on a stock MicroPython). No logic lives here.


class KernelPanic(Exception):
    """A kernel invariant broke: a bug in the kernel, never a service's failure."""


class CancelledError(BaseException):
    """Raised inside a task at its await point when the task is cancelled."""


class TimeoutError(Exception):  # asyncio's name, on purpose
    """A wait_for / deadline ran out."""


class QueueFull(Exception):
    """put_nowait() on a full Queue."""


class QueueEmpty(Exception):
    """get_nowait() on an empty Queue."""


class CallNotPermitted(Exception):
    """kernel.request: no instance of `service` may take the call; `why` says what stood in
    the way (one line: 'request web: service breaker open')."""

    def __init__(self, service, why):
        super().__init__("request %s: %s" % (service, why))
        self.service = service
        self.why = why


try:
    from _hal import Watchdog
except ImportError:

    class Watchdog(BaseException):
        """A task's step ran past its budget (stand-in: this build has no `_hal`)."""
