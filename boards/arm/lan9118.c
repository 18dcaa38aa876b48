// lan9118.c: the SMSC LAN9118 Ethernet controller of QEMU mps2-an385 (-nic ...,model=lan9118),
// at 0x40200000 on IRQ 13 (QEMU hw/arm/mps2.c). The driver for boards/common/net.h.
//
// The chip is FIFO based: a received frame is a status word (length, errors) in the RX status
// FIFO and its data in the RX data FIFO; a frame is sent by pushing two command words and the
// data into the TX data FIFO. The interrupt (RX status FIFO level above 0) is configured
// active-high push-pull for the NVIC; its handler only acknowledges it and calls net_irq().
#include <string.h>
#include "board.h"
#include "net.h"
#include "mps2.h"

#define ETH_BASE        (0x40200000)
#define ETH_IRQ         (13)
#define ETH_RX_DATA     REG(ETH_BASE + 0x00)
#define ETH_TX_DATA     REG(ETH_BASE + 0x20)
#define ETH_RX_STATUS   REG(ETH_BASE + 0x40)
#define ETH_TX_STATUS   REG(ETH_BASE + 0x48)
#define ETH_ID_REV      REG(ETH_BASE + 0x50)
#define ETH_IRQ_CFG     REG(ETH_BASE + 0x54)
#define ETH_INT_STS     REG(ETH_BASE + 0x58)
#define ETH_INT_EN      REG(ETH_BASE + 0x5c)
#define ETH_BYTE_TEST   REG(ETH_BASE + 0x64)
#define ETH_TX_CFG      REG(ETH_BASE + 0x70)
#define ETH_HW_CFG      REG(ETH_BASE + 0x74)
#define ETH_RX_FIFO_INF REG(ETH_BASE + 0x7c)
#define ETH_TX_FIFO_INF REG(ETH_BASE + 0x80)
#define ETH_PMT_CTRL    REG(ETH_BASE + 0x84)
#define ETH_MAC_CMD     REG(ETH_BASE + 0xa4)
#define ETH_MAC_DATA    REG(ETH_BASE + 0xa8)

#define BYTE_TEST_VALUE (0x87654321u)
#define IRQ_CFG_ACTIVE_HIGH (0x111u)    // IRQ_EN | IRQ_POL (high) | IRQ_TYPE (push-pull)
#define INT_RSFL        (1u << 3)       // RX status FIFO level
#define HW_CFG_SRST     (1u << 0)
#define PMT_READY       (1u << 0)
#define TX_CFG_TX_ON    (1u << 1)
#define MAC_CMD_BUSY    (1u << 31)
#define MAC_CMD_READ    (1u << 30)
#define MAC_CR          (1)
#define MAC_ADDRH       (2)
#define MAC_ADDRL       (3)
#define MAC_MII_ACC     (6)
#define MAC_MII_DATA    (7)
#define MAC_CR_FDPX     (1u << 20)
#define MAC_CR_TXEN     (1u << 3)
#define MAC_CR_RXEN     (1u << 2)
#define PHY_ADDR        (1)
#define PHY_BSR         (1)
#define PHY_BSR_LINK    (1u << 2)
#define RXS_ERROR       (1u << 15)
#define TXS_ERROR       (1u << 15)
#define TXA_FIRST       (1u << 13)
#define TXA_LAST        (1u << 12)
#define FRAME_MAX       (1536)
#define SPIN_MAX        (100000)        // register handshakes; QEMU answers at once

const char board_eth_name[] = "lan9118";

static uint32_t frame[FRAME_MAX / 4];   // one frame in or out, word aligned

static bool wait_clear(volatile uint32_t *reg, uint32_t bits) {
    for (int i = 0; i < SPIN_MAX; i++) {
        if (!(*reg & bits)) {
            return true;
        }
    }
    return false;
}

static uint32_t mac_read(uint32_t reg) {
    ETH_MAC_CMD = MAC_CMD_BUSY | MAC_CMD_READ | reg;
    wait_clear(&ETH_MAC_CMD, MAC_CMD_BUSY);
    return ETH_MAC_DATA;
}

