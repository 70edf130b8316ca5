package io.github.vdep.train.data;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * LLaVA's {@code vicuna_v1} template ({@code conv_vicuna_v1}, {@code preprocess_v1}), used for
 * stage 2 (instruction tuning).
 *
 * <p>For a record with an image, each turn holding {@code <image>} is rewritten as LLaVA's
 * {@code preprocess_multimodal} does: the placeholder is removed, the text stripped, and
 * {@code "<image>\n"} put in front (the result stripped again). A leading {@code gpt} turn is
 * dropped; the rest must alternate {@code human}, {@code gpt}. The prompt is
 * {@code conv.get_prompt()} with separator style TWO:
 * <pre>
 * system + " " + "USER: " + q1 + " " + "ASSISTANT: " + a1 + "&lt;/s&gt;" + "USER: " + q2 + " " + ...
 * </pre>
 * (an empty message is written as {@code "ROLE:"} with no separator, as {@code get_prompt}
 * does). Each answer, with the space before it and its {@code </s>}, is supervised; the
 * {@code </s>} in the text must tokenize to the EOS id.
 */
public final class VicunaV1Template implements ConversationTemplate {

    /** Vicuna v1's system prompt. */
    public static final String SYSTEM = "A chat between a curious user and an artificial intelligence assistant. "
            + "The assistant gives helpful, detailed, and polite answers to the user's questions.";
    /** The user role name. */
    public static final String USER = "USER";
    /** The assistant role name. */
    public static final String ASSISTANT = "ASSISTANT";
    /** {@code sep}: after the system prompt and after each user message. */
    public static final String SEP = " ";
    /** {@code sep2}: after each assistant message. */
    public static final String SEP2 = "</s>";

    /** The template with Vicuna's system prompt. */
    public static final VicunaV1Template INSTANCE = new VicunaV1Template(SYSTEM);

    private final String system;

    /**
     * @param system the system prompt
     */
    public VicunaV1Template(String system) {
        this.system = Objects.requireNonNull(system, "system");
    }

    /** @return the system prompt */
    public String system() {
        return system;
    }

    @Override
    public String name() {
        return "vicuna_v1";
    }

    @Override
    public RenderedConversation render(ConversationRecord record) {
        List<Turn> turns = record.conversations();
        int first = 0;
        if (!turns.isEmpty() && !turns.get(0).isHuman()) {
            first = 1; // LLaVA: "Skip the first one if it is not from human"
        }
        if (first >= turns.size()) {
            throw new BadRecordException(record.id(), BadRecordReason.TEMPLATE_STRUCTURE,
                    "the conversation has no turns" + (first == 1 ? " after its leading gpt turn" : ""));
        }
        StringBuilder sb = new StringBuilder(system).append(SEP);
        List<TextSpan> supervised = new ArrayList<>();
        for (int i = first; i < turns.size(); i++) {
            int j = i - first;
            Turn turn = turns.get(i);
            boolean userTurn = j % 2 == 0;
            if (turn.isHuman() != userTurn) {
                throw new BadRecordException(record.id(), BadRecordReason.TEMPLATE_STRUCTURE,
                        "turn " + i + " is from '" + turn.from() + "' but turns must alternate human/gpt");
            }
            String value = turn.value();
            if (record.hasImage() && value.contains(IMAGE_PLACEHOLDER)) {
                if (!userTurn) {
                    throw new BadRecordException(record.id(), BadRecordReason.TEMPLATE_STRUCTURE,
                            IMAGE_PLACEHOLDER + " in gpt turn " + i + " (it must be in a human turn)");
                }
                value = moveImageToFront(value);
            }
            String role = userTurn ? USER : ASSISTANT;
            if (value.isEmpty()) {
                sb.append(role).append(':');
                continue;
            }
            sb.append(role).append(": ");
            // The answer's span starts at the space before it: a tokenizer that folds the space
            // into the first answer token (LLaMA's "▁word") or emits it alone in front of the
            // answer gets the same labels as LLaVA's length arithmetic (instruction_len - 2).
            int start = sb.length() - 1;
            sb.append(value).append(userTurn ? SEP : SEP2);
            if (!userTurn) {
                supervised.add(new TextSpan(start, sb.length()));
            }
        }
        return new RenderedConversation(sb.toString(), supervised);
    }

    /**
     * LLaVA's {@code preprocess_multimodal} for one message holding the placeholder.
     *
     * @param value the message
     * @return {@code ("<image>\n" + value.replace("<image>", "").strip()).strip()}
     */
    public static String moveImageToFront(String value) {
        String rest = PythonStrings.strip(value.replace(IMAGE_PLACEHOLDER, ""));
        return PythonStrings.strip(IMAGE_PLACEHOLDER + "\n" + rest);
    }

    @Override
    public void checkTokenizer(TextTokenizer tokenizer) {
        int[] ids = tokenizer.encode(SEP2);
        if (ids.length != 1 || ids[0] != tokenizer.eosId()) {
            throw new IllegalArgumentException("The vicuna_v1 template writes '" + SEP2 + "' after each answer, "
                    + "but the tokenizer encodes it as " + Arrays.toString(ids) + " instead of the EOS id "
                    + tokenizer.eosId());
        }
    }

    @Override
    public String toString() {
        return name();
    }
}
