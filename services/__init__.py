# services: system services, example services and the console shell.
#
# Owns: the frozen unit files (services/units.py) that the service manager starts at boot,
# the example services they run (heartbeat, pair), and the shell with its commands (`svc`
# lives in services/svc.py).
# Not here: the service manager itself (kernel/svc.py and below).
