package io.github.vdep.core.device;

import java.util.Locale;

/**
 * The number format training and inference compute in ({@code --precision}).
 *
 * <p>{@link #BF16} is mixed precision as LLaVA trains: BF16 weight copies and activations, FP32
 * accumulation, FP32 master weights, gradients and AdamW moments, FP32 softmax and norm statistics
 * and losses. No device runs it yet: on the CPU ND4J's BF16 matrix products are far slower than
 * FP32, and the CUDA BF16 kernels are not built yet. Asking for it fails in one line
 * ({@link #requireSupported(Device)}); it never silently runs FP32.
 */
public enum Precision {
    /** Float32 throughout. */
    FP32("fp32"),
    /** BF16 mixed precision with FP32 master weights. */
    BF16("bf16");

    private final String label;

    Precision(String label) {
        this.label = label;
    }

    /**
     * The option value and the name in metrics and benchmark output.
     *
     * @return fp32 or bf16
     */
    public String label() {
        return label;
    }

    /**
     * Parses {@code fp32} or {@code bf16} (also torch's {@code float32}, {@code bfloat16}), any case.
     *
     * @param value the option's value
     * @return the precision
     * @throws IllegalArgumentException naming the accepted values
     */
    public static Precision parse(String value) {
        return switch (value.toLowerCase(Locale.ROOT)) {
            case "fp32", "float32" -> FP32;
            case "bf16", "bfloat16" -> BF16;
            default -> throw new IllegalArgumentException("--precision '" + value + "' is not fp32 or bf16");
        };
    }

    /**
     * The precision used when none is asked for. The goal (issue 12) is BF16 on CUDA and FP32 on
     * the CPU; while no device can run BF16 the default is FP32 everywhere, so that a plain
     * {@code --device cuda} run works instead of failing.
     *
     * @param device where the work runs
     * @return FP32 today, on every device
     */
    public static Precision defaultFor(Device device) {
        return FP32;
    }

    /**
     * Checks that this precision can run on a device.
     *
     * @param device where the work would run
     * @throws PrecisionUnsupportedException with one line saying why and what to pass instead
     */
    public void requireSupported(Device device) {
        if (this == FP32) {
            return;
        }
        if (device.type().equals("cpu")) {
            throw new PrecisionUnsupportedException("--precision bf16 is not supported on the CPU: ND4J's BF16 matrix products are far"
                    + " slower than FP32 (docs/performance.md); use --precision fp32");
        }
        throw new PrecisionUnsupportedException("--precision bf16 on " + device + ": the CUDA BF16 kernels are not built yet;"
                + " pass --precision fp32");
    }
}
