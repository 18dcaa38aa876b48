# kernel/params: every tunable of the kernel, once, with its unit (xv6's param.h).
#
# Owns: numbers only. No imports of other kernel modules, no logic. A module that needs a
# limit imports it from here; changing a value here is the only way to tune the kernel.
# Where a hot path needs a value inline (a const() in sched.py, lifecycle.py, clock.py, a
# #define in boards/common/*.c), the copy says which value it is in its comment
# (`# params.NAME`, `// params.NAME - 1`) and tests/unit/test_params.py fails when the two
# differ, or when a copy of a value from here has no such comment.
from micropython import const

# Scheduler
WATCHDOG_BUDGET_MS = const(200)  # ms one step of a task may run before the watchdog hits it
IDLE_MAX_MS = const(1000)  # ms the idle loop sleeps at most when no deadline is pending
CONSOLE_POLL_MS = const(10)  # ms between console checks while tasks wait on input but none
#                              is runnable and the clock cannot wake on input (virtual clock)
MEMORY_RESERVE_B = const(2048)  # bytes held back to report and recover from MemoryError
TASK_NAME_MAX = const(24)  # characters kept of a task's name
TASKS_ENDED_KEPT = const(16)  # ended tasks kept for ps / join after they end

# Accounting: per-task counters carry into a coarser field before they leave small-int range
# on 32-bit boards (small ints are 31-bit signed there).
CPU_CARRY_US = const(1 << 28)  # cpu_us folds into cpu_s when it passes this (~268 s)
ALLOC_CARRY_B = const(1 << 28)  # alloc_b folds into alloc_kb when it passes this (256 MiB)
COUNTER_MASK = const((1 << 30) - 1)  # steps and other pure counters wrap here

# Time
TICKS_PERIOD = const(1 << 30)  # ticks_ms / ticks_us wrap here (same as hal.TICKS_PERIOD)
MAX_SLEEP_MS = const(1 << 28)  # ms, longest single sleep (deadlines must stay < half a period)

# Virtual clock (tests, simulation)
VCLOCK_STEP_US_MIN = const(20)  # µs a task step costs at least on the virtual clock
VCLOCK_STEP_US_MAX = const(120)  # µs a task step costs at most (seeded jitter in between)

# Kernel log
LOG_LINES = const(128)  # lines kept in the kernel log ring
LOG_LINE_MAX = const(160)  # characters kept per log line

# Sync
QUEUE_MAXSIZE_DEFAULT = const(0)  # items; 0 means unbounded (CPython's asyncio.Queue default)

# Service manager (kernel/units.py, kernel/service.py, kernel/manager.py)
SVC_NAME_MAX = const(32)  # characters in a unit name
SVC_RESTART_MS = const(100)  # ms, default restart_sec (systemd's RestartSec=100ms)
SVC_BACKOFF_MAX_MS = const(30000)  # ms, cap on a backoff delay unless the unit sets one
SVC_BACKOFF_RESET_MS = const(10000)  # ms a run must last to reset the backoff attempt count
SVC_START_LIMIT_BURST = const(5)  # starts allowed per interval (systemd's StartLimitBurst)
SVC_START_LIMIT_INTERVAL_MS = const(10000)  # ms, the start limit's window
SVC_START_TIMEOUT_MS = const(10000)  # ms a notify/oneshot service may take to be ready
SVC_STOP_TIMEOUT_MS = const(3000)  # ms a stopping service gets before it is killed
SVC_STARVE_MS = const(100)  # ms a timer may be late before deadlines move by the lateness
#                             (the console's foreground code starved the scheduler)
SVC_TIMER_MAX_MS = const(60000)  # ms the manager's timer task sleeps at most

# Backoff (kernel/backoff.py)
BACKOFF_RATE_WINDOW = const(16)  # outcomes the adaptive backoff's failure rate looks back on
BACKOFF_ADAPT_SHIFT = const(8)  # doublings of the base delay at a 100% failure rate (x256)

# Supervision (kernel/supervisor.py): OTP's defaults
SUP_INTENSITY = const(1)  # failures a group absorbs per period before it escalates
SUP_PERIOD_MS = const(5000)  # ms, the sliding window of the intensity

# Journal (kernel/journal.py)
JOURNAL_EVENTS = const(128)  # lifecycle events kept in the journal ring
JOURNAL_RATE_BURST = const(10)  # events one service may log per rate interval
JOURNAL_RATE_INTERVAL_MS = const(1000)  # ms, the journal's per-service rate window
JOURNAL_RATE_NAMES = const(64)  # names with rate state kept before expired ones are swept

