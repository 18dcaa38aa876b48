// modnet.c: network.LAN (MicroPython's interface API over boards/common/net.c) and `_net`,
// the kernel's view of the stack: counters, sockets (lwIP's pcbs), pool usage, the wake-up
// handler.
#include <string.h>
#include "py/mperrno.h"
#include "py/runtime.h"
#include "extmod/modnetwork.h"
#include "shared/netutils/netutils.h"
#include "lwip/dhcp.h"
#include "lwip/memp.h"
#include "lwip/stats.h"
#include "lwip/tcp.h"
#include "lwip/udp.h"
#include "lwip/priv/tcp_priv.h"
#include "net.h"

// ---- network.LAN ----

typedef struct _network_lan_obj_t {
    mp_obj_base_t base;
} network_lan_obj_t;

static const network_lan_obj_t network_lan_eth0 = { { &network_lan_type } };

static bool lan_has_ip(void) {
    return !ip4_addr_isany_val(*netif_ip4_addr(&net_netif));
}

static int lan_status(void) {     // MicroPython's LINK_* numbers: 0 down, 1 joining, 3 up
    if (!net_up()) {
        return 0;
    }
    return netif_is_link_up(&net_netif) && lan_has_ip() ? 3 : 1;
}

static void network_lan_print(const mp_print_t *print, mp_obj_t self_in, mp_print_kind_t kind) {
    const ip4_addr_t *ip = netif_ip4_addr(&net_netif);
    mp_printf(print, "<LAN %s status=%d ip=%s>", board_eth_name, lan_status(), ip4addr_ntoa(ip));
}

static mp_obj_t network_lan_make_new(const mp_obj_type_t *type, size_t n_args, size_t n_kw, const mp_obj_t *args) {
    mp_arg_check_num(n_args, n_kw, 0, 1, false);
    if (n_args == 1 && mp_obj_get_int(args[0]) != 0) {
        mp_raise_ValueError(MP_ERROR_TEXT("LAN: only interface 0"));
    }
    if (!net_present()) {
        mp_raise_OSError(MP_ENODEV);
    }
    mod_network_register_nic(MP_OBJ_FROM_PTR(&network_lan_eth0));
    return MP_OBJ_FROM_PTR(&network_lan_eth0);
}

