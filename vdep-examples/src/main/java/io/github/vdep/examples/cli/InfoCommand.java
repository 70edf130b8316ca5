package io.github.vdep.examples.cli;

import io.github.vdep.core.backend.BackendProvider;
import io.github.vdep.core.backend.Backends;
import io.github.vdep.core.ops.NativeKernels;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.nd4j.linalg.factory.Nd4j;
import picocli.CommandLine.Command;

/**
 * {@code vdep info}: what this machine and build can run on: Java, OS and CPU, ND4J's backend,
 * whether vdep's CPU kernels loaded (and if not, why), and the CUDA devices and kernels as the
 * CUDA backend's provider reports them.
 */
@Command(name = "info", mixinStandardHelpOptions = true,
        description = "Print Java, OS, CPU, the ND4J backend, whether the CPU kernels loaded, and the CUDA devices and kernels.")
public final class InfoCommand implements Callable<Integer> {
    /** The line for CUDA when no provider of the {@code cuda} device type is on the class path. */
    static final String NO_CUDA = "CUDA: not available: vdep's CUDA backend is not in this build";

    @Override
    public Integer call() {
        print(System.out);
        return 0;
    }

    static void print(PrintStream out) {
        out.printf("Java:         %s %s (%s)%n", System.getProperty("java.vm.name"), System.getProperty("java.runtime.version"),
                System.getProperty("java.home"));
        out.printf("OS:           %s %s %s%n", System.getProperty("os.name"), System.getProperty("os.version"), System.getProperty("os.arch"));
        out.printf("CPU:          %s, %d cores available%n", cpuModel(), Runtime.getRuntime().availableProcessors());
        out.printf("ND4J:         %s, backend %s, %d threads%n", nd4jVersion(), Nd4j.getBackend().getClass().getName(),
                Nd4j.getEnvironment().maxThreads());
        out.printf("CPU kernels:  %s%n", NativeKernels.status());
        Map<String, BackendProvider> providers = Backends.providers();
        BackendProvider cuda = providers.remove("cuda");
        for (String line : cuda == null ? List.of(NO_CUDA) : describe(cuda)) {
            out.println(line);
        }
        for (BackendProvider p : providers.values()) {
            for (String line : describe(p)) {
                out.println(line);
            }
        }
    }

    /** A provider's lines; a provider that fails to describe itself is reported, not fatal. */
    private static List<String> describe(BackendProvider p) {
        try {
            List<String> lines = p.describe();
            return lines.isEmpty() ? List.of(p.deviceType().toUpperCase(Locale.ROOT) + ": no information") : lines;
        } catch (RuntimeException | LinkageError e) {
            return List.of(p.deviceType().toUpperCase(Locale.ROOT) + ": not available: " + e);
        }
    }

    private static String cpuModel() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) {
                    return line.substring(line.indexOf(':') + 1).trim();
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux: fall through
        }
        return System.getProperty("os.arch");
    }

    private static String nd4jVersion() {
        String v = Nd4j.class.getPackage().getImplementationVersion();
        return v == null ? "1.0.0-M2.1" : v;
    }
}
