package io.github.vdep.train.infer;

import io.github.vdep.train.data.ConversationRecord;
import io.github.vdep.train.data.ConversationTemplate;
import io.github.vdep.train.data.EncodingConfig;
import io.github.vdep.train.data.PlainTemplate;
import io.github.vdep.train.data.SampleEncoder;
import io.github.vdep.train.data.TextTokenizer;
import io.github.vdep.train.data.TokenSpans;
import io.github.vdep.train.data.Turn;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Builds generation prompts for a user question with the training data's conversation template
 * and tokenisation, so that the model sees at inference what it saw in training.
 *
 * <ul>
 *   <li>{@code vicuna_v1} (and any template other than {@code plain}): the record
 *       {@code [human: "<image>\n" + question, gpt: ""]} rendered by the template, i.e.
 *       {@code system + " USER: <image>\n" + question + " ASSISTANT:"} (LLaVA's
 *       {@code conv.get_prompt()} with an empty assistant message).</li>
 *   <li>{@code plain}: just the image (the stage-1 model was trained to caption right after it);
 *       the question is not part of the prompt.</li>
 * </ul>
 *
 * <p>Tokenisation is {@link SampleEncoder}'s: the text is split at {@code <image>}, each chunk
 * tokenised on its own without special tokens, BOS put in front, and the placeholder expanded to
 * {@code numPatches} copies of the image token id.
 *
 * <p>Immutable; thread-safe when the tokenizer is.
 */
public final class PromptBuilder {

    /** Stands in for the question while rendering (never part of a real question). */
    private static final String QUESTION_MARKER = "\uE000question\uE000";

    private final TextTokenizer tokenizer;
    private final ConversationTemplate template;
    private final EncodingConfig encoding;

    /**
     * @param tokenizer the tokenizer the model was trained with
     * @param template  the conversation template
     * @param encoding  image token id and patches per image ({@code maxLength} is not applied:
     *                  the generator checks the model's context)
     */
    public PromptBuilder(TextTokenizer tokenizer, ConversationTemplate template, EncodingConfig encoding) {
        this.tokenizer = Objects.requireNonNull(tokenizer, "tokenizer");
        this.template = Objects.requireNonNull(template, "template");
        this.encoding = Objects.requireNonNull(encoding, "encoding");
    }

    /** @return the template */
    public ConversationTemplate template() {
        return template;
    }

    /** @return the tokenizer */
    public TextTokenizer tokenizer() {
        return tokenizer;
    }

    /**
     * Builds the prompt for a question.
     *
     * @param question the user's question (without {@code <image>}; one is removed if present);
     *                 ignored by the {@code plain} template
     * @param withImage whether an image goes with the question
     * @return the tokenised prompt
     * @throws IllegalArgumentException if the template cannot lay out the question (e.g.
     *                                  {@code plain} without an image)
     */
    public Prompt build(String question, boolean withImage) {
        Objects.requireNonNull(question, "question");
        String q = question.replace(ConversationTemplate.IMAGE_PLACEHOLDER, "").strip();
        String text;
        int questionAt = -1;
        if (template instanceof PlainTemplate) {
            if (!withImage) {
                throw new IllegalArgumentException("the plain template needs an image (it prompts with the image alone)");
            }
            text = ConversationTemplate.IMAGE_PLACEHOLDER;
        } else {
            if (q.isEmpty()) {
                text = render("", withImage);
            } else {
                // rendered around a marker, so the question's place is known whatever the template writes
                String marked = render(QUESTION_MARKER, withImage);
                int at = marked.indexOf(QUESTION_MARKER);
                text = marked.substring(0, at) + q + marked.substring(at + QUESTION_MARKER.length());
                questionAt = at;
            }
        }
        return tokenize(text, questionAt, questionAt < 0 ? -1 : questionAt + q.length());
    }

    private String render(String question, boolean withImage) {
        String human = withImage ? ConversationTemplate.IMAGE_PLACEHOLDER + "\n" + question : question;
        ConversationRecord record = new ConversationRecord("prompt", withImage ? "image" : null,
                List.of(new Turn(Turn.HUMAN, human), new Turn(Turn.GPT, "")));
        try {
            return SampleEncoder.checkStructure(record, template).text();
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("the " + template.name() + " template cannot lay out the question: "
                    + e.getMessage(), e);
        }
    }

    /** The text around each placeholder tokenised chunk by chunk, BOS in front, placeholders expanded. */
    private Prompt tokenize(String text, int qFrom, int qTo) {
        String placeholder = ConversationTemplate.IMAGE_PLACEHOLDER;
        List<Integer> ids = new ArrayList<>();
        ids.add(tokenizer.bosId());
        int imageStart = -1;
        int questionStart = -1;
        int questionEnd = -1;
        int pos = 0;
        while (true) {
            int at = text.indexOf(placeholder, pos);
            int chunkEnd = at < 0 ? text.length() : at;
            if (chunkEnd > pos) {
                TokenSpans spans = tokenizer.encodeWithOffsets(text.substring(pos, chunkEnd));
                for (int i = 0; i < spans.size(); i++) {
                    int s = pos + spans.starts()[i];
                    int e = pos + spans.ends()[i];
                    if (qFrom >= 0 && s < qTo && qFrom < e) {
                        if (questionStart < 0) {
                            questionStart = ids.size();
                        }
                        questionEnd = ids.size() + 1;
                    }
                    ids.add(spans.ids()[i]);
                }
            }
            if (at < 0) {
                break;
            }
            if (imageStart >= 0) {
                throw new IllegalArgumentException("the prompt holds more than one image placeholder: " + text);
            }
            imageStart = ids.size();
            for (int k = 0; k < encoding.numPatches(); k++) {
                ids.add(encoding.imageTokenIndex());
            }
            pos = at + placeholder.length();
        }
        int[] out = ids.stream().mapToInt(Integer::intValue).toArray();
        return new Prompt(text, out, imageStart, imageStart < 0 ? 0 : encoding.numPatches(), questionStart, questionEnd);
    }
}
