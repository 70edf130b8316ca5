package io.github.vdep.examples.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.github.vdep.core.backend.BackendProvider;
import io.github.vdep.core.backend.Backends;
import io.github.vdep.core.device.Device;
import io.github.vdep.core.device.DeviceUnavailableException;
import io.github.vdep.core.ops.NativeKernels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code --device} on every command and {@code vdep info}, on a machine without vdep's CUDA backend. */
class DeviceSelectionTest {
    @TempDir
    Path dir;

    /** Runs the CLI with stdout and stderr captured: {exit code, stdout, stderr}. */
    private static Object[] run(String... args) {
        return CapturedRun.of(args).asArray();
    }

    /** Lines that are not test logging (timestamped). */
    private static List<String> lines(Object text) {
        return ((String) text).lines().filter(l -> !l.matches("^\\d\\d:\\d\\d:\\d\\d.*")).toList();
    }

    @Test
    void infoReportsJavaOsCpuNd4jTheCpuKernelsAndThatCudaIsNotAvailable() {
        Object[] r = run("info");
        assertEquals(0, r[0], String.valueOf(r[2]));
        List<String> out = lines(r[1]);
        assertTrue(out.get(0).startsWith("Java:         ") && out.get(0).contains(System.getProperty("java.runtime.version")), out.toString());
        assertTrue(out.get(1).startsWith("OS:           " + System.getProperty("os.name")), out.toString());
        assertTrue(out.get(2).matches("CPU:          .+, \\d+ cores available"), out.toString());
        assertTrue(out.get(3).startsWith("ND4J:         1.0.0-M2.1, backend org.nd4j.linalg.cpu.nativecpu.CpuBackend"), out.toString());
        assertEquals("CPU kernels:  " + NativeKernels.status(), out.get(4));
        assertTrue(NativeKernels.status().equals("loaded") || NativeKernels.status().startsWith("not loaded: "), NativeKernels.status());
        BackendProvider cuda = Backends.provider("cuda");
        if (cuda == null) {
            assertEquals("CUDA: not available: vdep's CUDA backend is not in this build", out.get(5));
        } else {
            // the CUDA backend's own report (devices, versions, kernels; or why it cannot run)
            List<String> lines = cuda.describe();
            assertEquals(lines, out.subList(5, 5 + lines.size()));
        }
    }

    /** Why {@code cuda:N} cannot be used here, as the commands must report it; null if it can. */
    private static String unavailable(String device) {
        try {
            Backends.require(Device.parse(device));
            return null;
        } catch (DeviceUnavailableException e) {
            return e.getMessage();
        }
    }

    @Test
    void everyCommandRefusesCudaWhereThereIsNoneWithOneLineAndExitCode2() {
        Path out = dir.resolve("out");
        String[][] commands = {
            {"train", "--model", dir.resolve("missing").toString(), "--data", dir.resolve("d.json").toString(), "--out", out.toString()},
            {"demo", "--quick", "--out", out.toString()},
            {"generate", "--model", dir.resolve("missing").toString(), "--prompt", "hi"},
            {"eval", "--model", dir.resolve("missing").toString(), "--data", dir.resolve("d.json").toString(), "--out", out.toString()},
            {"attention-map", "--model", dir.resolve("missing").toString(), "--image", dir.resolve("i.png").toString(), "--prompt", "hi",
                    "--out", out.toString()},
            {"bench", "--steps", "1"},
        };
        for (String device : new String[] {"cuda", "cuda:1"}) {
            String why = unavailable(device);
            assumeTrue(why != null, device + " is usable on this machine: nothing to refuse");
            assertTrue(why.startsWith(Device.parse(device) + ": not available: "), why);
            if (Backends.provider("cuda") == null) {
                assertEquals(Device.parse(device) + ": not available: vdep's cuda backend is not in this build", why);
            }
            for (String[] command : commands) {
                String[] args = java.util.stream.Stream.concat(java.util.Arrays.stream(command), java.util.stream.Stream.of("--device", device))
                        .toArray(String[]::new);
                Object[] r = run(args);
                assertEquals(2, r[0], String.join(" ", args) + "\n" + r[1] + r[2]);
                assertEquals(List.of("vdep " + command[0] + ": error: " + why), lines(r[2]), String.join(" ", args));
                assertFalse(Files.exists(out), "nothing was done: " + String.join(" ", args));
            }
        }
    }

    @Test
    void aBadDeviceIsAUsageErrorNamingTheAcceptedForms() {
        Object[] r = run("generate", "--model", "m", "--prompt", "p", "--device", "gpu");
        assertEquals(2, r[0]);
        assertEquals("Invalid value for option '--device': device 'gpu' is not cpu, cuda or cuda:N", ((String) r[2]).lines().findFirst().orElse(""));
    }
}
