package io.github.vdep.train.trainer;

import java.util.List;
import java.util.Locale;

/** Which parts of a LLaVA model train, as in LLaVA-1.5's two stages. */
public enum Stage {
    /** Stage 1: only the projector trains; vision tower and language model frozen. */
    PRETRAIN(List.of("multi_modal_projector.**")),
    /** Stage 2: projector and language model train; vision tower frozen. */
    FINETUNE(List.of("multi_modal_projector.**", "language_model.**")),
    /** Everything trains. */
    FULL(List.of("**"));

    private final List<String> patterns;

    Stage(List<String> patterns) {
        this.patterns = patterns;
    }

    /** The trainable-parameter name patterns of this stage. */
    public List<String> patterns() {
        return patterns;
    }

    public static Stage parse(String s) {
        try {
            return valueOf(s.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown stage '" + s + "' (pretrain, finetune or full)");
        }
    }
}
