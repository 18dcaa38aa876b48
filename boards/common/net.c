// net.c: lwIP on MultiOS: one Ethernet interface over the board's NIC driver, driven by
// interrupts, never by polling.
//
// Loopback (127.0.0.1, the own address) is delivered from the same poll; the timer tick
// schedules it while packets wait in a loop queue.
//
// Interrupt context (the NIC's handler, the timer tick) only sets a flag and schedules
// net_poll with mp_sched_schedule. net_poll runs in thread context, where MicroPython runs
// scheduled callbacks: between bytecodes, and in mp_event_wait (so modlwip's blocking loops
// in foreground code make progress). It moves received frames into lwIP, runs lwIP's due
// timers, re-arms the timer check for the next due one, and tells the Python handler
// (_net.set_handler: the kernel's wake-up for tasks waiting on sockets). lwIP (NO_SYS) thus
// only ever runs in thread context and needs no locks.
// lwIP's state is static C outside the GC heap: it is initialised once per power-on and
// survives soft resets (modlwip's sockets are closed by their finalisers at the reset).
#include <string.h>
#include "py/mphal.h"
#include "py/runtime.h"
#include "extmod/modnetwork.h"
#include "lwip/dhcp.h"
#include "lwip/etharp.h"
#include "lwip/init.h"
#include "lwip/tcp.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/prot/ip.h"
#include "lwip/prot/ip4.h"
#include "lwip/prot/tcp.h"
#include "lwip/timeouts.h"
#include "netif/ethernet.h"
#include "board.h"
#include "hal.h"
#include "net.h"

#define NET_TIMEOUT_MAX_MS (1u << 29)   // no lwIP timer pending: check again this far out

struct netif net_netif;
net_counters_t net_counters;

static bool lwip_started;       // once per power-on
static bool nic_present;
static uint8_t nic_mac[6];
static volatile bool poll_queued;   // net_poll is in MicroPython's schedule queue
static volatile uint32_t timer_due; // timer tick (ms) when lwIP's next timeout is due

MP_REGISTER_ROOT_POINTER(mp_obj_t multios_net_handler);
MP_REGISTER_ROOT_POINTER(mp_obj_t multios_net_block);

void net_assert_failed(const char *msg) {
    static const char pre[] = "\r\nlwIP assertion failed: ";
    board_console_tx(pre, sizeof(pre) - 1);
    board_console_tx(msg, strlen(msg));
    board_console_tx("\r\n", 2);
    board_poweroff(70);
}

// lwIP's clock: milliseconds from the timer tick count (wraps at 2^32, as lwIP expects).
u32_t sys_now(void) {
    return hal_irq_count[HAL_IRQ_TIMER] * (1000 / board_info.timer_hz);
}

// ---- interrupt context ----

static mp_obj_t net_poll(mp_obj_t arg);
static MP_DEFINE_CONST_FUN_OBJ_1(net_poll_obj, net_poll);

void net_irq(void) {
    net_counters.irqs++;
    if (!poll_queued) {
        poll_queued = true;
        if (!mp_sched_schedule(MP_OBJ_FROM_PTR(&net_poll_obj), mp_const_none)) {
            poll_queued = false;    // queue full: the next tick tries again
            timer_due = sys_now();
        }
    }
}

static bool loop_pending(void) {
    for (struct netif *n = netif_list; n != NULL; n = n->next) {
        if (n->loop_first != NULL) {
            return true;
        }
    }
    return false;
}

void net_timer_isr(uint32_t tick) {
    (void)tick;
    if (lwip_started && !poll_queued && ((int32_t)(sys_now() - timer_due) >= 0 || loop_pending())) {
        net_irq();
        net_counters.irqs--;    // a timer tick, not a NIC interrupt
    }
}

// ---- thread context ----

void net_input(struct pbuf *p) {
    net_counters.rx_packets++;
    net_counters.rx_bytes += p->tot_len;
    if (net_netif.input(p, &net_netif) != ERR_OK) {
        pbuf_free(p);
        net_counters.rx_drops++;
    }
}

