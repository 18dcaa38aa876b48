// mpconfignet.h: MicroPython's network configuration on boards built with a NIC driver
// (boards/common/lwip.mk passes -DMULTIOS_NET=1): lwIP under `socket` (extmod/modlwip.c),
// `network` with network.LAN (boards/common/modnet.c).
#if MULTIOS_NET
#define MICROPY_PY_LWIP                     (1)
#define MICROPY_PY_LWIP_SOCK_RAW            (1)     // ICMP for ping
#define MICROPY_PY_NETWORK                  (1)
#define MICROPY_PY_NETWORK_HOSTNAME_DEFAULT "multios"
#define MICROPY_PY_SOCKET_LISTEN_BACKLOG_DEFAULT (4)
extern const struct _mp_obj_type_t network_lan_type;
#define MICROPY_PORT_NETWORK_INTERFACES \
    { MP_ROM_QSTR(MP_QSTR_LAN), MP_ROM_PTR(&network_lan_type) },
#endif
