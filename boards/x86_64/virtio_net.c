// virtio_net.c: QEMU's virtio-net PCI NIC (-nic ...,model=virtio-net-pci), through its legacy
// I/O-port interface, as the driver for boards/common/net.h.
//
// PCI: bus 0 is scanned through configuration mechanism #1 (ports 0xcf8/0xcfc) for vendor
// 0x1af4, device 0x1000 (transitional virtio-net); BAR0 is its I/O window, the interrupt
// line (assigned by the firmware) goes through the 8259 PICs. Two virtqueues in .bss (the
// first GiB is mapped 1:1, so their addresses are physical): receive (0), with RX_BUFS
// buffers always posted, and transmit (1), with TX_BUFS copies in flight. The interrupt
// handler only reads the ISR status (which deasserts the line) and calls net_irq().
#include <stddef.h>
#include <string.h>
#include "board.h"
#include "net.h"
#include "x86.h"

#define PCI_ADDR        (0xcf8)
#define PCI_DATA        (0xcfc)
#define VIRTIO_VENDOR   (0x1af4)
#define VIRTIO_NET_DEV  (0x1000)

// Legacy virtio PCI registers (offsets in BAR0).
#define VIO_FEATURES    (0x00)
#define VIO_GUEST_FEAT  (0x04)
#define VIO_QUEUE_PFN   (0x08)
#define VIO_QUEUE_SIZE  (0x0c)
#define VIO_QUEUE_SEL   (0x0e)
#define VIO_QUEUE_NOTIFY (0x10)
#define VIO_STATUS      (0x12)
#define VIO_ISR         (0x13)
#define VIO_NET_MAC     (0x14)  // device config, without MSI-X
#define VIO_NET_STATUS  (0x1a)
#define ST_ACK          (1)
#define ST_DRIVER       (2)
#define ST_DRIVER_OK    (4)
#define F_NET_MAC       (1u << 5)
#define F_NET_STATUS    (1u << 16)
#define NET_LINK_UP     (1)

#define Q_MAX           (1024)  // the largest queue we lay out (QEMU's default is 256)
#define RX_BUFS         (64)
#define TX_BUFS         (32)
#define HDR_LEN         (10)    // struct virtio_net_hdr, without mergeable buffers
#define BUF_LEN         (HDR_LEN + 1514)
#define DESC_WRITE      (2)

typedef struct {
    uint64_t addr;
    uint32_t len;
    uint16_t flags, next;
} vq_desc_t;

typedef struct {
    uint16_t size;
    vq_desc_t *desc;
    volatile uint16_t *avail;   // flags, idx, ring[size]
    volatile uint16_t *used;    // flags, idx, then {u32 id, u32 len}[size]
    uint16_t avail_idx, used_seen;
} vq_t;

// One page-aligned area per queue: descriptors and avail ring, then (next page) used ring.
#define VQ_BYTES (((16 * Q_MAX + 6 + 2 * Q_MAX + 4095) & ~4095) + ((6 + 8 * Q_MAX + 4095) & ~4095))
static uint8_t vq_mem[2][VQ_BYTES] __attribute__((aligned(4096)));
static uint8_t rx_buf[RX_BUFS][BUF_LEN] __attribute__((aligned(16)));
static uint8_t tx_buf[TX_BUFS][BUF_LEN] __attribute__((aligned(16)));
static vq_t rxq, txq;
static uint16_t io;
static bool has_status;

const char board_eth_name[] = "virtio-net";

static uint32_t pci_read(int dev, int off) {
    outl(PCI_ADDR, 0x80000000u | dev << 11 | (off & 0xfc));
    return inl(PCI_DATA);
}

static void pci_write(int dev, int off, uint32_t v) {
    outl(PCI_ADDR, 0x80000000u | dev << 11 | (off & 0xfc));
    outl(PCI_DATA, v);
}

static inline void barrier(void) {
    __asm volatile ("" : : : "memory");     // x86 keeps stores in order; the compiler must too
}

static bool vq_setup(vq_t *q, int index) {
    outw(io + VIO_QUEUE_SEL, index);
    uint16_t n = inw(io + VIO_QUEUE_SIZE);
    if (n == 0 || n > Q_MAX) {
        return false;
    }
    uint8_t *m = vq_mem[index];
    q->size = n;
    q->desc = (vq_desc_t *)m;
    q->avail = (volatile uint16_t *)(m + 16 * n);
    q->used = (volatile uint16_t *)(m + ((16 * n + 6 + 2 * n + 4095) & ~4095));
    q->avail_idx = q->used_seen = 0;
    outl(io + VIO_QUEUE_PFN, (uint32_t)((uintptr_t)m >> 12));
    return true;
}