// lwIP's LWIP_HOOK_IP4_INPUT (lwipopts.h), before lwIP looks at the packet: a SYN whose ports
// and addresses are those of a pcb in TIME_WAIT, with a sequence number beyond what that
// connection received, ends the TIME_WAIT so that the listener gets the SYN: a new
// connection, as Linux and BSD allow (RFC 1122 4.2.2.13, RFC 6191). lwIP alone answers such
// a SYN with an ACK and drops it, and the peer's retries fail until the TIME_WAIT ends (2 MSL,
// 2 minutes). QEMU's user-mode network makes it common: a forwarded connection comes from
// 10.0.2.2 with the host client's port, and the host reuses a port the guest still holds
// (the host's own TIME_WAIT of it is the other way round, slirp's side). Returns 0: lwIP
// goes on with the packet.
int net_ip4_input(struct pbuf *p, struct netif *inp) {
    (void)inp;
    const struct ip_hdr *ip = (const struct ip_hdr *)p->payload;
    u16_t hlen = IPH_HL_BYTES(ip);
    if (IPH_PROTO(ip) != IP_PROTO_TCP || hlen < IP_HLEN || p->len < hlen + TCP_HLEN
        || (IPH_OFFSET(ip) & PP_HTONS(IP_OFFMASK | IP_MF)) != 0) {
        return 0;
    }
    const struct tcp_hdr *th = (const struct tcp_hdr *)((const u8_t *)p->payload + hlen);
    if ((TCPH_FLAGS(th) & (TCP_SYN | TCP_ACK | TCP_RST)) != TCP_SYN) {
        return 0;
    }
    u16_t lport = lwip_ntohs(th->dest), rport = lwip_ntohs(th->src);
    for (struct tcp_pcb *pcb = tcp_tw_pcbs; pcb != NULL; pcb = pcb->next) {
        if (pcb->local_port == lport && pcb->remote_port == rport
            && ip_2_ip4(&pcb->remote_ip)->addr == ip->src.addr
            && ip_2_ip4(&pcb->local_ip)->addr == ip->dest.addr) {
            if (TCP_SEQ_GT(lwip_ntohl(th->seqno), pcb->rcv_nxt)) {
                net_counters.tw_reopens++;
                tcp_abort(pcb);     // a TIME_WAIT pcb is only unlinked and freed
            }
            break;
        }
    }
    return 0;
}

static err_t net_linkoutput(struct netif *netif, struct pbuf *p) {
    (void)netif;
    err_t err = board_eth_tx(p);
    if (err == ERR_OK) {
        net_counters.tx_packets++;
        net_counters.tx_bytes += p->tot_len;
    } else {
        net_counters.tx_drops++;
    }
    return err;
}

static err_t net_netif_init(struct netif *netif) {
    netif->name[0] = 'e';
    netif->name[1] = 'n';
    netif->output = etharp_output;
    netif->linkoutput = net_linkoutput;
    netif->mtu = 1500;
    netif->hwaddr_len = 6;
    memcpy(netif->hwaddr, nic_mac, 6);
    netif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET | NETIF_FLAG_IGMP;
    netif_set_hostname(netif, mod_network_hostname_data);
    return ERR_OK;
}

static bool tcp_busy(void) {
    return tcp_active_pcbs != NULL || tcp_tw_pcbs != NULL;
}

static mp_obj_t net_poll(mp_obj_t arg) {
    (void)arg;
    poll_queued = false;    // from here an interrupt schedules the next poll
    net_counters.polls++;
    uint32_t rx0 = net_counters.rx_packets;
    if (nic_present) {
        board_eth_rx();
    }
    bool looped = loop_pending();
    netif_poll_all();       // what was sent to 127.0.0.1 or to our own address
    sys_check_timeouts();
    uint32_t sleep = sys_timeouts_sleeptime();
    timer_due = sys_now() + (sleep < NET_TIMEOUT_MAX_MS ? sleep : NET_TIMEOUT_MAX_MS);
    // Tasks waiting on sockets re-check them after input, and while TCP has timers running
    // (retransmits, closes); lwIP's housekeeping timers alone wake nobody.
    mp_obj_t h = MP_STATE_VM(multios_net_handler);
    if (h != MP_OBJ_NULL && (net_counters.rx_packets != rx0 || looped || tcp_busy())) {
        nlr_buf_t nlr;
        if (nlr_push(&nlr) == 0) {
            mp_call_function_0(h);
            nlr_pop();
        } else {
            MP_STATE_VM(multios_net_handler) = MP_OBJ_NULL;     // a broken handler is dropped
            net_counters.rx_errors++;
        }
    }
    return mp_const_none;
}

