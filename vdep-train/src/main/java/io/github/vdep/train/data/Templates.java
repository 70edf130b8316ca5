package io.github.vdep.train.data;

import java.util.Locale;
import java.util.Objects;

/** The conversation templates by name. */
public final class Templates {

    private Templates() {
    }

    /**
     * @param name {@code "plain"} or {@code "vicuna_v1"} ({@code "v1"} is accepted too, as in
     *             LLaVA's {@code conv_templates})
     * @return the template
     * @throws IllegalArgumentException for an unknown name
     */
    public static ConversationTemplate byName(String name) {
        Objects.requireNonNull(name, "name");
        return switch (name.trim().toLowerCase(Locale.ROOT)) {
            case "plain" -> PlainTemplate.INSTANCE;
            case "vicuna_v1", "v1" -> VicunaV1Template.INSTANCE;
            default -> throw new IllegalArgumentException("Unknown conversation template '" + name
                    + "'; known: plain, vicuna_v1");
        };
    }
}
