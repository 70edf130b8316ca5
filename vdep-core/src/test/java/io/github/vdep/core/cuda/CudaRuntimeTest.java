package io.github.vdep.core.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What CUDA's availability looks like from Java: a one-line reason (never an
 * UnsatisfiedLinkError) when the library is missing or the machine has no driver or device.
 */
class CudaRuntimeTest {

    @Test
    void aMissingLibraryIsOneLineNamingWhereItLooked(@TempDir Path dir) {
        CudaRuntime.Status s = CudaRuntime.probe(dir.toString());
        assertFalse(s.available());
        assertFalse(s.kernelsLoaded());
        String r = s.reason();
        assertFalse(r.contains("\n"), r);
        assertTrue(r.contains(dir.resolve(CudaRuntime.LIBRARY).toString()), r);
        assertTrue(r.contains("build.sh"), r);
    }

    @Test
    void aFileThatIsNotALibraryFailsToLoadWithOneLine(@TempDir Path dir) throws Exception {
        Path fake = Files.writeString(dir.resolve(CudaRuntime.LIBRARY), "not an ELF file");
        CudaRuntime.Status s = CudaRuntime.probe(fake.toString());
        assertFalse(s.available());
        assertTrue(s.reason().startsWith(CudaRuntime.LIBRARY + " from " + fake + " failed to load"), s.reason());
        assertFalse(s.reason().contains("\n"), s.reason());
    }

    /**
     * The jar's own library: built wherever nvcc was present at build time. On a machine with
     * neither driver nor GPU (this project's CI) it loads and then reports the missing driver;
     * without nvcc it says the kernels were not built.
     */
    @Test
    void theDefaultProbeExplainsItselfInOneLine() {
        CudaRuntime.Status s = CudaRuntime.status();
        boolean built = CudaRuntime.class.getResource(CudaRuntime.RESOURCE) != null;
        assertEquals(built, s.kernelsLoaded(), String.valueOf(s));
        if (s.available()) {
            assertNull(s.reason());
            assertFalse(s.devices().isEmpty());
            assertTrue(s.runtimeVersion() > 0);
            return;
        }
        String r = s.reason();
        assertNotNull(r);
        assertFalse(r.isBlank());
        assertFalse(r.contains("\n"), r);
        if (!built) {
            assertTrue(r.contains("not built"), r);
        } else if (!Files.exists(Path.of("/dev/nvidia0")) && !CudaRuntime.driverLibraryPresent()) {
            assertTrue(r.startsWith("no NVIDIA driver"), r);
        }
        CudaException e = assertThrows(CudaException.class, CudaRuntime::requireAvailable);
        assertEquals("CUDA is not available: " + r, e.getMessage());
        assertThrows(CudaException.class, () -> CudaRuntime.selectDevice(0));
    }

    @Test
    void versionsReadAsMajorDotMinor() {
        assertEquals("13.0", CudaRuntime.versionString(13000));
        assertEquals("12.4", CudaRuntime.versionString(12040));
        assertEquals("unknown", CudaRuntime.versionString(0));
    }
}
