// board_unix.c: board.h for MicroPython's unix port, so unit tests run the same HAL C code.
//
// Time from CLOCK_MONOTONIC/CLOCK_REALTIME, "interrupts" from a periodic SIGALRM that is
// started the first time the step watchdog is armed, console bytes from stdin when
// something is waiting there, host sockets the kernel waits on polled with it while idle,
// entropy from getrandom(). poweroff exits the process.
// The disk is the image file named by $MULTIOS_DISK (none when unset), for unit tests of
// the block device and littlefs on it.
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include "py/gc.h"
#include "../common/board.h"
#include "../common/hal.h"

#define TIMER_PERIOD_US (2000)

const board_info_t board_info = {
    .name = "unix",
    .cpu = "host CPU (MicroPython unix port)",
    .clock = "CLOCK_MONOTONIC",
    .entropy = "getrandom()",
    .rtc = "CLOCK_REALTIME",
    .timer_hz = 1000000 / TIMER_PERIOD_US,
};

void board_init(void) {
}

// The unix port's stand-in for the boot command line: $MULTIOS_CMDLINE.
const char *board_cmdline(void) {
    const char *s = getenv("MULTIOS_CMDLINE");
    return s != NULL ? s : "";
}

uint64_t board_ticks_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

// The console (stdin) first, then the host sockets tasks wait on (board_watch_fd).
#define WATCH_MAX (64)
static struct pollfd watched[1 + WATCH_MAX];
static int n_watched;

bool board_watch_fd(int fd, bool write) {
    short ev = write ? POLLOUT : POLLIN;
    for (int i = 1; i <= n_watched; i++) {
        if (watched[i].fd == fd) {
            watched[i].events |= ev;
            return true;
        }
    }
    if (n_watched == WATCH_MAX) {
        return false;
    }
    n_watched++;
    watched[n_watched].fd = fd;
    watched[n_watched].events = ev;
    return true;
}

void board_wfi(void) {
    watched[0].fd = 0;
    watched[0].events = POLLIN;
    // The next "interrupt": a console byte, a watched socket ready, or 1 ms.
    if (poll(watched, 1 + n_watched, 1) <= 0 || n_watched == 0) {
        return;
    }
    int kept = 0;
    for (int i = 1; i <= n_watched; i++) {
        if (watched[i].revents == 0) {
            watched[++kept] = watched[i];
        }
    }
    if (kept < n_watched) {
        n_watched = kept;
        hal_fd_ready();
    }
}

void board_console_tx(const char *s, size_t n) {
    while (n > 0) {
        ssize_t w = write(1, s, n);
        if (w <= 0) {
            return;
        }
        s += w;
        n -= w;
    }
}

void board_console_poll(void) {
    struct pollfd p = { .fd = 0, .events = POLLIN };
    while (poll(&p, 1, 0) == 1 && (p.revents & POLLIN)) {
        unsigned char c;
        if (read(0, &c, 1) != 1) {
            return;
        }
        hal_console_rx_isr(c);
    }
}

static sigset_t alarm_set(void) {
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGALRM);
    return s;
}

uint32_t board_irq_disable(void) {
    sigset_t s = alarm_set(), old;
    sigprocmask(SIG_BLOCK, &s, &old);
    return sigismember(&old, SIGALRM);
}

void board_irq_restore(uint32_t state) {
    sigset_t s = alarm_set();
    if (!state) {
        sigprocmask(SIG_UNBLOCK, &s, NULL);
    }
}

uint64_t board_time_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

uint64_t board_entropy(void) {
    uint64_t seed = 0;
    if (getrandom(&seed, sizeof(seed), 0) != sizeof(seed)) {
        seed = board_ticks_us() ^ ((uint64_t)getpid() << 32);
    }
    return seed;
}

static void on_alarm(int sig) {
    (void)sig;
    hal_timer_isr();
}

void board_wdt_enable(void) {
    static int started;
    if (started) {
        return;
    }
    started = 1;
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_alarm;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGALRM, &sa, NULL);
    struct itimerval it = { { 0, TIMER_PERIOD_US }, { 0, TIMER_PERIOD_US } };
    setitimer(ITIMER_REAL, &it, NULL);
}

void board_poweroff(int code) {
    exit(code);
}

void board_reset(void) {
    exit(0);
}

// ---- disk: an image file ----

static int disk_fd = -2;    // -2: not opened yet, -1: none
static uint32_t disk_n;

static void disk_open(void) {
    if (disk_fd != -2) {
        return;
    }
    const char *path = getenv("MULTIOS_DISK");
    disk_fd = path ? open(path, O_RDWR) : -1;
    if (disk_fd >= 0) {
        off_t len = lseek(disk_fd, 0, SEEK_END);
        disk_n = len > 0 ? (uint32_t)(len / BOARD_SECTOR_B) : 0;
    }
}

uint32_t board_disk_sectors(void) {
    disk_open();
    return disk_n;
}

const char *board_disk_name(void) {
    return getenv("MULTIOS_DISK");
}

int board_disk_read(uint32_t lba, uint8_t *buf, uint32_t n) {
    disk_open();
    size_t len = (size_t)n * BOARD_SECTOR_B;
    return pread(disk_fd, buf, len, (off_t)lba * BOARD_SECTOR_B) == (ssize_t)len ? 0 : -EIO;
}

int board_disk_write(uint32_t lba, const uint8_t *buf, uint32_t n) {
    disk_open();
    size_t len = (size_t)n * BOARD_SECTOR_B;
    return pwrite(disk_fd, buf, len, (off_t)lba * BOARD_SECTOR_B) == (ssize_t)len ? 0 : -EIO;
}

int board_disk_flush(void) {
    disk_open();
    return disk_fd >= 0 ? 0 : -EIO;
}

// The unix port's own gc_collect is wrapped at link time (-Wl,--wrap=gc_collect) so the
// allocation counter survives collections, and so that the scan start moves (gcstart.c).
void __real_gc_collect(void);
void __wrap_gc_collect(void) {
    hal_gc_collect_hook();
    __real_gc_collect();
    hal_gc_collect_done();
}
