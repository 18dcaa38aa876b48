// net.h: the network glue (boards/common/net.c) between lwIP and the board's NIC driver.
//
// A driver (NET_DRIVER_C in board.mk) implements board_eth_*; its interrupt handler only
// acknowledges the NIC and calls net_irq(), which schedules net_poll (mp_sched_schedule).
// net_poll then runs in thread context: board_eth_rx() hands each frame to net_input(),
// lwIP's timers run, and the Python handler (_net.set_handler) is told.
#ifndef MULTIOS_NET_H
#define MULTIOS_NET_H

#include <stdbool.h>
#include <stdint.h>
#include "lwip/netif.h"
#include "lwip/pbuf.h"

typedef struct _net_counters_t {
    uint32_t rx_packets, rx_bytes, rx_drops, rx_errors;
    uint32_t tx_packets, tx_bytes, tx_drops, tx_errors;
    uint32_t irqs, polls;
    uint32_t early_fins;    // peers' FINs that arrived before accept() (see net.c)
    uint32_t tw_reopens;    // SYNs that ended a TIME_WAIT of the same ports (net_ip4_input)
} net_counters_t;

extern struct netif net_netif;
extern net_counters_t net_counters;

// The board's NIC driver.
bool board_eth_init(uint8_t mac[6]);    // reset, read the MAC, interrupts on; false: no NIC
bool board_eth_link(void);              // link up (PHY)
err_t board_eth_tx(struct pbuf *p);     // send one frame (a pbuf chain)
void board_eth_rx(void);                // each received frame to net_input(), then re-arm
extern const char board_eth_name[];     // e.g. "lan9118"

// For the driver.
void net_irq(void);                     // interrupt context: schedule net_poll
void net_input(struct pbuf *p);         // one received frame (net_input owns it)

// For the HAL and _net.
void net_vm_init(void);                 // each (soft) reset, from hal_init()
void net_timer_isr(uint32_t tick);      // each timer tick: schedule lwIP's due timers
bool net_present(void);
bool net_up(void);
void net_set_up(bool up);
uint32_t net_next_timeout_ms(void);

#endif // MULTIOS_NET_H
