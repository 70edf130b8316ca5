package io.github.vdep.train.bench;

import java.util.Locale;

/** The training objective a benchmark step uses. */
public enum Objective {
    /** Text cross-entropy plus the VDEP image loss (MSE next-embedding prediction, detached target), alpha 1. */
    VDEP,
    /** Text cross-entropy only (LLaVA). */
    LLAVA;

    public static Objective parse(String s) {
        return switch (s.toLowerCase(Locale.ROOT)) {
            case "vdep" -> VDEP;
            case "llava" -> LLAVA;
            default -> throw new IllegalArgumentException("unknown mode '" + s + "' (vdep or llava)");
        };
    }

    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }
}