# Discovery (kernel/discovery.py)
DISC_CACHE_TTL_MS = const(5000)  # ms a cached pattern result lives (any change ends it sooner)
DISC_CACHE_MAX = const(64)  # cached patterns per readiness filter; past it the cache restarts
DISC_TOMBSTONES = const(64)  # deregistered instances kept so watches see them leave

# Circuit breakers (kernel/circuit.py, kernel/breakers.py): resilience4j's defaults
BREAKER_WINDOW_SIZE = const(100)  # calls (count window) or seconds (time window) it looks at
BREAKER_MIN_CALLS = const(100)  # calls in the window before a rate may open it
BREAKER_FAILURE_RATE = const(50)  # %, failed calls at or above which it opens
BREAKER_SLOW_CALL_MS = const(60000)  # ms, a call at least this long counts as slow
BREAKER_SLOW_RATE = const(100)  # %, slow calls at or above which it opens
BREAKER_WAIT_OPEN_MS = const(60000)  # ms open before calls are let through to try again
BREAKER_HALF_OPEN_CALLS = const(10)  # trial calls in half_open; their outcome decides
BREAKER_WAIT_MULTIPLIER = const(1)  # wait growth per failed trial (1: none; e.g. 2 doubles)
BREAKER_WAIT_MAX_MS = const(600000)  # ms, the longest a growing wait gets
BREAKER_COUNT_MAX = const(10000)  # calls a count window holds at most (1 byte per call)
BREAKER_TIME_MAX_SEC = const(3600)  # seconds a time window spans at most (a bucket each)
BREAKER_WAIT_LIMIT_MS = const(86400000)  # ms, wait_open_sec and wait_max_sec at most

# Health probes (kernel/health.py): Kubernetes' defaults
HEALTH_PERIOD_MS = const(10000)  # ms, period_sec
HEALTH_TIMEOUT_MS = const(1000)  # ms, timeout_sec
HEALTH_SUCCESS_THRESHOLD = const(1)  # consecutive successes to pass again after failing
HEALTH_FAILURE_THRESHOLD = const(3)  # consecutive failures to fail
HEALTH_HISTORY = const(10)  # results kept per probe (health_report's history)
HEALTH_POLL_MS = const(5)  # ms between socket polls of a tcp/http probe
HEALTH_HTTP_MAX_B = const(4096)  # bytes of an http probe's response read at most
HEALTH_BATCH = const(16)  # probes the monitor runs in one step before it yields (a step
#                          must stay well inside the watchdog budget; ~0.25 ms a run on ARM)
HEALTH_FUSED_BATCH = const(128)  # fused runs (kernel/health.py) in one step: ~45 us each on ARM
HEALTH_SLACK_MS = const(50)  # ms a probe run may come early (at most 1/8 of its period) to
#                              share the monitor's wake with the probe due before it
HEALTH_ALIGN_SHIFT = const(1)  # a liveness/readiness probe's first period after its service
#  starts may be cut by up to period >> this (1/2) to share that wake: services started over
#  a few hundred ms (a job of 100 services) then share 1-2 wakes a second, not one per 50 ms

# Console shell (services/shell.py)
SHELL_LINE_MAX = const(512)  # bytes, longest command line; longer input is dropped
SHELL_HISTORY = const(20)  # lines kept for the up arrow
SHELL_ALERTS_HELD = const(8)  # alert lines held while foreground code owns the console
RAW_PASTE_WINDOW = const(128)  # bytes, raw-paste flow-control window (mpremote run)
RAW_SOURCE_MAX = const(65536)  # bytes, longest program the raw REPL accepts
SOFT_RESET_MAX_MS = const(2000)  # ms the services get to stop at a soft reset; then the VM goes
SHELL_RESTART_MS = const(100)  # ms before a crashed shell task starts its shell again

# Storage (kernel/storage.py): littlefs v2 on the board's disk (hal.Disk)
FS_BLOCK_B = const(4096)  # bytes per littlefs block (8 disk sectors)
FS_READ_B = const(512)  # bytes, littlefs read_size: one sector, no partial reads
FS_PROG_B = const(512)  # bytes, littlefs prog_size: one sector, no read-merge-write
FS_LOOKAHEAD_B = const(128)  # bytes of littlefs' allocation bitmap at least (8 blocks a
#                               byte); mount sizes it to cover the whole disk, so one scan
#                               maps every free block (kernel/storage.py, free space)
FS_METADATA_MAX_B = const(1024)  # bytes a littlefs metadata pair's log may use (of the 4 KiB
#                                  block): compaction costs ~ its square; 0 = the block
FS_WRITE_CHUNK_B = const(4096)  # bytes per piece of storage.write() (a yield between)
FS_BLANK_CHECK_B = const(8192)  # bytes read at the disk's start to call it blank

