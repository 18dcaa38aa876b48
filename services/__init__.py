# services: system services, example services and the console shell.
#
# Owns: BOOT, the static list of services started at boot, in order, as (name, async fn)
# pairs; kernel/boot.py starts each as a kernel task. The service-manager issue replaces this
# list with unit files and dependency order.
# Not here: the shell, which boot starts last and on its own (services/shell.py).
from services import heartbeat

BOOT = (("heartbeat", heartbeat.main),)
