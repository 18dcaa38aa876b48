# Frozen into every board's firmware: the project's packages ($(PORT_DIR) is the repo root,
# where boards/common/port.mk runs). No Python source is loaded from outside at boot.
package("hal", base_path="$(PORT_DIR)")
package("kernel", base_path="$(PORT_DIR)")
package("services", base_path="$(PORT_DIR)")