# Journal on disk (kernel/jstore.py)
JOURNAL_FLUSH_MS = const(1000)  # ms at most before a queued line reaches the disk
JOURNAL_FILE_B = const(32768)  # bytes in the current journal file before it rotates
JOURNAL_FILES = const(4)  # journal files kept (the current one and 3 rotated)
JOURNAL_STEP_BUDGET_MS = const(2000)  # ms, journald's step watchdog: littlefs' allocator
#                                       scans the whole disk once per pass through its free space
FS_FULL_CHECK_TICKS = const(10)  # journald periods between checks of the free space on /
#                                   (littlefs' allocator bitmap: no walk, storage.free_blocks)
FS_FULL_BLOCKS = const(8)  # free littlefs blocks (32 KiB) at or below which / counts as full

# Metrics (kernel/metrics.py)
METRIC_SAMPLE_MS = const(1000)  # ms between samples of every series (and availability)
METRIC_HISTORY = const(60)  # samples kept per series (the history ring)
METRIC_SLICE = const(16)  # services sampled (and their alert rules evaluated) per step of
#                           the sampler task: ~1.3 ms each on ARM, so a step stays ~20 ms
METRIC_SLICE_MS = const(20)  # ms (ticks) after which a slice ends even short of METRIC_SLICE
#                              (a slow sample, a GC pause): a round never nears the watchdog
METRIC_PROBE_SLICE = const(8)  # probes followed anew or counted in full per step of the
#                                sampler's read of the health monitor (~3 ms each on ARM)
METRIC_PROBE_LOOKS = const(256)  # probes read per step of it at most (~60 us each on ARM)
METRIC_SERIES_MAX = const(32)  # series one service may have
METRIC_BUCKETS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000)  # histogram
#                 upper bounds (e.g. ms); observations above the last land in one more bucket
AVAIL_SLOTS = const(60)  # availability: samples per minute slot and minute slots per hour

# Alerts (kernel/alerting.py): the kernel's own rules for every service
ALERT_RESTARTS_PER_MIN = const(3)  # automatic restarts in a minute above which it warns
ALERT_CPU_PCT = const(50)  # % CPU of a service's task above which it warns (held ALERT_FOR_MS)
ALERT_ALLOC_B_PER_S = const(262144)  # bytes allocated per second above which it warns (held)
ALERT_FOR_MS = const(5000)  # ms the CPU and allocation conditions must hold before firing
ALERTS_KEPT = const(32)  # alerts kept; past it the oldest resolved one is dropped

# Fault tolerance (kernel/detectors.py, kernel/faults.py, kernel/recovery.py, kernel/inject.py)
FAULT_FAILURES = const(3)  # failures: crashes in FAULT_FAILURES_WINDOW_MS that make a fault
FAULT_FAILURES_WINDOW_MS = const(60000)  # ms, the failures detector's window
FAULT_FLAPS = const(4)  # flapping: health/readiness changes in FAULT_FLAP_WINDOW_MS
FAULT_FLAP_WINDOW_MS = const(60000)  # ms, the flapping detector's window
FAULT_P99_MS = const(1000)  # latency: p99 bound in ms ...
FAULT_LATENCY_FOR_MS = const(10000)  # ... held this long (ms) before it is a fault
FAULT_CPU_PCT = const(80)  # cpu_quota: % CPU of the service's task ...
FAULT_ALLOC_B_PER_S = const(1048576)  # alloc_quota: bytes allocated per second ...
FAULT_QUOTA_FOR_MS = const(5000)  # ... held this long (ms)
FAULT_BREAKER_OPEN_MS = const(30000)  # breaker_open: ms a breaker may stay open
FAULT_GOOD_CONFIG_MS = const(10000)  # ms a service must stay ready on a config version
#                                     before config_reload rolls back to it
FAULT_TICK_MS = const(1000)  # ms between checks of the held (time-based) detectors
FAULT_JOURNAL = const(128)  # fault journal entries kept (a ring)
FAULT_INJECTED_MAX = const(32)  # injected faults active at once
FAULT_SLOW_MS = const(500)  # ms an injected `slow` fault adds to a call unless told
FAULT_FLAP_PERIOD_MS = const(1000)  # ms between the health flips of an injected `flap`
FAULT_MEMORY_CHUNK_B = const(65536)  # bytes of an injected `memory` fault's first allocations
#                                      (halved at each MemoryError, down to 16)
FAULT_SCENARIO_TAIL_MS = const(10000)  # ms a scenario runs on past its last entry
FAULT_SCENARIO_MAX = const(256)  # entries in one scenario

