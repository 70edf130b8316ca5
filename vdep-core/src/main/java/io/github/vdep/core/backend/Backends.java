package io.github.vdep.core.backend;

import io.github.vdep.core.autograd.Tensor;
import io.github.vdep.core.device.Device;
import io.github.vdep.core.device.DeviceUnavailableException;
import io.github.vdep.core.ops.CpuBackend;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The registry of backends and the dispatch point of every primitive: {@link #of} returns the
 * backend of its inputs' device, and fails in one line when they are on different devices. The
 * CPU backend is built in; other device types come from {@link BackendProvider}s.
 */
public final class Backends {
    private static final Map<String, BackendProvider> PROVIDERS = new ConcurrentHashMap<>();
    private static final Map<Device, DeviceBackend> OPEN = new ConcurrentHashMap<>();
    private static volatile boolean discovered;
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(Backends.class);

    private Backends() {
    }

    /** The CPU backend (vdep's native kernels where they loaded, ND4J otherwise). */
    public static Backend cpu() {
        return CpuBackend.INSTANCE;
    }

    /** The backend for a one-input op. */
    public static Backend of(String op, Tensor a) {
        return a.onCpu() ? CpuBackend.INSTANCE : device(a.device());
    }

    /** The backend for a two-input op; {@code b} may be null (an absent optional input). */
    public static Backend of(String op, Tensor a, Tensor b) {
        if (a.onCpu() && (b == null || b.onCpu())) {
            return CpuBackend.INSTANCE;
        }
        return common(op, a, b);
    }

    /** The backend for a three-input op; {@code c} may be null. */
    public static Backend of(String op, Tensor a, Tensor b, Tensor c) {
        if (a.onCpu() && b.onCpu() && (c == null || c.onCpu())) {
            return CpuBackend.INSTANCE;
        }
        return common(op, a, b, c);
    }

    /** The backend for an op over any number of inputs (nulls are absent optional inputs). */
    public static Backend of(String op, Tensor... inputs) {
        boolean cpu = true;
        for (Tensor t : inputs) {
            if (t != null && !t.onCpu()) {
                cpu = false;
                break;
            }
        }
        return cpu ? CpuBackend.INSTANCE : common(op, inputs);
    }

    private static Backend common(String op, Tensor... inputs) {
        Device d = null;
        for (Tensor t : inputs) {
            if (t == null) {
                continue;
            }
            if (d == null) {
                d = t.device();
            } else if (!d.equals(t.device())) {
                throw new IllegalArgumentException(op + ": inputs are on different devices (" + d + " and " + t.device()
                        + "); move them to one device with .to(device)");
            }
        }
        return d == null || d.isCpu() ? CpuBackend.INSTANCE : device(d);
    }

    /** The backend of a device: the CPU one, or a provider's (opened on first use). */
    public static Backend forDevice(Device device) {
        return device.isCpu() ? CpuBackend.INSTANCE : device(device);
    }

    /**
     * The backend of an accelerator, opened on first use.
     *
     * @throws DeviceUnavailableException saying why the device cannot be used
     */
    public static DeviceBackend device(Device device) {
        if (device.isCpu()) {
            throw new IllegalArgumentException("cpu has no device backend (CPU tensors are ND4J arrays)");
        }
        DeviceBackend open = OPEN.get(device);
        if (open != null) {
            return open;
        }
        synchronized (Backends.class) {
            open = OPEN.get(device);
            if (open == null) {
                BackendProvider p = provider(device.type());
                if (p == null) {
                    throw new DeviceUnavailableException(device, "vdep's " + device.type() + " backend is not in this build");
                }
                open = p.open(device);
                OPEN.put(device, open);
            }
            return open;
        }
    }

    /**
     * Checks that {@code device} can be used, opening its backend: what commands call on their
     * {@code --device} before doing any work.
     *
     * @throws DeviceUnavailableException saying why not
     */
    public static void require(Device device) {
        forDevice(device);
    }

    /** Adds (or replaces) the provider of a device type; backends it opened before are kept. */
    public static void register(BackendProvider provider) {
        PROVIDERS.put(provider.deviceType(), provider);
    }

    /** The provider of a device type, or null if none is registered or on the class path. */
    public static BackendProvider provider(String deviceType) {
        discover();
        return PROVIDERS.get(deviceType);
    }

    /** All providers by device type (for {@code vdep info}). */
    public static Map<String, BackendProvider> providers() {
        discover();
        return new LinkedHashMap<>(PROVIDERS);
    }

    private static void discover() {
        if (discovered) {
            return;
        }
        synchronized (Backends.class) {
            if (discovered) {
                return;
            }
            List<BackendProvider> found = new ArrayList<>();
            var it = ServiceLoader.load(BackendProvider.class, Backends.class.getClassLoader()).iterator();
            while (true) {
                try {
                    if (!it.hasNext()) {
                        break;
                    }
                    found.add(it.next());
                } catch (java.util.ServiceConfigurationError e) {
                    // a provider that cannot even be created: its device type stays unavailable, with this reason
                    LOG.warn("backend provider not loaded: {}", e.getMessage());
                }
            }
            for (BackendProvider p : found) {
                PROVIDERS.putIfAbsent(p.deviceType(), p);
            }
            discovered = true;
        }
    }
}
