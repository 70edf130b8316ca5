package io.github.vdep.core.cuda;

import io.github.vdep.core.backend.BackendProvider;
import io.github.vdep.core.backend.DeviceBackend;
import io.github.vdep.core.device.Device;
import io.github.vdep.core.device.DeviceUnavailableException;
import java.util.ArrayList;
import java.util.List;

/** Registers {@link CudaBackend} for the {@code cuda} device type (found by ServiceLoader). */
public final class CudaBackendProvider implements BackendProvider {
    public CudaBackendProvider() {
    }

    @Override
    public String deviceType() {
        return "cuda";
    }

    @Override
    public DeviceBackend open(Device device) {
        CudaRuntime.Status s = CudaRuntime.status();
        if (!s.available()) {
            throw new DeviceUnavailableException(device, s.reason());
        }
        int count = s.devices().size();
        if (device.index() < 0 || device.index() >= count) {
            throw new DeviceUnavailableException(device, "no device " + device + " (" + count + " CUDA device" + (count == 1 ? "" : "s") + " found)");
        }
        try {
            return new CudaBackend(device);
        } catch (CudaException e) {
            throw new DeviceUnavailableException(device, e.getMessage());
        }
    }

    @Override
    public List<String> describe() {
        try {
            CudaRuntime.Status s = CudaRuntime.status();
            List<String> lines = new ArrayList<>();
            if (!s.kernelsLoaded()) {
                lines.add("CUDA: not available: " + s.reason());
                return lines;
            }
            String versions = "driver " + CudaRuntime.versionString(s.driverVersion()) + ", runtime " + CudaRuntime.versionString(s.runtimeVersion());
            if (!s.available()) {
                lines.add("CUDA: kernels loaded (" + CudaRuntime.LIBRARY + " from " + s.library() + "), not available: " + s.reason());
                return lines;
            }
            lines.add("CUDA: " + versions + ", kernels loaded (" + CudaRuntime.LIBRARY + " from " + s.library() + ")");
            for (CudaRuntime.Device d : s.devices()) {
                lines.add(d.toString());
            }
            return lines;
        } catch (RuntimeException | LinkageError e) {
            return List.of("CUDA: not available: " + CudaRuntime.firstLine(String.valueOf(e.getMessage())));
        }
    }
}