# Config (kernel/configs.py, kernel/configstore.py)
CONFIG_DIR = "/etc/config"  # where NAME.json config files are read (a filesystem path)
CONFIG_HISTORY = const(16)  # config versions kept per service
CONFIG_ROLLBACK_MS = const(10000)  # ms a new config version is watched (unit rollback_sec)
CONFIG_WATCH_MS = const(100)  # ms between health checks while a new version is watched
CONFIG_STATE_DIR = "/var/lib/config"  # NAME.json: a service's versions, kept across reboots
SECRET_KEY_PATH = "/etc/secret.key"  # the secrets key (kernel/vault.py), made at first boot

# Shell's live views (services/metricscmd.py)
TOP_REFRESH_MS = const(1000)  # ms between redraws of `top`
TOP_POLL_MS = const(50)  # ms between checks for the key that ends `top`

# Network (kernel/netwait.py, kernel/streams.py, services/netd.py, net commands, HTTP)
NET_POLL_MS = const(10)  # ms between socket re-checks where the stack cannot wake tasks
#                          (the unix port's host sockets; the boards are woken by _net)
NET_DHCP_TIMEOUT_MS = const(15000)  # ms netd waits for a DHCP lease before it logs a warning
NET_STREAM_CHUNK = const(1460)  # bytes a StreamReader asks the socket for at a time
NET_CONNECT_TIMEOUT_MS = const(10000)  # ms open_connection() waits for the handshake
NET_DISCARD_MAX = const(16384)  # bytes Stream.discard() drops at most before a close
NET_BLOCK_SLICE_MS = const(20)  # ms a blocked socket call lets others run before it re-checks
NET_BLOCK_DEPTH_MAX = const(4)  # blocked socket calls nested at most (kernel/netwait.py)
PING_COUNT = const(4)  # echo requests `ping` sends unless told otherwise
PING_TIMEOUT_MS = const(1000)  # ms `ping` waits for each reply
PING_INTERVAL_MS = const(200)  # ms between two echo requests
WGET_TIMEOUT_MS = const(10000)  # ms `wget` waits for the whole response
WGET_BODY_MAX = const(4096)  # bytes of the body `wget` prints
HTTP_PORT = const(80)  # the guest's HTTP service port
HTTP_HEADER_MAX = const(4096)  # bytes of request line + headers; beyond: 413 and close
HTTP_LINE_MAX = const(1024)  # bytes of one request or header line; beyond: 413 and close
HTTP_BODY_MAX = const(16384)  # bytes of a request body; beyond: 413 and close
HTTP_HEAD_TIMEOUT_MS = const(5000)  # ms to send a whole request head (slowloris): 408
HTTP_IDLE_MS = const(10000)  # ms a keep-alive connection may sit idle before it is closed
HTTP_CONN_MAX = const(32)  # connections served at once; more wait in the listen backlog
HTTP_HEAP_SAMPLE_MS = const(10000)  # ms /metrics reuses a heap-free sample (gc.mem_free walks)
HTTP_HEAP_SAMPLE_BUDGET_MS = const(1000)  # watchdog budget of that sample's one step

# Load balancer (kernel/balancer.py, kernel/lbstrat.py, kernel/lbcall.py)
LB_WEIGHT_MAX = const(1000)  # largest meta['weight']; a missing or bad one counts as 1
LB_WARNING_WEIGHT_PCT = const(25)  # health_based: % of its weight a 'warning' instance keeps
LB_PANIC_PCT = const(50)  # panic_threshold: % of instances ready below which all are used
LB_SLOW_START_MS = const(0)  # slow_start_sec default: 0, no ramp
LB_SLOW_START_MIN_PCT = const(10)  # % of its weight a ramping instance starts at (Envoy's)
LB_DRAIN_MS = const(5000)  # drain_sec default: ms a stopping instance's requests may finish
LB_RING_VNODES = const(160)  # consistent_hash: points per instance and unit of weight (ketama)
LB_RING_POINTS_MAX = const(65536)  # points on one ring at most (vnodes scale down past it)
LB_MAGLEV_TABLE = const(65537)  # maglev: lookup table entries (a prime; 2 bytes each)
LB_MAGLEV_TABLE_SMALL = const(8191)  # maglev's default where the heap is below the next
LB_MAGLEV_BIG_HEAP_B = const(50331648)  # bytes of heap from which the 65537 table is the
#   default: the boards (16 and 32 MiB) build one in seconds of emulated CPU, 256 KiB at peak
LB_TABLE_MAX = const(1000003)  # largest maglev table_size accepted
LB_VNODES_MAX = const(10000)  # largest consistent_hash vnodes accepted
LB_TABLE_STEP = const(4096)  # Maglev table probes per step of a build task (~10 ms on ARM)
LB_KEY_CACHE = const(256)  # text keys whose hash is kept (per kind); past it the cache restarts
LB_HASH_TRIES = const(20)  # ip_hash rehashes past unusable instances before round robin
LB_EWMA_SHIFT = const(3)  # latency EWMA weight of a new sample: 1 / 2**shift