// modlwip's blocking loops (accept, connect, recv, send, getaddrinfo) call this where they
// would call mp_event_wait_ms (boards/common/lwip.mk renames the call in modlwip.o alone).
// With the kernel's handler set (_net.set_block_handler, kernel/netwait.py), the step's
// watchdog is paused and the handler runs the other tasks until the stack's next event or a
// short slice; it returns False where the call must block as on any MicroPython board (the
// console's foreground code, boot), and then this waits as MicroPython does. modlwip's loop
// then checks its socket and the socket's own timeout again. An exception from the handler
// (the task was cancelled while it waited) ends the socket call.
void net_sock_wait_ms(mp_uint_t ms);    // declared by py/runtime.h in modlwip.o (the rename)

void net_sock_wait_ms(mp_uint_t ms) {
    mp_obj_t h = MP_STATE_VM(multios_net_block);
    if (h != MP_OBJ_NULL) {
        hal_wdt_saved_t wd;
        hal_wdt_pause(&wd);
        nlr_buf_t nlr;
        if (nlr_push(&nlr) == 0) {
            mp_obj_t r = mp_call_function_0(h);
            nlr_pop();
            hal_wdt_restore(&wd);
            if (r != mp_const_false) {
                return;
            }
        } else {
            hal_wdt_restore(&wd);
            nlr_jump(nlr.ret_val);
        }
    }
    mp_event_wait_ms(ms);
}

uint32_t net_next_timeout_ms(void) {
    return timer_due - sys_now();
}

bool net_present(void) {
    return nic_present;
}

bool net_up(void) {
    return netif_is_up(&net_netif);
}

void net_set_up(bool up) {
    if (!nic_present) {
        return;
    }
    if (up) {
        netif_set_up(&net_netif);
        if (board_eth_link()) {
            netif_set_link_up(&net_netif);
        }
    } else {
        dhcp_stop(&net_netif);
        netif_set_down(&net_netif);
    }
    timer_due = sys_now();  // run lwIP's timers at the next tick
}

void net_vm_init(void) {
    poll_queued = false;    // a soft reset emptied MicroPython's schedule queue
    MP_STATE_VM(multios_net_handler) = MP_OBJ_NULL;
    MP_STATE_VM(multios_net_block) = MP_OBJ_NULL;
    mod_network_init();
    if (!lwip_started) {
        lwip_init();
        nic_present = board_eth_init(nic_mac);
        if (nic_present) {
            netif_add(&net_netif, IP4_ADDR_ANY4, IP4_ADDR_ANY4, IP4_ADDR_ANY4, NULL,
                net_netif_init, ethernet_input);
            netif_set_default(&net_netif);
        }
        timer_due = sys_now();
        lwip_started = true;
    }
}

// MicroPython's modlwip clears the recv and err callbacks of every TCP socket it closes,
// listening ones too; a listening pcb is the smaller struct tcp_pcb_listen, which has no such
// fields, so lwIP 2.2 asserts there (the write would land past the pcb, in its pool). The
// link wraps modlwip's calls (-Wl,--wrap, boards/common/lwip.mk) and skips listening pcbs.
void __real_tcp_err(struct tcp_pcb *pcb, tcp_err_fn err);
void __real_tcp_recv(struct tcp_pcb *pcb, tcp_recv_fn recv);

void __wrap_tcp_err(struct tcp_pcb *pcb, tcp_err_fn err) {
    if (pcb != NULL && pcb->state != LISTEN) {
        __real_tcp_err(pcb, err);
    }
}

// modlwip keeps a connection that is not yet accept()ed with a recv callback that refuses
// everything. lwIP keeps refused data (with a FIN that follows it) and offers it again only at
// its next 250 ms TCP timer, and a bare FIN refused that way is lost: the socket would never
// see the peer's close (a connect-and-drop would sit in CLOSE_WAIT until the server's own
// timeout). So when accept() installs the real callback (the only tcp_recv of a connection
// already past its handshake), what lwIP holds is handed over at once, and a FIN the pcb has
// seen (CLOSE_WAIT) is delivered as lwIP's EOF (a NULL pbuf).
void __wrap_tcp_recv(struct tcp_pcb *pcb, tcp_recv_fn recv) {
    if (pcb == NULL || pcb->state == LISTEN) {
        return;
    }
    __real_tcp_recv(pcb, recv);
    if (recv == NULL) {
        return;
    }
    if (pcb->refused_data != NULL) {
        tcp_process_refused_data(pcb);
    } else if (pcb->state == CLOSE_WAIT) {
        net_counters.early_fins++;
        recv(pcb->callback_arg, pcb, NULL, ERR_OK);
    }
}
