package io.github.vdep.core.llava;

import java.util.Locale;

/**
 * Which activations a model recomputes in the backward pass instead of keeping them (Hugging
 * Face's gradient checkpointing): {@code --recompute none|layers}.
 */
public enum Recompute {
    /** Keep every intermediate value for the backward pass (fastest, most memory). */
    NONE,
    /**
     * Keep only each transformer block's input; the backward pass runs the block's forward again
     * ({@link io.github.vdep.core.autograd.Checkpoint}), about one more forward pass of compute.
     */
    LAYERS;

    /** The option value ({@code none} or {@code layers}). */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Parses {@code none} or {@code layers}; anything else is a one-line error naming the option. */
    public static Recompute parse(String value) {
        for (Recompute r : values()) {
            if (r.label().equals(value)) {
                return r;
            }
        }
        throw new IllegalArgumentException("--recompute: unknown value '" + value + "' (none or layers)");
    }
}
