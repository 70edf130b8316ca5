package io.github.vdep.core.device;

/**
 * A device was asked for that this process cannot use. The message is one line saying why (no
 * driver, no such device, kernels not built, no backend on the class path); commands print it
 * and exit with status 2. vdep never falls back to the CPU silently.
 */
public final class DeviceUnavailableException extends RuntimeException {
    private final Device device;

    public DeviceUnavailableException(Device device, String reason) {
        super(device + ": not available: " + reason);
        this.device = device;
    }

    /** The device that was asked for. */
    public Device device() {
        return device;
    }
}
