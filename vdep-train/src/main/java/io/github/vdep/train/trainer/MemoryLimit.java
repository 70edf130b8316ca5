package io.github.vdep.train.trainer;

import java.util.ArrayList;
import java.util.List;
import org.bytedeco.javacpp.Pointer;

/**
 * A bound on the memory a run may still take: {@link MemoryEstimate#check} refuses a run whose
 * estimate exceeds any of them.
 *
 * <p>{@link #host()} gives the host's bounds. A device backend adds its own (free device memory)
 * to the list it hands to {@link MemoryEstimate#check}; nothing else needs to change.
 *
 * @param name what the bound is, as the refusal names it (e.g. {@code "JavaCPP off-heap limit (org.bytedeco.javacpp.maxbytes)"})
 * @param availableBytes how many bytes of it are still free
 */
public record MemoryLimit(String name, long availableBytes) {

    /**
     * The host's bounds on ND4J's (off-heap) tensor memory: JavaCPP's {@code maxbytes} budget (by
     * default the JVM's {@code -Xmx}), its {@code maxphysicalbytes} bound on the process's
     * resident memory, and the physical memory the system has available now.
     */
    public static List<MemoryLimit> host() {
        List<MemoryLimit> limits = new ArrayList<>();
        long max = Pointer.maxBytes();
        if (max > 0) {
            limits.add(new MemoryLimit("JavaCPP off-heap limit (-Dorg.bytedeco.javacpp.maxbytes, default -Xmx)",
                    Math.max(0, max - Pointer.totalBytes())));
        }
        long maxPhysical = Pointer.maxPhysicalBytes();
        if (maxPhysical > 0) {
            limits.add(new MemoryLimit("process memory limit (-Dorg.bytedeco.javacpp.maxphysicalbytes)",
                    Math.max(0, maxPhysical - Pointer.physicalBytes())));
        }
        long available = Pointer.availablePhysicalBytes();
        if (available > 0) {
            limits.add(new MemoryLimit("available physical memory", available));
        }
        return limits;
    }
}
