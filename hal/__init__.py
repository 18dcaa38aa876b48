# hal: the one Python facade over the board's C HAL (the `_hal` module).
#
# Owns: time (ticks), sleep/idle, interrupts (counters, soft handlers, critical sections),
# random, wall clock, power, console bytes and board facts. The same names exist on every
# board and on the unix port, where `_hal` is compiled into build/unix/micropython.
# Knows nothing of tasks or services: the kernel injects this module (or a virtual clock)
# where it needs time; nothing here imports the kernel.
#
# API (all from C unless noted):
#   ticks_ms() ticks_us()          counters, wrap at TICKS_PERIOD (1 << 30): small ints
#   ticks_add(t, delta) ticks_diff(a, b)   wrap-safe arithmetic on those counters
#   sleep_ms(n) sleep_us(n)        idle the CPU (WFI / hlt / nanosleep) for n
#   idle(timeout_ms)               sleep until an interrupt that matters (console byte,
#                                  soft handler pending) or timeout_ms passed; the
#                                  scheduler's idle hook
#   irq_disable() -> state  irq_restore(state)   critical sections
#   irq_counts() -> dict           {'timer': n, 'uart': n, ...} interrupts per source
#   ctrl_c_count() -> int          Ctrl-C bytes received so far (raised or not)
#   irq_handler(source, fn|None)   soft handler for 'timer' or 'uart', run via
#                                  micropython.schedule, never in hard IRQ context; a
#                                  handler that raises is disabled, its exception kept
#   irq_error(source)              that exception (then cleared), or None
#   random_u32() random_u64() random_bytes(n) random_seed(n)   xoshiro128** seeded at boot
#   entropy_bytes(n) -> bytes      n bytes straight from the board's entropy source (info()
#                                  ['entropy']), not the PRNG: for keys; ARM: ~1 ms a byte
#   time() -> int                  wall clock, seconds since 1970-01-01 UTC
#   poweroff(code) reset()         end the machine (QEMU exit status = code) / reboot
#   console_any() -> int           bytes waiting on the console (UART RX ring)
#   console_read(n) -> bytes       up to n bytes, never blocks (b'' when none)
#   console_readinto(buf) -> int   up to len(buf) bytes into buf, never blocks, no heap
#   console_write(b)               bytes to the console, unbuffered
#   alloc_bytes() -> int           heap bytes allocated since boot, mod TICKS_PERIOD
#   gc_stats() -> (n, us, max_us)  this VM's garbage collections: count, total and longest
#                                  time; the step watchdog stands still during one
#   gc_max_free() -> int           bytes of the longest free run: the largest object the
#                                  heap can give now (the free total may be all small holes)
#   step_gc_us() -> int            µs the last resume()'s step spent in collections (the
#                                  kernel does not count them against its step budget)
#   boot_mode() set_boot_mode(m)   survives a soft reset: 0 normal, 1 raw REPL
#   repl()                         MicroPython's friendly REPL in the foreground until Ctrl-D
#                                  (returns None), or Ctrl-A (returns "raw": go on in raw REPL)
#   run_user(fn, *args)            fn(*args) as code typed at the console: its builtins
#                                  overrides (builtins.x = ...) are active only inside; the
#                                  heap is unlocked afterwards
#   reset_request(max_ms)          a soft reset is under way: from now on the VM is rebuilt
#                                  whatever happens (torn down after max_ms at the latest)
#   info() -> dict                 board, cpu, clock, ram, heap, entropy (see below)
#   watch_fd(fd, write) fd_handler(fn)   unix port only: the next idle wait polls host
#                                  socket fd as well; once it is ready fn is scheduled
import _hal
from _hal import *  # noqa: F401,F403

TICKS_PERIOD = 1 << 30


def info():
    """Board facts for `hal.info()` and the README's board table."""
    d = _hal.info()
    d["ticks_period"] = TICKS_PERIOD
    return d
