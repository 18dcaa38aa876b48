// ata.c: board.h's disk for x86_64: the first ATA disk on the PC's primary IDE channel
// (QEMU `-drive file=...,format=raw,if=ide,index=0`), LBA28, polled PIO, interrupts masked
// at the drive (nIEN), READ/WRITE MULTIPLE with the largest DRQ block the drive offers
// (QEMU: 16 sectors; one host request per block instead of per sector). QEMU completes a
// block's write to the host image before it drops BSY, so what was acknowledged here
// survives a SIGKILL of QEMU.
#include <stdbool.h>
#include "board.h"
#include "py/mperrno.h"
#include "x86.h"

#define ATA_DATA        (0x1f0)
#define ATA_ERROR       (0x1f1)
#define ATA_COUNT       (0x1f2)
#define ATA_LBA0        (0x1f3)
#define ATA_LBA1        (0x1f4)
#define ATA_LBA2        (0x1f5)
#define ATA_DRIVE       (0x1f6)
#define ATA_STATUS      (0x1f7)     // reading it acknowledges an interrupt
#define ATA_CMD         (0x1f7)
#define ATA_CTRL        (0x3f6)
#define ATA_ALTSTATUS   (0x3f6)
#define ST_ERR          (0x01)
#define ST_DRQ          (0x08)
#define ST_DF           (0x20)
#define ST_BSY          (0x80)
#define CMD_READ        (0x20)
#define CMD_WRITE       (0x30)
#define CMD_READ_MULTIPLE  (0xc4)
#define CMD_WRITE_MULTIPLE (0xc5)
#define CMD_SET_MULTIPLE   (0xc6)
#define CMD_FLUSH       (0xe7)
#define CMD_IDENTIFY    (0xec)
#define CTRL_NIEN       (0x02)
#define SPIN_MAX        (10000000)  // status polls before a command counts as failed
#define BATCH_MAX       (256)       // sectors per command (count 0 means 256)

static uint32_t sectors;
static uint32_t mult = 1;       // sectors per DRQ block
static char model[41];

// Wait until BSY clears, then for DRQ if asked; false on error, device fault or timeout.
static bool wait_ready(bool drq) {
    for (int i = 0; i < SPIN_MAX; i++) {
        uint8_t st = inb(ATA_STATUS);
        if (st == 0xff) {
            return false;               // floating bus: no controller
        }
        if (st & ST_BSY) {
            continue;
        }
        if (st & (ST_ERR | ST_DF)) {
            return false;
        }
        if (!drq || (st & ST_DRQ)) {
            return true;
        }
    }
    return false;
}

static void select_lba(uint32_t lba, uint32_t n) {
    outb(ATA_DRIVE, 0xe0 | ((lba >> 24) & 0x0f));
    outb(ATA_COUNT, n & 0xff);
    outb(ATA_LBA0, lba & 0xff);
    outb(ATA_LBA1, (lba >> 8) & 0xff);
    outb(ATA_LBA2, (lba >> 16) & 0xff);
}

void ata_init(void) {
    outb(ATA_CTRL, CTRL_NIEN);
    outb(ATA_DRIVE, 0xa0);
    for (int i = 0; i < 4; i++) {
        inb(ATA_ALTSTATUS);             // 400 ns for the drive select to settle
    }
    uint8_t st = inb(ATA_STATUS);
    if (st == 0xff || st == 0x00) {
        return;                         // no controller, or no drive 0
    }
    outb(ATA_CMD, CMD_IDENTIFY);
    if (!wait_ready(true)) {
        return;                         // an ATAPI device or none: not a disk
    }
    uint16_t id[256];
    for (int i = 0; i < 256; i++) {
        id[i] = inw(ATA_DATA);
    }
    for (int i = 0; i < 20; i++) {      // words 27..46, two characters each, big end first
        model[2 * i] = id[27 + i] >> 8;
        model[2 * i + 1] = id[27 + i] & 0xff;
    }
    for (int i = 39; i >= 0 && model[i] == ' '; i--) {
        model[i] = 0;
    }
    sectors = id[60] | (uint32_t)id[61] << 16;  // LBA28 capacity
    uint32_t max = id[47] & 0xff;                // largest DRQ block for READ/WRITE MULTIPLE
    if (max > 1) {
        outb(ATA_DRIVE, 0xe0);
        outb(ATA_COUNT, max);
        outb(ATA_CMD, CMD_SET_MULTIPLE);
        if (wait_ready(false)) {
            mult = max;
        }
    }
}

uint32_t board_disk_sectors(void) {
    return sectors;
}

const char *board_disk_name(void) {
    return model[0] ? model : "ATA disk";
}

int board_disk_read(uint32_t lba, uint8_t *buf, uint32_t n) {
    while (n > 0) {
        uint32_t k = n < BATCH_MAX ? n : BATCH_MAX;
        if (!wait_ready(false)) {
            return -MP_EIO;
        }
        select_lba(lba, k);
        outb(ATA_CMD, mult > 1 ? CMD_READ_MULTIPLE : CMD_READ);
        for (uint32_t s = 0; s < k; s += mult) {
            if (!wait_ready(true)) {
                return -MP_EIO;
            }
            uint64_t words = 256 * (k - s < mult ? k - s : mult);
            __asm volatile ("rep insw" : "+D" (buf), "+c" (words) : "d" (ATA_DATA) : "memory");
        }
        lba += k;
        n -= k;
    }
    return 0;
}

int board_disk_write(uint32_t lba, const uint8_t *buf, uint32_t n) {
    while (n > 0) {
        uint32_t k = n < BATCH_MAX ? n : BATCH_MAX;
        if (!wait_ready(false)) {
            return -MP_EIO;
        }
        select_lba(lba, k);
        outb(ATA_CMD, mult > 1 ? CMD_WRITE_MULTIPLE : CMD_WRITE);
        for (uint32_t s = 0; s < k; s += mult) {
            if (!wait_ready(true)) {
                return -MP_EIO;
            }
            uint64_t words = 256 * (k - s < mult ? k - s : mult);
            __asm volatile ("rep outsw" : "+S" (buf), "+c" (words) : "d" (ATA_DATA) : "memory");
        }
        if (!wait_ready(false)) {       // the last sector is on the image once BSY drops
            return -MP_EIO;
        }
        lba += k;
        n -= k;
    }
    return 0;
}

int board_disk_flush(void) {
    if (!wait_ready(false)) {
        return -MP_EIO;
    }
    outb(ATA_DRIVE, 0xe0);
    outb(ATA_CMD, CMD_FLUSH);
    return wait_ready(false) ? 0 : -MP_EIO;
}
