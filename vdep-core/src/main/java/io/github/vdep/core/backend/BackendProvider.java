package io.github.vdep.core.backend;

import io.github.vdep.core.device.Device;
import io.github.vdep.core.device.DeviceUnavailableException;
import java.util.List;

/**
 * Plugs a device type into vdep: found with {@link java.util.ServiceLoader} (a
 * {@code META-INF/services/io.github.vdep.core.backend.BackendProvider} file naming the class,
 * which needs a public no-argument constructor) or added with {@link Backends#register}.
 * Creating a provider must be cheap and must not fail: loading native code and probing the
 * driver belong in {@link #open} and {@link #describe}.
 */
public interface BackendProvider {
    /** The device type it serves, for example {@code cuda}. */
    String deviceType();

    /**
     * The backend for one device of this type, opened once per device and cached by
     * {@link Backends}.
     *
     * @throws DeviceUnavailableException with one line saying why (no driver, no device with
     *     that index, kernels not built, ...)
     */
    DeviceBackend open(Device device);

    /**
     * Lines for {@code vdep info}: whether the backend can run here and, if not, why; its
     * devices with memory, driver and runtime versions; whether its kernels loaded. Must not throw.
     */
    List<String> describe();
}