static mp_obj_t network_lan_active(size_t n_args, const mp_obj_t *args) {
    if (n_args == 1) {
        return mp_obj_new_bool(net_up());
    }
    bool up = mp_obj_is_true(args[1]);
    if (up && !net_up()) {
        net_set_up(true);
        dhcp_start(&net_netif);     // as on other MicroPython LAN boards; ipconfig() overrides
    } else if (!up) {
        net_set_up(false);
    }
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(network_lan_active_obj, 1, 2, network_lan_active);

static mp_obj_t network_lan_isconnected(mp_obj_t self_in) {
    return mp_obj_new_bool(lan_status() == 3);
}
static MP_DEFINE_CONST_FUN_OBJ_1(network_lan_isconnected_obj, network_lan_isconnected);

static mp_obj_t network_lan_status(size_t n_args, const mp_obj_t *args) {
    return MP_OBJ_NEW_SMALL_INT(lan_status());
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(network_lan_status_obj, 1, 2, network_lan_status);

static mp_obj_t network_lan_ifconfig(size_t n_args, const mp_obj_t *args) {
    return mod_network_nic_ifconfig(&net_netif, n_args - 1, args + 1);
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(network_lan_ifconfig_obj, 1, 2, network_lan_ifconfig);

static mp_obj_t network_lan_ipconfig(size_t n_args, const mp_obj_t *args, mp_map_t *kwargs) {
    return mod_network_nic_ipconfig(&net_netif, n_args - 1, args + 1, kwargs);
}
static MP_DEFINE_CONST_FUN_OBJ_KW(network_lan_ipconfig_obj, 1, network_lan_ipconfig);

static mp_obj_t network_lan_config(size_t n_args, const mp_obj_t *args, mp_map_t *kwargs) {
    if (kwargs->used != 0 || n_args != 2) {
        mp_raise_TypeError(MP_ERROR_TEXT("LAN.config: query one of 'mac', 'driver'"));
    }
    switch (mp_obj_str_get_qstr(args[1])) {
        case MP_QSTR_mac:
            return mp_obj_new_bytes(net_netif.hwaddr, 6);
        case MP_QSTR_driver:
            return mp_obj_new_str_from_cstr(board_eth_name);
        default:
            mp_raise_ValueError(MP_ERROR_TEXT("LAN.config: unknown parameter"));
    }
}
static MP_DEFINE_CONST_FUN_OBJ_KW(network_lan_config_obj, 1, network_lan_config);

static const mp_rom_map_elem_t network_lan_locals_dict_table[] = {
    { MP_ROM_QSTR(MP_QSTR_active), MP_ROM_PTR(&network_lan_active_obj) },
    { MP_ROM_QSTR(MP_QSTR_isconnected), MP_ROM_PTR(&network_lan_isconnected_obj) },
    { MP_ROM_QSTR(MP_QSTR_status), MP_ROM_PTR(&network_lan_status_obj) },
    { MP_ROM_QSTR(MP_QSTR_ifconfig), MP_ROM_PTR(&network_lan_ifconfig_obj) },
    { MP_ROM_QSTR(MP_QSTR_ipconfig), MP_ROM_PTR(&network_lan_ipconfig_obj) },
    { MP_ROM_QSTR(MP_QSTR_config), MP_ROM_PTR(&network_lan_config_obj) },
};
static MP_DEFINE_CONST_DICT(network_lan_locals_dict, network_lan_locals_dict_table);

MP_DEFINE_CONST_OBJ_TYPE(
    network_lan_type,
    MP_QSTR_LAN,
    MP_TYPE_FLAG_NONE,
    make_new, network_lan_make_new,
    print, network_lan_print,
    locals_dict, &network_lan_locals_dict
    );

// ---- _net ----

static mp_obj_t net_counters_(void) {
    static const qstr names[] = {
        MP_QSTR_rx_packets, MP_QSTR_rx_bytes, MP_QSTR_rx_drops, MP_QSTR_rx_errors,
        MP_QSTR_tx_packets, MP_QSTR_tx_bytes, MP_QSTR_tx_drops, MP_QSTR_tx_errors,
        MP_QSTR_irqs, MP_QSTR_polls, MP_QSTR_early_fins, MP_QSTR_tw_reopens,
    };
    const uint32_t *v = &net_counters.rx_packets;
    mp_obj_t d = mp_obj_new_dict(MP_ARRAY_SIZE(names));
    for (size_t i = 0; i < MP_ARRAY_SIZE(names); i++) {
        mp_obj_dict_store(d, MP_OBJ_NEW_QSTR(names[i]), mp_obj_new_int_from_uint(v[i]));
    }
    return d;
}
static MP_DEFINE_CONST_FUN_OBJ_0(net_counters_obj, net_counters_);

// Pool usage: what must return to its baseline once connections are gone.
static mp_obj_t net_mem(void) {
    mp_obj_t d = mp_obj_new_dict(6);
    mp_obj_dict_store(d, MP_OBJ_NEW_QSTR(MP_QSTR_pbuf_pool), MP_OBJ_NEW_SMALL_INT(lwip_stats.memp[MEMP_PBUF_POOL]->used));
    mp_obj_dict_store(d, MP_OBJ_NEW_QSTR(MP_QSTR_pbuf), MP_OBJ_NEW_SMALL_INT(lwip_stats.memp[MEMP_PBUF]->used));
    mp_obj_dict_store(d, MP_OBJ_NEW_QSTR(MP_QSTR_tcp_pcb), MP_OBJ_NEW_SMALL_INT(lwip_stats.memp[MEMP_TCP_PCB]->used));
    mp_obj_dict_store(d, MP_OBJ_NEW_QSTR(MP_QSTR_tcp_listen), MP_OBJ_NEW_SMALL_INT(lwip_stats.memp[MEMP_TCP_PCB_LISTEN]->used));
    mp_obj_dict_store(d, MP_OBJ_NEW_QSTR(MP_QSTR_tcp_seg), MP_OBJ_NEW_SMALL_INT(lwip_stats.memp[MEMP_TCP_SEG]->used));
    mp_obj_dict_store(d, MP_OBJ_NEW_QSTR(MP_QSTR_heap), MP_OBJ_NEW_SMALL_INT(lwip_stats.mem.used));
    return d;
}
static MP_DEFINE_CONST_FUN_OBJ_0(net_mem_obj, net_mem);

static mp_obj_t pcb_tuple(qstr proto, const char *state, const ip_addr_t *lip, u16_t lport,
    const ip_addr_t *rip, u16_t rport, uint32_t queued) {
    mp_obj_t t[7] = {
        MP_OBJ_NEW_QSTR(proto),
        mp_obj_new_str_from_cstr(state),
        netutils_format_ipv4_addr((uint8_t *)lip, NETUTILS_BIG),
        MP_OBJ_NEW_SMALL_INT(lport),
        netutils_format_ipv4_addr((uint8_t *)rip, NETUTILS_BIG),
        MP_OBJ_NEW_SMALL_INT(rport),
        MP_OBJ_NEW_SMALL_INT(queued),
    };
    return mp_obj_new_tuple(7, t);
}

// One tuple per socket lwIP knows: (proto, state, local ip, port, remote ip, port, unacked).
static mp_obj_t net_pcbs(void) {
    static const char *const states[] = {
        "CLOSED", "LISTEN", "SYN_SENT", "SYN_RCVD", "ESTABLISHED", "FIN_WAIT_1", "FIN_WAIT_2",
        "CLOSE_WAIT", "CLOSING", "LAST_ACK", "TIME_WAIT",
    };
    mp_obj_t list = mp_obj_new_list(0, NULL);
    for (struct tcp_pcb_listen *p = tcp_listen_pcbs.listen_pcbs; p != NULL; p = p->next) {
        mp_obj_list_append(list, pcb_tuple(MP_QSTR_tcp, "LISTEN", &p->local_ip, p->local_port, IP4_ADDR_ANY, 0, 0));
    }
    struct tcp_pcb *lists[] = { tcp_active_pcbs, tcp_tw_pcbs };
    for (size_t i = 0; i < MP_ARRAY_SIZE(lists); i++) {
        for (struct tcp_pcb *p = lists[i]; p != NULL; p = p->next) {
            mp_obj_list_append(list, pcb_tuple(MP_QSTR_tcp, states[p->state <= TIME_WAIT ? p->state : 0],
                &p->local_ip, p->local_port, &p->remote_ip, p->remote_port, p->snd_queuelen));
        }
    }
    for (struct udp_pcb *p = udp_pcbs; p != NULL; p = p->next) {
        mp_obj_list_append(list, pcb_tuple(MP_QSTR_udp, "-", &p->local_ip, p->local_port, &p->remote_ip, p->remote_port, 0));
    }
    return list;
}
static MP_DEFINE_CONST_FUN_OBJ_0(net_pcbs_obj, net_pcbs);

// fn() is called (in thread context, from the scheduled poll) after input and while TCP has
// timers running: the kernel wakes the tasks waiting on sockets. None removes it.
static mp_obj_t net_set_handler(mp_obj_t fn) {
    MP_STATE_VM(multios_net_handler) = fn == mp_const_none ? MP_OBJ_NULL : fn;
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(net_set_handler_obj, net_set_handler);

// fn() is called from modlwip's blocking loops (boards/common/net.c, net_sock_wait_ms): True
// when it let the other tasks run until the stack's next event, False to wait as MicroPython
// does. None removes it.
static mp_obj_t net_set_block_handler(mp_obj_t fn) {
    MP_STATE_VM(multios_net_block) = fn == mp_const_none ? MP_OBJ_NULL : fn;
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(net_set_block_handler_obj, net_set_block_handler);

static mp_obj_t net_info(void) {
    mp_obj_t t[4] = {
        mp_obj_new_str_from_cstr(board_eth_name),
        mp_obj_new_bool(net_present()),
        mp_obj_new_bool(net_present() && board_eth_link()),
        mp_obj_new_int_from_uint(net_next_timeout_ms()),
    };
    return mp_obj_new_tuple(4, t);
}
static MP_DEFINE_CONST_FUN_OBJ_0(net_info_obj, net_info);

static const mp_rom_map_elem_t net_module_globals_table[] = {
    { MP_ROM_QSTR(MP_QSTR___name__), MP_ROM_QSTR(MP_QSTR__net) },
    { MP_ROM_QSTR(MP_QSTR_counters), MP_ROM_PTR(&net_counters_obj) },
    { MP_ROM_QSTR(MP_QSTR_mem), MP_ROM_PTR(&net_mem_obj) },
    { MP_ROM_QSTR(MP_QSTR_pcbs), MP_ROM_PTR(&net_pcbs_obj) },
    { MP_ROM_QSTR(MP_QSTR_set_handler), MP_ROM_PTR(&net_set_handler_obj) },
    { MP_ROM_QSTR(MP_QSTR_set_block_handler), MP_ROM_PTR(&net_set_block_handler_obj) },
    { MP_ROM_QSTR(MP_QSTR_info), MP_ROM_PTR(&net_info_obj) },
};
static MP_DEFINE_CONST_DICT(net_module_globals, net_module_globals_table);

const mp_obj_module_t mp_module_net = {
    .base = { &mp_type_module },
    .globals = (mp_obj_dict_t *)&net_module_globals,
};

MP_REGISTER_MODULE(MP_QSTR__net, mp_module_net);