static void mac_write(uint32_t reg, uint32_t value) {
    ETH_MAC_DATA = value;
    ETH_MAC_CMD = MAC_CMD_BUSY | reg;
    wait_clear(&ETH_MAC_CMD, MAC_CMD_BUSY);
}

static uint32_t phy_read(uint32_t reg) {
    mac_write(MAC_MII_ACC, PHY_ADDR << 11 | reg << 6 | 1);     // read, busy
    return mac_read(MAC_MII_DATA) & 0xffff;
}

bool board_eth_init(uint8_t mac[6]) {
    if (ETH_BYTE_TEST != BYTE_TEST_VALUE) {
        return false;
    }
    ETH_HW_CFG = HW_CFG_SRST;
    if (!wait_clear(&ETH_HW_CFG, HW_CFG_SRST)) {
        return false;
    }
    for (int i = 0; i < SPIN_MAX && !(ETH_PMT_CTRL & PMT_READY); i++) {
    }
    // Interrupt line configured before the NVIC listens: after reset it idles active low.
    ETH_IRQ_CFG = IRQ_CFG_ACTIVE_HIGH;
    ETH_INT_STS = 0xffffffff;
    ETH_INT_EN = INT_RSFL;
    uint32_t lo = mac_read(MAC_ADDRL), hi = mac_read(MAC_ADDRH);
    for (int i = 0; i < 4; i++) {
        mac[i] = lo >> (8 * i);
    }
    mac[4] = hi;
    mac[5] = hi >> 8;
    mac_write(MAC_CR, MAC_CR_FDPX | MAC_CR_TXEN | MAC_CR_RXEN);    // own MAC + broadcast
    ETH_TX_CFG = TX_CFG_TX_ON;
    NVIC_ISER0 = 1u << ETH_IRQ;
    return true;
}

bool board_eth_link(void) {
    return phy_read(PHY_BSR) & PHY_BSR_LINK;
}

void ETH_IRQHandler(void) {
    ETH_INT_STS = ETH_INT_STS;      // acknowledge; the frames wait in the FIFO for net_poll
    net_irq();
}

err_t board_eth_tx(struct pbuf *p) {
    uint32_t len = p->tot_len;
    if (len > FRAME_MAX || (ETH_TX_FIFO_INF & 0xffff) < len + 8) {
        return ERR_MEM;
    }
    pbuf_copy_partial(p, frame, len, 0);
    ETH_TX_DATA = TXA_FIRST | TXA_LAST | len;
    ETH_TX_DATA = len << 16 | len;      // tag, length
    for (uint32_t i = 0; i < (len + 3) / 4; i++) {
        ETH_TX_DATA = frame[i];
    }
    while (ETH_TX_FIFO_INF >> 16 & 0xff) {
        if (ETH_TX_STATUS & TXS_ERROR) {
            net_counters.tx_errors++;
        }
    }
    return ERR_OK;
}

void board_eth_rx(void) {
    while (ETH_RX_FIFO_INF >> 16 & 0xff) {
        uint32_t status = ETH_RX_STATUS;
        uint32_t len = status >> 16 & 0x3fff;  // with the 4-byte CRC
        uint32_t words = (len + 3) / 4;
        bool ok = !(status & RXS_ERROR) && len >= 14 + 4 && len <= FRAME_MAX;
        for (uint32_t i = 0; i < words; i++) {
            uint32_t w = ETH_RX_DATA;
            if (ok) {
                frame[i] = w;
            }
        }
        if (!ok) {
            net_counters.rx_errors++;
            continue;
        }
        struct pbuf *p = pbuf_alloc(PBUF_RAW, len - 4, PBUF_POOL);
        if (p == NULL) {
            net_counters.rx_drops++;
            continue;
        }
        pbuf_take(p, frame, len - 4);
        net_input(p);
    }
}