static void vq_post(vq_t *q, uint16_t d) {
    q->avail[2 + q->avail_idx % q->size] = d;
    barrier();
    q->avail[1] = ++q->avail_idx;
}

static void rx_post(int i) {
    rxq.desc[i] = (vq_desc_t) { (uintptr_t)rx_buf[i], BUF_LEN, DESC_WRITE, 0 };
    vq_post(&rxq, i);
}

static void eth_isr(void) {
    inb(io + VIO_ISR);      // acknowledges: the line drops
    net_irq();
}

bool board_eth_init(uint8_t mac[6]) {
    int dev = -1;
    for (int d = 0; d < 32 && dev < 0; d++) {
        uint32_t id = pci_read(d, 0);
        if ((id & 0xffff) == VIRTIO_VENDOR && id >> 16 == VIRTIO_NET_DEV) {
            dev = d;
        }
    }
    if (dev < 0) {
        return false;
    }
    uint32_t bar0 = pci_read(dev, 0x10);
    if (!(bar0 & 1)) {
        return false;       // not an I/O BAR: not the legacy interface
    }
    io = bar0 & 0xfffc;
    pci_write(dev, 0x04, pci_read(dev, 0x04) | 0x5);   // I/O space, bus master
    int irq = pci_read(dev, 0x3c) & 0xff;
    outb(io + VIO_STATUS, 0);   // reset
    outb(io + VIO_STATUS, ST_ACK | ST_DRIVER);
    uint32_t feat = inl(io + VIO_FEATURES) & (F_NET_MAC | F_NET_STATUS);
    outl(io + VIO_GUEST_FEAT, feat);
    has_status = feat & F_NET_STATUS;
    if (!vq_setup(&rxq, 0) || !vq_setup(&txq, 1) || irq >= 16) {
        outb(io + VIO_STATUS, 0);
        return false;
    }
    for (int i = 0; i < 6; i++) {
        mac[i] = feat & F_NET_MAC ? inb(io + VIO_NET_MAC + i) : (uint8_t[]) { 0x52, 0x54, 0, 0x12, 0x34, 0x56 }[i];
    }
    for (int i = 0; i < RX_BUFS && i < rxq.size; i++) {
        rx_post(i);
    }
    board_irq_attach(irq, eth_isr);
    outb(io + VIO_STATUS, ST_ACK | ST_DRIVER | ST_DRIVER_OK);
    outw(io + VIO_QUEUE_NOTIFY, 0);
    return true;
}

bool board_eth_link(void) {
    return !has_status || (inw(io + VIO_NET_STATUS) & NET_LINK_UP);
}

err_t board_eth_tx(struct pbuf *p) {
    uint16_t used = txq.used[1];
    if ((uint16_t)(txq.avail_idx - used) >= TX_BUFS || p->tot_len > BUF_LEN - HDR_LEN) {
        return ERR_MEM;     // every copy still in flight
    }
    int i = txq.avail_idx % TX_BUFS;
    memset(tx_buf[i], 0, HDR_LEN);
    pbuf_copy_partial(p, tx_buf[i] + HDR_LEN, p->tot_len, 0);
    txq.desc[i] = (vq_desc_t) { (uintptr_t)tx_buf[i], HDR_LEN + p->tot_len, 0, 0 };
    vq_post(&txq, i);
    barrier();
    outw(io + VIO_QUEUE_NOTIFY, 1);
    return ERR_OK;
}

void board_eth_rx(void) {
    bool posted = false;
    while (rxq.used_seen != rxq.used[1]) {
        barrier();
        volatile uint32_t *e = (volatile uint32_t *)(rxq.used + 2) + 2 * (rxq.used_seen % rxq.size);
        uint32_t id = e[0], len = e[1];
        rxq.used_seen++;
        if (id >= RX_BUFS) {
            net_counters.rx_errors++;
            continue;
        }
        if (len > HDR_LEN + 14 && len <= BUF_LEN) {
            struct pbuf *p = pbuf_alloc(PBUF_RAW, len - HDR_LEN, PBUF_POOL);
            if (p != NULL) {
                pbuf_take(p, rx_buf[id] + HDR_LEN, len - HDR_LEN);
                net_input(p);
            } else {
                net_counters.rx_drops++;
            }
        } else {
            net_counters.rx_errors++;
        }
        rx_post(id);
        posted = true;
    }
    if (posted) {
        barrier();
        outw(io + VIO_QUEUE_NOTIFY, 0);
    }
}
