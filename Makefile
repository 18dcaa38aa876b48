# MultiOS: build, run and test.
#   make run [BOARD=arm|x86_64]   build (once) and boot in QEMU on this terminal
#   make run DISK=path|none       ... on another disk image, or without a disk
#   make test                     unit tests (unix port) + boot tests (every board, QEMU)
#   make powercut                 50 power cuts per board during heavy writes (make test: 5)
#   make bench                    benchmarks: table on stdout, JSON under build/<board>/
#   make stock                    stock MicroPython (ports/qemu MPS2_AN385), the reference
#   make conformance              MicroPython's tests/run-tests.py: stock vs every board
#   make debug                    QEMU waits for gdb-multiarch on :1234
#   make lint                     ruff format --check and ruff check (ruff.toml)
#   make clean
# Every target first runs tools/setup.sh (idempotent: seconds when all is installed).

# MicroPython comes from Debian's source package; the pin lives here and only here.
MP_SUITE   := trixie
MP_VERSION := 1.25.0
# lwIP (the boards' TCP/IP stack) comes from Debian's source package the same way.
LWIP_VERSION := 2.2.1
# mbedTLS (AES for cryptolib: config secrets) from Debian's source package, the same way.
MBEDTLS_VERSION := 3.6.6

BOARD  ?= arm
BOARDS := arm x86_64
MPY    := build/micropython
LWIP   := build/lwip
MBEDTLS := build/mbedtls
VENV   := .venv
PY     := $(VENV)/bin/python
NPROC  := $(shell nproc 2>/dev/null || echo 2)
SUBMAKE = $(MAKE) --no-print-directory -j$(NPROC)


.PHONY: powercut disk-image qemu-disk lint qemu-cmd all setup fetch stock conformance unix firmware firmware-all run debug test unit boot bench clean FORCE
all: firmware

setup:
	@sh tools/setup.sh

$(MPY)/py/mpconfig.h:
	@sh tools/fetch.sh $(MP_SUITE) $(MP_VERSION) $(MPY)
$(LWIP)/src/include/lwip/init.h:
	@sh tools/fetch.sh $(MP_SUITE) $(LWIP_VERSION) $(LWIP) lwip
$(MBEDTLS)/include/mbedtls/aes.h:
	@sh tools/fetch.sh $(MP_SUITE) $(MBEDTLS_VERSION) $(MBEDTLS) mbedtls
fetch: setup $(MPY)/py/mpconfig.h $(LWIP)/src/include/lwip/init.h $(MBEDTLS)/include/mbedtls/aes.h
	@test -x $(MPY)/mpy-cross/build/mpy-cross || { echo "build: mpy-cross"; \
	    $(SUBMAKE) -C $(MPY)/mpy-cross >build/mpy-cross.log 2>&1 || { tail -20 build/mpy-cross.log; exit 1; }; }

# A changed build configuration (config header, make fragments, manifests) rebuilds from
# scratch: MicroPython's generated headers (root pointers, qstrs, module lists) do not follow
# such a change, and a stale one fails the build or the tests after a pull.
define config_stamp
	@sum=$$(cat $(2) | md5sum | cut -c1-32); test "$$(cat $(1)/config.sum 2>/dev/null)" = "$$sum" \
	    || { rm -rf $(1)/obj; mkdir -p $(1); echo "$$sum" >$(1)/config.sum; }
