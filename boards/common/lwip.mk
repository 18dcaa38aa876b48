# lwip.mk: lwIP (Debian's source package, fetched by tools/fetch.sh into build/lwip) built into
# the firmware with MicroPython's extmod/modlwip.c (`socket`) and extmod/network_lwip.c.
# Included by port.mk for boards whose board.mk names a NIC driver (NET_DRIVER_C).
LWIP_SRC := build/lwip/src
CFLAGS += -DMULTIOS_NET=1 -Iboards/common/lwip -I$(LWIP_SRC)/include
SRC_C += boards/common/net.c boards/common/modnet.c shared/netutils/netutils.c $(NET_DRIVER_C)
# Not scanned for qstrs: compiled and linked only.
SRC_LWIP_C := $(addprefix $(LWIP_SRC)/,\
	core/def.c core/dns.c core/inet_chksum.c core/init.c core/ip.c core/mem.c core/memp.c \
	core/netif.c core/pbuf.c core/raw.c core/stats.c core/sys.c core/tcp.c core/tcp_in.c \
	core/tcp_out.c core/timeouts.c core/udp.c \
	core/ipv4/acd.c core/ipv4/autoip.c core/ipv4/dhcp.c core/ipv4/etharp.c core/ipv4/icmp.c \
	core/ipv4/igmp.c core/ipv4/ip4_addr.c core/ipv4/ip4.c core/ipv4/ip4_frag.c \
	netif/ethernet.c)
# lwIP's own code is not held to -Werror's full set (it is not ours to change).
$(BUILD)/$(LWIP_SRC)/%.o: CFLAGS += -Wno-address -Wno-unused-but-set-variable
OBJ += $(addprefix $(BUILD)/, $(SRC_LWIP_C:.c=.o))
# modlwip's blocking loops wait in net_sock_wait_ms (boards/common/net.c), not in
# mp_event_wait_ms: a kernel task blocked there lets the others run.
$(BUILD)/extmod/modlwip.o: CFLAGS += -Dmp_event_wait_ms=net_sock_wait_ms
# modlwip's calls of tcp_err/tcp_recv go through boards/common/net.c (see there why).
LDFLAGS_BOARD += -Wl,--wrap=tcp_err -Wl,--wrap=tcp_recv
