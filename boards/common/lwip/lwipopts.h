// lwipopts.h: lwIP's configuration for MultiOS (lwIP itself comes from Debian's source package).
//
// NO_SYS: lwIP runs only in thread context, from the callback that the NIC's interrupt and
// the timer schedule (boards/common/net.c), so it needs no locks. IPv4 only; TCP sized for
// QEMU's user-mode network (MSS 1460, window 8 MSS). Pools are static, outside the GC heap,
// and counted (MEMP_STATS) so that tests can see pbufs and pcbs return to their baseline.
#ifndef MULTIOS_LWIPOPTS_H
#define MULTIOS_LWIPOPTS_H

#include <stdint.h>

#define MEM_SIZE                        (128 * 1024)
#define TCP_MSS                         (1460)
#define TCP_WND                         (8 * TCP_MSS)
#define TCP_SND_BUF                     (8 * TCP_MSS)
#define TCP_SND_QUEUELEN                (4 * TCP_SND_BUF / TCP_MSS)
#define MEMP_NUM_TCP_SEG                (64)
#define MEMP_NUM_TCP_PCB                (64)
#define MEMP_NUM_TCP_PCB_LISTEN         (16)
#define MEMP_NUM_PBUF                   (64)
#define PBUF_POOL_SIZE                  (64)
#define MEMP_NUM_ARP_QUEUE              (16)

// MicroPython's shared lwIP settings (what every MicroPython lwIP port uses).
#include "extmod/lwip-include/lwipopts_common.h"

#undef LWIP_STATS
#define LWIP_STATS                      (1)
#define MEMP_STATS                      (1)
#define MEM_STATS                       (1)
#define LINK_STATS                      (0)
#define ETHARP_STATS                    (0)
#define IP_STATS                        (0)
#define IPFRAG_STATS                    (0)
#define ICMP_STATS                      (0)
#define IGMP_STATS                      (0)
#define UDP_STATS                       (0)
#define TCP_STATS                       (0)
#define SYS_STATS                       (0)
#define LWIP_STATS_DISPLAY              (0)

// No mDNS responder.
#undef LWIP_MDNS_RESPONDER
#define LWIP_MDNS_RESPONDER             (0)
#undef LWIP_NUM_NETIF_CLIENT_DATA
#define LWIP_NUM_NETIF_CLIENT_DATA      (0)

#undef MEM_ALIGNMENT
#define MEM_ALIGNMENT                   (__SIZEOF_POINTER__)
#define LWIP_IPV6                       (0)
#define LWIP_NETIF_LINK_CALLBACK        (0)
#define LWIP_NETIF_STATUS_CALLBACK      (0)
#define LWIP_NETIF_EXT_STATUS_CALLBACK  (1)
#define TCP_LISTEN_BACKLOG_MAX          (8)
// 127.0.0.1 and the own address loop back inside the stack (netif_poll_all in net_poll).
#define LWIP_NETIF_LOOPBACK             (1)

uint32_t hal_rng_u32(void);
#define LWIP_RAND()                     hal_rng_u32()
// Every IPv4 packet in passes boards/common/net.c first: a SYN for a pcb in TIME_WAIT opens
// a new connection there (see net_ip4_input).
struct pbuf;
struct netif;
int net_ip4_input(struct pbuf *p, struct netif *inp);
#define LWIP_HOOK_IP4_INPUT(p, inp)     net_ip4_input((p), (inp))

#endif // MULTIOS_LWIPOPTS_H
