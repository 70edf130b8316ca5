package io.github.vdep.models.hf;

import java.util.Locale;
import java.util.Objects;

/**
 * How a model's weights are written, as Hugging Face's {@code save_pretrained} does it: the
 * floating-point type of the saved tensors and the most bytes of tensor data per shard.
 *
 * <p>vdep keeps its master weights in float32 whatever the training precision (as PyTorch's
 * mixed precision does), and {@code save_pretrained} writes the weights in the type they are held
 * in, so {@link #DEFAULT} is float32 with Hugging Face's 5GB shards.
 *
 * @param dtype F32, BF16 or F16: every floating-point weight is converted to it (rounding to
 *     nearest even, as {@code torch.Tensor.to} does)
 * @param maxShardBytes the most tensor data per shard; one tensor larger than this gets a shard of
 *     its own
 */
public record SaveOptions(SafeTensorDtype dtype, long maxShardBytes) {

    /** Hugging Face's default {@code max_shard_size}, "5GB" (5 * 10^9 bytes). */
    public static final long DEFAULT_MAX_SHARD_BYTES = 5_000_000_000L;

    /** float32 in 5GB shards. */
    public static final SaveOptions DEFAULT = new SaveOptions(SafeTensorDtype.F32, DEFAULT_MAX_SHARD_BYTES);

    public SaveOptions {
        Objects.requireNonNull(dtype, "dtype");
        if (dtype != SafeTensorDtype.F32 && dtype != SafeTensorDtype.BF16 && dtype != SafeTensorDtype.F16) {
            throw new IllegalArgumentException("save dtype " + dtype + " is not F32, BF16 or F16");
        }
        if (maxShardBytes <= 0) {
            throw new IllegalArgumentException("max shard size must be positive: " + maxShardBytes);
        }
    }

    /**
     * The value config.json's {@code torch_dtype} gets.
     *
     * @return float32, bfloat16 or float16
     */
    public String torchDtype() {
        return switch (dtype) {
            case BF16 -> "bfloat16";
            case F16 -> "float16";
            default -> "float32";
        };
    }

    /**
     * Parses a save dtype as the command line gives it.
     *
     * @param value fp32, bf16 or fp16 (or torch's names float32, bfloat16, float16), any case
     * @return the safetensors type
     * @throws IllegalArgumentException naming the accepted values
     */
    public static SafeTensorDtype parseDtype(String value) {
        return switch (value.toLowerCase(Locale.ROOT)) {
            case "fp32", "float32" -> SafeTensorDtype.F32;
            case "bf16", "bfloat16" -> SafeTensorDtype.BF16;
            case "fp16", "float16" -> SafeTensorDtype.F16;
            default -> throw new IllegalArgumentException("'" + value + "' is not fp32, bf16 or fp16");
        };
    }

    /**
     * Parses a shard size in Hugging Face's syntax ({@code transformers.utils.convert_file_size_to_int}):
     * a plain number of bytes, or an integer followed by GB/MB/KB (powers of 10), GiB/MiB/KiB
     * (powers of 2), or Gb/Mb/Kb (bits: powers of 10 divided by 8).
     *
     * @param value e.g. {@code 5GB}, {@code 500MB}, {@code 2GiB} or {@code 1000000}
     * @return bytes
     * @throws IllegalArgumentException for anything else, or a size that is not positive
     */
    public static long parseShardSize(String value) {
        String s = value.trim();
        String upper = s.toUpperCase(Locale.ROOT);
        long bytes;
        try {
            if (upper.matches("\\d+")) {
                bytes = Long.parseLong(s);
            } else if (upper.endsWith("GIB") || upper.endsWith("MIB") || upper.endsWith("KIB")) {
                int shift = switch (upper.charAt(upper.length() - 3)) {
                    case 'G' -> 30;
                    case 'M' -> 20;
                    default -> 10;
                };
                bytes = Math.multiplyExact(Long.parseLong(s.substring(0, s.length() - 3)), 1L << shift);
            } else if (upper.endsWith("GB") || upper.endsWith("MB") || upper.endsWith("KB")) {
                long unit = switch (upper.charAt(upper.length() - 2)) {
                    case 'G' -> 1_000_000_000L;
                    case 'M' -> 1_000_000L;
                    default -> 1_000L;
                };
                bytes = Math.multiplyExact(Long.parseLong(s.substring(0, s.length() - 2)), unit);
                if (s.endsWith("b")) {
                    bytes /= 8; // Hugging Face reads a lower-case b as bits
                }
            } else {
                throw new NumberFormatException();
            }
        } catch (NumberFormatException | ArithmeticException e) {
            throw new IllegalArgumentException("'" + value + "' is not a size such as 5GB, 500MB, 2GiB or a number of bytes");
        }
        if (bytes <= 0) {
            throw new IllegalArgumentException("'" + value + "' is not a positive size");
        }
        return bytes;
    }
}
