package io.github.vdep.core.cuda;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * vdep's CUDA library ({@code libvdepcuda.so}, built from {@code vdep-core/src/main/cuda} by nvcc):
 * whether it can be used here, the devices, and the runtime calls (memory, copies,
 * synchronisation). The library comes from the jar, or from the directory (or file) named by
 * {@code -Dvdep.cuda.lib} or {@code VDEP_CUDA_LIB}, which is how a library built on the GPU
 * machine itself ({@code build.sh}) is used.
 *
 * <p>Nothing is loaded until {@link #status()} is first asked for. When CUDA cannot be used,
 * {@link #unavailableReason()} says why in one line: kernels not built, library failed to
 * load, no driver, no device, cuBLAS not found.
 */
public final class CudaRuntime {
    private static final Logger LOG = LoggerFactory.getLogger(CudaRuntime.class);
    /** The library's file name. */
    public static final String LIBRARY = "libvdepcuda.so";
    static final String RESOURCE = "/native/linux-x86_64/" + LIBRARY;
    /** System property naming the library's directory (or file); the environment variable is {@link #ENV}. */
    public static final String PROPERTY = "vdep.cuda.lib";
    public static final String ENV = "VDEP_CUDA_LIB";

    private static volatile Status status;
    private static volatile boolean loaded;

    private CudaRuntime() {
    }

    /** A CUDA device. */
    public record Device(int index, String name, long totalMemory, int major, int minor, int multiprocessors) {
        /** For example {@code 9.0}. */
        public String computeCapability() {
            return major + "." + minor;
        }

        @Override
        public String toString() {
            return String.format(Locale.ROOT, "cuda:%d %s, %.1f GiB, compute capability %s, %d SMs", index, name,
                    totalMemory / (double) (1L << 30), computeCapability(), multiprocessors);
        }
    }

    /**
     * What the probe found.
     *
     * @param library where the library was loaded from, or null
     * @param reason null when CUDA can be used, else the one-line reason
     * @param driverVersion CUDA version the driver supports (for example 13000), 0 if unknown
     * @param runtimeVersion CUDA runtime version the library was built with, 0 if unknown
     */
    public record Status(String library, String reason, int driverVersion, int runtimeVersion, List<Device> devices) {
        public boolean available() {
            return reason == null;
        }

        /** Whether libvdepcuda.so itself loaded (the kernels were built), whatever else is missing. */
        public boolean kernelsLoaded() {
            return library != null;
        }
    }

    /** The probe's result, computed once per process. */
    public static Status status() {
        Status s = status;
        if (s == null) {
            synchronized (CudaRuntime.class) {
                s = status;
                if (s == null) {
                    s = probe(System.getProperty(PROPERTY, System.getenv(ENV)));
                    status = s;
                    LOG.debug("CUDA: {}", s.available() ? s.devices() : s.reason());
                }
            }
        }
        return s;
    }

    /** Whether CUDA can be used: library, driver, a device and cuBLAS. */
    public static boolean available() {
        return status().available();
    }

    /** Why CUDA cannot be used, in one line; null when it can. */
    public static String unavailableReason() {
        return status().reason();
    }

    /** Throws {@link CudaException} with {@link #unavailableReason()} unless CUDA can be used. */
    public static void requireAvailable() {
        Status s = status();
        if (!s.available()) {
            throw new CudaException("CUDA is not available: " + s.reason());
        }
    }

    /** Makes {@code index} the current device of the calling thread (after checking it exists). */
    public static void selectDevice(int index) {
        requireAvailable();
        int count = status().devices().size();
        if (index < 0 || index >= count) {
            throw new CudaException("cuda:" + index + " asked for, but this machine has " + count + " CUDA device" + (count == 1 ? "" : "s")
                    + " (cuda:0" + (count > 1 ? " to cuda:" + (count - 1) : "") + ")");
        }
        setDevice(index);
    }

    /** A CUDA version number such as 13000 as {@code 13.0}. */
    public static String versionString(int v) {
        return v <= 0 ? "unknown" : (v / 1000) + "." + (v % 1000) / 10;
    }

    /**
     * Finds, loads and queries the library; never throws. {@code override} is a directory
     * holding libvdepcuda.so or the file itself (null: the jar's copy).
     */
    static Status probe(String override) {
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        String arch = System.getProperty("os.arch", "");
        if (!os.contains("linux") || !(arch.equals("amd64") || arch.equals("x86_64"))) {
            return unavailable(null, "the CUDA kernels are built for Linux x86-64 only, this is " + os + " " + arch);
        }
        Path file;
        if (override != null && !override.isBlank()) {
            Path p = Path.of(override);
            file = Files.isDirectory(p) ? p.resolve(LIBRARY) : p;
            if (!Files.isRegularFile(file)) {
                return unavailable(null, "no " + LIBRARY + " at " + file + " (from -D" + PROPERTY + " / " + ENV
                        + "); build it there with src/main/cuda/build.sh " + (Files.isDirectory(p) ? p : p.getParent()));
            }
        } else {
            file = extractResource();
            if (file == null) {
                return unavailable(null, "the CUDA kernels were not built (no nvcc when vdep was built); build them with "
                        + "vdep-core/src/main/cuda/build.sh DIR and set " + ENV + "=DIR");
            }
        }
        String where = override != null && !override.isBlank() ? file.toString() : "the vdep jar";
        try {
            synchronized (CudaRuntime.class) {
                if (!loaded) {
                    System.load(file.toAbsolutePath().toString());
                    loaded = true;
                }
            }
        } catch (UnsatisfiedLinkError e) {
            return unavailable(null, LIBRARY + " from " + where + " failed to load: " + firstLine(e.getMessage()));
        }
        try {
            if (!driverLibraryPresent()) {
                return unavailable(where, "no NVIDIA driver: libcuda.so.1 cannot be loaded (is this a GPU machine with the NVIDIA driver installed?)");
            }
            int driver = driverVersion();
            int runtime = runtimeVersion();
            if (driver > 0 && runtime > 0 && driver / 1000 < runtime / 1000) {
                return new Status(where, "the NVIDIA driver supports CUDA " + versionString(driver) + ", but the kernels were built with CUDA "
                        + versionString(runtime) + ": update the driver, or build the kernels with an older CUDA toolkit", driver, runtime, List.of());
            }
            int count;
            try {
                count = deviceCount();
            } catch (CudaException e) {
                return new Status(where, "no usable CUDA device (" + firstLine(e.getMessage()) + ")", driver, runtime, List.of());
            }
            if (count == 0) {
                return new Status(where, "no CUDA device found", driver, runtime, List.of());
            }
            List<Device> devices = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                long[] p = deviceProperties(i);
                devices.add(new Device(i, deviceName(i), p[0], (int) p[1], (int) p[2], (int) p[3]));
            }
            String cublas = loadCublas();
            if (cublas != null) {
                return new Status(where, firstLine(cublas), driver, runtime, List.copyOf(devices));
            }
            return new Status(where, null, driver, runtime, List.copyOf(devices));
        } catch (CudaException | UnsatisfiedLinkError e) {
            return unavailable(where, "CUDA probe failed: " + firstLine(e.getMessage()));
        }
    }

    private static Status unavailable(String library, String reason) {
        return new Status(library, reason, 0, 0, List.of());
    }

    private static Path extractResource() {
        try (InputStream in = CudaRuntime.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                return null;
            }
            Path file = Files.createTempFile("libvdepcuda", ".so");
            file.toFile().deleteOnExit();
            Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
            return file;
        } catch (IOException e) {
            LOG.warn("could not extract {}: {}", LIBRARY, e.toString());
            return null;
        }
    }

    static String firstLine(String s) {
        if (s == null) {
            return "";
        }
        int nl = s.indexOf('\n');
        return (nl < 0 ? s : s.substring(0, nl)).trim();
    }

    // ---------------------------------------------------------------- natives (runtime.cu)

    static native boolean driverLibraryPresent();

    static native int driverVersion();

    static native int runtimeVersion();

    static native int deviceCount();

    static native String deviceName(int device);

    /** {total memory bytes, compute capability major, minor, multiprocessors}. */
    static native long[] deviceProperties(int device);

    static native void setDevice(int device);

    /** {free, total} bytes of the current device. */
    public static native long[] memoryInfo();

    /** Device memory, or 0 when the device is out of memory. Use {@link CudaAllocator} instead. */
    static native long malloc(long bytes);

    static native void free(long address);

    /** Copies {@code bytes} from host memory at {@code hostSrc} (for example an ND4J buffer's address). */
    public static native void copyToDevice(long dst, long hostSrc, long bytes);

    public static native void copyToHost(long hostDst, long src, long bytes);

    public static native void copyOnDevice(long dst, long src, long bytes);

    /** Copies from a direct buffer, starting {@code offset} bytes in. */
    public static native void copyBufferToDevice(long dst, ByteBuffer buffer, long offset, long bytes);

    public static native void copyDeviceToBuffer(ByteBuffer buffer, long offset, long src, long bytes);

    public static native void memset(long dst, int value, long bytes);

    /** Waits for all queued work; asynchronous errors surface here. */
    public static native void synchronize();

    /** The pending CUDA error string ("no error" when none). */
    public static native String lastError();

    /** Null when cuBLAS loads, else why not. */
    static native String loadCublas();

    /** TF32 tensor-core math for the FP32 matrix products (off by default and for parity checks). */
    public static native void setTf32(boolean on);
}
