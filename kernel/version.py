# kernel/version: the MultiOS version, in this one place (the boot banner, `make bench`).
VERSION = "0.1.0"
