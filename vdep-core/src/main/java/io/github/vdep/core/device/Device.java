package io.github.vdep.core.device;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Where a tensor's data lives: {@code cpu} (an ND4J array in host memory) or an accelerator such
 * as {@code cuda:0}, written as PyTorch writes devices.
 *
 * @param type the kind of device: {@code cpu}, {@code cuda}, or a type a {@link io.github.vdep.core.backend.BackendProvider} adds
 * @param index the device number within its type (always 0 for {@code cpu})
 */
public record Device(String type, int index) {
    private static final Pattern TYPE = Pattern.compile("[a-z][a-z0-9_]*");
    private static final Pattern SPEC = Pattern.compile("([a-z][a-z0-9_]*)(?::(\\d{1,4}))?");

    /** The host: tensors are ND4J arrays, computed by vdep's CPU kernels or ND4J. */
    public static final Device CPU = new Device("cpu", 0);

    public Device {
        if (type == null || !TYPE.matcher(type).matches()) {
            throw new IllegalArgumentException("device type '" + type + "' is not a lower-case name like cpu or cuda");
        }
        if (index < 0 || ("cpu".equals(type) && index != 0)) {
            throw new IllegalArgumentException("device " + type + ":" + index + " does not exist (cpu has only index 0)");
        }
    }

    /** The CUDA GPU with this index (as {@code CUDA_VISIBLE_DEVICES} numbers them). */
    public static Device cuda(int index) {
        return new Device("cuda", index);
    }

    /**
     * Parses {@code cpu}, {@code cuda} (GPU 0) or {@code cuda:N}, the values of the commands'
     * {@code --device} option.
     *
     * @throws IllegalArgumentException with a one-line message for anything else
     */
    public static Device parse(String spec) {
        Matcher m = spec == null ? null : SPEC.matcher(spec.trim());
        if (m == null || !m.matches() || !("cpu".equals(m.group(1)) && m.group(2) == null || "cuda".equals(m.group(1)))) {
            throw new IllegalArgumentException("device '" + spec + "' is not cpu, cuda or cuda:N");
        }
        return "cpu".equals(m.group(1)) ? CPU : cuda(m.group(2) == null ? 0 : Integer.parseInt(m.group(2)));
    }

    /** Whether this is the host. */
    public boolean isCpu() {
        return "cpu".equals(type);
    }

    /** {@code cpu} or {@code type:index}, the form {@link #parse} reads. */
    @Override
    public String toString() {
        return isCpu() ? "cpu" : type + ":" + index;
    }
}