endef
UNIX_CONFIG = $(wildcard boards/unix/*.mk boards/unix/manifest.py) boards/common/mbedtls_config.h
FW_CONFIG   = boards/common/mpconfigport.h boards/common/port.mk boards/common/manifest.py \
              boards/common/mbedtls.mk boards/common/mbedtls_config.h \
              boards/$(BOARD)/board.mk

# The unix port with the project's `_hal` C module, for unit tests.
unix: fetch
	@echo "build: unix port -> build/unix/micropython"
	$(call config_stamp,build/unix,$(UNIX_CONFIG))
	@$(SUBMAKE) -f boards/unix/unix.mk MPY=$(MPY)

# Bare-metal firmware for one board, through the shared port layer in boards/common.
# MicroPython's build talks on every run, even with nothing to do: its output goes to
# build/<board>/build.log, shown (last 60 lines) only when the build fails. One line says
# when a rebuild is due (no firmware yet, or a source newer than it).
FW_ELF = build/$(BOARD)/firmware.elf
FW_LOG = build/$(BOARD)/build.log
firmware: fetch
	@mkdir -p build/$(BOARD)
	$(call config_stamp,build/$(BOARD),$(FW_CONFIG))
	@test -f $(FW_ELF) && test -z "$$(find boards hal kernel services -newer $(FW_ELF) -print -quit)" \
	    || echo "build: $(BOARD) firmware -> $(FW_ELF) (log: $(FW_LOG))"
	@$(SUBMAKE) -f boards/common/port.mk BOARD=$(BOARD) TOP=$(MPY) BUILD=build/$(BOARD)/obj \
	    >$(FW_LOG) 2>&1 || { tail -60 $(FW_LOG); echo "build: $(BOARD) firmware FAILED (log: $(FW_LOG))"; exit 1; }

firmware-all: fetch
	@for b in $(BOARDS); do $(MAKE) --no-print-directory firmware BOARD=$$b || exit 1; done

# Stock MicroPython as the reference: ports/qemu for MPS2_AN385, built from a copy of the
# fetched source (ours stays pristine) with the one build-time patch tools/stock.patch
# (time, select and _asyncio on, ticks from the FPGA counter). A new patch, a new copy.
STOCK := build/stock
$(STOCK)/src/.patched: tools/stock.patch | $(MPY)/py/mpconfig.h
	@rm -rf $(STOCK)/src && mkdir -p $(STOCK)
	@cp -a $(MPY)/. $(STOCK)/src && patch -s -d $(STOCK)/src -p1 <tools/stock.patch && touch $@
stock: fetch $(STOCK)/src/.patched
	@echo "build: stock MicroPython ports/qemu MPS2_AN385 -> $(STOCK)/firmware.elf"
	@$(SUBMAKE) -C $(STOCK)/src/ports/qemu BOARD=MPS2_AN385 BUILD=build >$(STOCK)/build.log 2>&1 \
	    || { tail -20 $(STOCK)/build.log; exit 1; }
	@cmp -s $(STOCK)/src/ports/qemu/build/firmware.elf $(STOCK)/firmware.elf \
	    || cp $(STOCK)/src/ports/qemu/build/firmware.elf $(STOCK)/firmware.elf

# QEMU's machine arguments come from the board's data (boards/<board>/board.mk); BOARD=stock
# is the reference firmware on the ARM board's machine (`make -s qemu-cmd BOARD=stock`).
ifeq ($(BOARD),stock)
QEMU_SYSTEM = qemu-system-arm
QEMU_ARGS   = -machine mps2-an385 -cpu cortex-m3 -nographic -monitor none \
              -semihosting-config enable=on,target=native -kernel $(STOCK)/firmware.elf
else
QEMU_SYSTEM = $(shell sed -n 's/^QEMU_SYSTEM *:= *//p' boards/$(BOARD)/board.mk)
QEMU_ARGS   = $(shell sed -n '/^QEMU_ARGS/,/[^\\]$$/p' boards/$(BOARD)/board.mk | sed 's/^QEMU_ARGS *:= *//; s/\\$$//')
endif
# The network: QEMU's user-mode network (no tap, no bridge) with the board's NIC model, the
# guest's HTTP port forwarded to 127.0.0.1:$(HTTP_PORT). NET=none: no NIC at all.
NET       ?= user
HTTP_PORT ?= 8080
QEMU_NIC   = $(shell sed -n 's/^QEMU_NIC *:= *//p' boards/$(BOARD)/board.mk)
QEMU_NET   = $(if $(filter none,$(NET)),-nic none,-nic user,model=$(QEMU_NIC),hostfwd=tcp:127.0.0.1:$(HTTP_PORT)-:80)
# The console: stdio multiplexed so that Ctrl-] x leaves QEMU, while Ctrl-A (raw REPL)
# and Ctrl-C (KeyboardInterrupt) reach the guest.
QEMU_CONSOLE = -chardev stdio,id=con,mux=on,signal=off -serial chardev:con -echr 0x1d

# The disk: a raw image the host keeps, created blank on first use (the firmware formats it).
# DISK=path chooses another image, DISK=none boots without a disk.
DISK    ?= build/$(BOARD)/disk.img
DISK_MB ?= 4
QEMU_DISK = $(if $(filter none,$(DISK)),,$(subst @DISK@,$(DISK),$(shell sed -n 's/^QEMU_DISK *:= *//p' boards/$(BOARD)/board.mk)))
disk-image:
	@test "$(DISK)" = none || test -e "$(DISK)" || { mkdir -p "$(dir $(DISK))"; \
	    echo "run: new blank disk image $(DISK) ($(DISK_MB) MiB)"; truncate -s $(DISK_MB)M "$(DISK)"; }

run: firmware disk-image
	@echo "run: booting MultiOS on $(BOARD). Leave QEMU with Ctrl-] then x."
	@$(if $(filter none,$(NET)),echo "run: no network (NET=none)",echo "run: HTTP service at http://127.0.0.1:$(HTTP_PORT)/ (guest port 80)")
	@$(QEMU_SYSTEM) $(QEMU_ARGS) $(QEMU_DISK) $(QEMU_NET) $(QEMU_CONSOLE)

debug: firmware disk-image
	@echo "debug: QEMU waits for gdb: gdb-multiarch build/$(BOARD)/firmware.elf -ex 'target remote :1234'"
	@$(QEMU_SYSTEM) $(QEMU_ARGS) $(QEMU_DISK) $(QEMU_CONSOLE) -S -gdb tcp::1234

# The QEMU command line without console, for the boot tests and benchmarks.
qemu-cmd:
	@echo $(QEMU_SYSTEM) $(QEMU_ARGS)

# The QEMU arguments that attach DISK (tests pass a fresh image each).
qemu-disk:
	@echo $(QEMU_DISK)

# The board's NIC model for QEMU's -nic (boot tests add their own user-mode network).
.PHONY: qemu-nic
qemu-nic:
	@echo $(QEMU_NIC)

test: unix firmware-all
	@MULTIOS_BOARDS="$(BOARDS)" $(PY) -m pytest tests

# The power-cut test alone: 50 SIGKILLs of QEMU per board during heavy writes (make test: 5).
powercut: firmware-all
	@MULTIOS_BOARDS="$(BOARDS)" MULTIOS_POWERCUTS=50 $(PY) -m pytest -q tests/boot/test_boot_powercut.py

unit: unix
	@$(PY) -m pytest tests/unit

boot: firmware-all
	@MULTIOS_BOARDS="$(BOARDS)" $(PY) -m pytest tests/boot

bench: unix firmware-all stock
	@MULTIOS_BOARDS="$(if $(filter command line,$(origin BOARD)),$(BOARD),$(BOARDS))" $(PY) tools/bench.py

# MicroPython's own tests (build/micropython/tests/run-tests.py over a QEMU pty) on stock and on
# MultiOS, one table (README, Conformance). Long: about 20 minutes per firmware here.
# CONFORMANCE_ARGS: e.g. --boards stock,arm --suites basics,float (tools/conformance.py -h).
conformance: stock firmware-all
	@$(PY) tools/conformance.py $(CONFORMANCE_ARGS)

# STYLE.md: ruff format (line length 99) and ruff check, settings in ruff.toml.
lint: setup
	@test -x $(VENV)/bin/ruff || $(VENV)/bin/pip install -q --disable-pip-version-check ruff
	@$(VENV)/bin/ruff format --check kernel hal services tools tests
	@$(VENV)/bin/ruff check kernel hal services tools tests

clean:
	rm -rf build/unix build/arm build/x86_64 build/stock build/conformance
