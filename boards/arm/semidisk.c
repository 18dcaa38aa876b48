// semidisk.c: board.h's disk for mps2-an385, which has no storage controller: a host image
// reached through ARM semihosting file I/O. QEMU's command line names it (`-append
// disk=PATH`, read back with SYS_GET_CMDLINE); the image must exist (make run creates it).
// Every SYS_WRITE is a write() on the host file, done before the trap returns, so a sector
// that was acknowledged here is in the host's page cache and survives a SIGKILL of QEMU.
#include <stdbool.h>
#include <string.h>
#include "board.h"
#include "mps2.h"
#include "py/mperrno.h"

#define CMDLINE_MAX (256)
#define OPEN_RW_BINARY (3)      // fopen mode "r+b"

static int fd = -1;
static uint32_t sectors;
static uint32_t pos = UINT32_MAX;   // the host file's offset after our last call, if known
static char path[CMDLINE_MAX];

// The value of `disk=` in the semihosting command line, copied into path; false if none.
static bool disk_arg(void) {
    static char line[CMDLINE_MAX];
    struct {
        char *buf;
        uint32_t len;
    } block = { line, sizeof(line) - 1 };
    if (semihost(SYS_GET_CMDLINE, &block) != 0) {
        return false;
    }
    line[block.len < sizeof(line) ? block.len : sizeof(line) - 1] = 0;
    for (char *p = line; *p; p++) {
        if ((p == line || p[-1] == ' ') && strncmp(p, "disk=", 5) == 0) {
            size_t n = strcspn(p + 5, " ");
            if (n == 0 || n >= sizeof(path)) {
                return false;
            }
            memcpy(path, p + 5, n);
            path[n] = 0;
            return true;
        }
    }
    return false;
}

void semidisk_init(void) {
    if (!disk_arg() || strcmp(path, "none") == 0) {
        return;
    }
    uint32_t open_args[3] = { (uint32_t)path, OPEN_RW_BINARY, strlen(path) };
    int f = (int)semihost(SYS_OPEN, open_args);
    if (f < 0) {
        return;
    }
    uint32_t len_args[1] = { (uint32_t)f };
    int len = (int)semihost(SYS_FLEN, len_args);
    if (len < BOARD_SECTOR_B) {
        semihost(SYS_CLOSE, len_args);
        return;
    }
    fd = f;
    sectors = (uint32_t)len / BOARD_SECTOR_B;
}

uint32_t board_disk_sectors(void) {
    return sectors;
}

const char *board_disk_name(void) {
    return path;
}

static bool seek(uint32_t lba) {
    uint32_t off = lba * BOARD_SECTOR_B;
    if (off == pos) {
        return true;
    }
    uint32_t args[2] = { (uint32_t)fd, off };
    if (semihost(SYS_SEEK, args) != 0) {
        pos = UINT32_MAX;
        return false;
    }
    pos = off;
    return true;
}

// SYS_READ and SYS_WRITE return the number of bytes NOT transferred.
int board_disk_read(uint32_t lba, uint8_t *buf, uint32_t n) {
    if (fd < 0 || !seek(lba)) {
        return -MP_EIO;
    }
    uint32_t args[3] = { (uint32_t)fd, (uint32_t)buf, n * BOARD_SECTOR_B };
    uint32_t left = semihost(SYS_READ, args);
    pos = UINT32_MAX;
    if (left != 0) {
        return -MP_EIO;
    }
    pos = (lba + n) * BOARD_SECTOR_B;
    return 0;
}

int board_disk_write(uint32_t lba, const uint8_t *buf, uint32_t n) {
    if (fd < 0 || !seek(lba)) {
        return -MP_EIO;
    }
    uint32_t args[3] = { (uint32_t)fd, (uint32_t)buf, n * BOARD_SECTOR_B };
    uint32_t left = semihost(SYS_WRITE, args);
    pos = UINT32_MAX;
    if (left != 0) {
        return -MP_EIO;
    }
    pos = (lba + n) * BOARD_SECTOR_B;
    return 0;
}

int board_disk_flush(void) {
    return fd < 0 ? -MP_EIO : 0;    // each write already reached the host file
}
