package io.github.vdep.train.trainer;

import io.github.vdep.models.llava.LlavaConfig;
import io.github.vdep.models.llava.ParameterCounts;
import java.util.List;
import java.util.Locale;

/**
 * The memory a training run's parameters, gradients and optimizer state take, estimated from the
 * model config before anything is allocated, so that a run that cannot fit is refused in one line
 * instead of failing in ND4J's allocator after minutes of loading.
 *
 * <p>Weights: every parameter. Gradients: one value per trainable parameter. Optimizer state:
 * AdamW keeps two (first and second moments), SGD none. Activations come on top and are not
 * counted, so this is a lower bound. Trainable parameters are counted per part (vision tower,
 * projector, language model): a part counts whole when any trainable pattern can match inside it,
 * an upper bound for patterns that select only some of a part's parameters.
 *
 * @param weightBytes the parameters
 * @param gradientBytes the gradients of the trainable parameters
 * @param optimizerBytes the optimizer's state
 * @param optimizer the optimizer's name
 */
public record MemoryEstimate(long weightBytes, long gradientBytes, long optimizerBytes, String optimizer) {

    private static final String[] PARTS = {"vision_tower.", "multi_modal_projector.", "language_model."};

    /**
     * Estimates a run.
     *
     * @param config the model config (checked)
     * @param trainable the trainable-parameter name patterns ({@link TrainableSelector} syntax)
     * @param optimizer {@code adamw} or {@code sgd}
     * @param bytesPerValue bytes per parameter value (4 for float32)
     */
    public static MemoryEstimate of(LlavaConfig config, List<String> trainable, String optimizer, int bytesPerValue) {
        ParameterCounts counts = ParameterCounts.of(config);
        long[] parts = {counts.visionTower(), counts.projector(), counts.languageModel()};
        long trained = 0;
        for (int i = 0; i < PARTS.length; i++) {
            if (mayMatchWithin(trainable, PARTS[i])) {
                trained += parts[i];
            }
        }
        int states = optimizer.equals("sgd") ? 0 : 2;
        return new MemoryEstimate(counts.total() * bytesPerValue, trained * bytesPerValue, states * trained * bytesPerValue, optimizer);
    }

    /** Whether a pattern can match a name starting with {@code prefix}: its literal start and the prefix agree. */
    static boolean mayMatchWithin(List<String> patterns, String prefix) {
        for (String p : patterns) {
            int star = p.indexOf('*');
            String literal = star < 0 ? p : p.substring(0, star);
            if (literal.startsWith(prefix) || prefix.startsWith(literal)) {
                return true;
            }
        }
        return false;
    }

    /** Weights, gradients and optimizer state together. */
    public long totalBytes() {
        return weightBytes + gradientBytes + optimizerBytes;
    }

    /**
     * Refuses a run that cannot fit.
     *
     * @param limits the bounds to respect ({@link MemoryLimit#host()}, plus a device's)
     * @throws InsufficientMemoryException naming the estimate and the first bound it exceeds, in one line
     */
    public void check(List<MemoryLimit> limits) {
        for (MemoryLimit limit : limits) {
            if (totalBytes() > limit.availableBytes()) {
                throw new InsufficientMemoryException(String.format(Locale.ROOT,
                        "not enough memory for this run: it needs at least %s (weights %s, gradients %s, %s state %s; activations not counted)"
                                + " but the %s leaves %s", gib(totalBytes()), gib(weightBytes), gib(gradientBytes), optimizer,
                        gib(optimizerBytes), limit.name(), gib(limit.availableBytes())));
            }
        }
    }

    /** Bytes as GiB with two decimals (MiB below 1 GiB). */
    static String gib(long bytes) {
        if (bytes < (1L << 30)) {
            return String.format(Locale.ROOT, "%.1f MiB", bytes / (double) (1L << 20));
        }
        return String.format(Locale.ROOT, "%.2f GiB", bytes / (double) (1L << 30));
    }

    /** A run refused up front because its estimate exceeds a memory bound. */
    public static final class InsufficientMemoryException extends IllegalStateException {
        private static final long serialVersionUID = 1L;

        InsufficientMemoryException(String message) {
            super(message);
        }
    }
}
