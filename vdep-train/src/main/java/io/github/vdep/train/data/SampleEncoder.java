package io.github.vdep.train.data;

import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Objects;

/**
 * Turns a {@link ConversationRecord} into an {@link EncodedSample}: LLaVA's template step
 * followed by {@code tokenizer_image_token} and llava-hf's placeholder expansion.
 *
 * <ol>
 *   <li>Checks: the record is well-formed, speakers are {@code human}/{@code gpt}, and the text
 *       holds one {@code <image>} if the record has an image and none otherwise.</li>
 *   <li>The template renders the prompt text and marks the supervised character ranges.</li>
 *   <li>As {@code tokenizer_image_token}: the prompt is split at {@code <image>}, each chunk is
 *       tokenised on its own without special tokens, the chunks are joined with the image
 *       placeholder, and one BOS goes in front. The ids therefore equal LLaVA's exactly
 *       (including LLaMA's per-chunk leading {@code "▁"}).</li>
 *   <li>Each placeholder becomes {@code numPatches} copies of {@code imageTokenIndex}
 *       (llava-hf's layout); their labels are {@code -100}.</li>
 *   <li>Labels: a token is supervised when its character range overlaps a supervised range of
 *       the template. LLaVA instead counts tokens ({@code preprocess_v1}: the instruction is
 *       {@code len(tokenize(round up to "ASSISTANT: ")) - 2} tokens for BOS and the trailing
 *       space, the round {@code len(tokenize(round)) } where BOS stands in for the
 *       {@code </s>} cut off by the split; {@code preprocess_plain}: everything after
 *       {@code len(tokenize("<image>"))} = 2 tokens). Both mark the answer tokens and their
 *       {@code </s>}; the offset rule needs no per-tokenizer corrections ({@code legacy}) and
 *       cannot hit LLaVA's "tokenization mismatch" case.</li>
 *   <li>Truncation to {@code maxLength} at the end; a cut into (or past the start of) an image's
 *       run, or a result without any supervised label, makes the record bad. Tokenisation stops
 *       once {@code maxLength + 1} tokens are known, so a very long conversation is never
 *       tokenised whole.</li>
 * </ol>
 *
 * <p>Immutable; thread-safe when the tokenizer is.
 */
public final class SampleEncoder {

    private final TextTokenizer tokenizer;
    private final ConversationTemplate template;
    private final EncodingConfig config;
    private final Path imageFolder;

    /**
     * @param tokenizer   the tokenizer
     * @param template    the conversation template
     * @param config      image token id, patches per image and maximum length
     * @param imageFolder the folder image paths are relative to, or null to take them as they are
     * @throws IllegalArgumentException if the tokenizer does not suit the template
     */
    public SampleEncoder(TextTokenizer tokenizer, ConversationTemplate template, EncodingConfig config,
            Path imageFolder) {
        this.tokenizer = Objects.requireNonNull(tokenizer, "tokenizer");
        this.template = Objects.requireNonNull(template, "template");
        this.config = Objects.requireNonNull(config, "config");
        this.imageFolder = imageFolder;
        template.checkTokenizer(tokenizer);
    }

    /** @return the tokenizer */
    public TextTokenizer tokenizer() {
        return tokenizer;
    }

    /** @return the template */
    public ConversationTemplate template() {
        return template;
    }

    /** @return the encoding settings */
    public EncodingConfig config() {
        return config;
    }

    /**
     * The cheap checks (no tokenisation, no image access): shape, speakers, placeholder count and
     * the template's structure.
     *
     * @param record   the record
     * @param template the template
     * @return the rendered prompt
     * @throws BadRecordException if the record cannot be used
     */
    public static RenderedConversation checkStructure(ConversationRecord record, ConversationTemplate template) {
        if (record.isMalformed()) {
            throw new BadRecordException(record.id(), BadRecordReason.MALFORMED, record.defect());
        }
        int placeholders = 0;
        for (int i = 0; i < record.conversations().size(); i++) {
            Turn t = record.conversations().get(i);
            if (t == null || t.from() == null || t.value() == null) {
                throw new BadRecordException(record.id(), BadRecordReason.MALFORMED,
                        "turn " + i + " lacks 'from' or 'value'");
            }
            if (!t.isHuman() && !t.isGpt()) {
                throw new BadRecordException(record.id(), BadRecordReason.MALFORMED,
                        "turn " + i + " is from unknown speaker '" + t.from() + "' (expected human or gpt)");
            }
            placeholders += PythonStrings.count(t.value(), ConversationTemplate.IMAGE_PLACEHOLDER);
        }
        int expected = record.hasImage() ? 1 : 0;
        if (placeholders != expected) {
            throw new BadRecordException(record.id(), BadRecordReason.PLACEHOLDER_MISMATCH,
                    placeholders + " " + ConversationTemplate.IMAGE_PLACEHOLDER + " placeholder(s) in the text but "
                            + (record.hasImage() ? "the record has one image" : "the record has no image"));
        }
        RenderedConversation rendered;
        try {
            rendered = template.render(record);
        } catch (BadRecordException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new BadRecordException(record.id(), BadRecordReason.TEMPLATE_STRUCTURE, "the " + template.name()
                    + " template failed: " + e, e);
        }
        int inPrompt = PythonStrings.count(rendered.text(), ConversationTemplate.IMAGE_PLACEHOLDER);
        if (inPrompt != expected) {
            throw new BadRecordException(record.id(), BadRecordReason.TEMPLATE_STRUCTURE,
                    "the " + template.name() + " prompt holds " + inPrompt + " image placeholder(s), expected "
                            + expected);
        }
        return rendered;
    }

    /**
     * Encodes a record.
     *
     * @param record the record
     * @return the sample
     * @throws BadRecordException if the record cannot be used
     */
    public EncodedSample encode(ConversationRecord record) {
        RenderedConversation rendered = checkStructure(record, template);
        Path imagePath = record.hasImage() ? imagePath(record) : null;
        String text = rendered.text();
        String placeholder = ConversationTemplate.IMAGE_PLACEHOLDER;

        int max = config.maxLength();
        // Tokens past max + 1 are never needed (one past max shows that the sample was cut), so a very
        // long conversation is tokenised only as far as that: the rendered text is its one whole copy.
        int limit = max == Integer.MAX_VALUE ? max : max + 1;
        IntList ids = new IntList(Math.min(limit, 64 + text.length() / 2));
        IntList labels = new IntList(ids.capacity());
        ids.add(tokenizer.bosId());
        labels.add(EncodedSample.IGNORE_INDEX);
        int imageStart = -1;
        int pos = 0;
        while (true) {
            int at = text.indexOf(placeholder, pos);
            int chunkEnd = at < 0 ? text.length() : at;
            if (chunkEnd > pos && ids.size() < limit) {
                appendChunk(record, text, pos, chunkEnd, limit - ids.size(), rendered, ids, labels);
            }
            if (at < 0) {
                break;
            }
            imageStart = ids.size();
            if (ids.size() < limit) {
                for (int k = 0; k < config.numPatches(); k++) {
                    ids.add(config.imageTokenIndex());
                    labels.add(EncodedSample.IGNORE_INDEX);
                }
            }
            pos = at + placeholder.length();
        }

        boolean cut = ids.size() > max;
        // the true length is only known when nothing was left untokenised
        String of = ids.size() >= limit ? "more than " + max : Integer.toString(ids.size());
        if (cut && imageStart >= 0 && imageStart + config.numPatches() > max) {
            String what = imageStart < max ? "cuts" : "removes";
            throw new BadRecordException(record.id(), BadRecordReason.IMAGE_TRUNCATED,
                    "truncation at " + max + " " + what + " the image placeholder (positions " + imageStart + ".."
                            + (imageStart + config.numPatches() - 1) + " of " + of + ")");
        }
        int length = Math.min(ids.size(), max);
        int[] outIds = Arrays.copyOf(ids.array(), length);
        int[] outLabels = Arrays.copyOf(labels.array(), length);
        boolean supervised = false;
        for (int l : outLabels) {
            if (l != EncodedSample.IGNORE_INDEX) {
                supervised = true;
                break;
            }
        }
        if (!supervised) {
            throw new BadRecordException(record.id(), BadRecordReason.NOTHING_SUPERVISED,
                    cut ? "no answer token left after truncation at " + max + " (of " + of + ")"
                            : "the conversation has no answer to train on");
        }
        return new EncodedSample(record.id(), outIds, outLabels, imagePath != null, imagePath);
    }

    /**
     * Appends the tokens of {@code text[start, end)}, at most {@code budget} of them. A chunk longer
     * than the budget needs is tokenised by growing prefixes cut at whitespace; of a prefix, only the
     * tokens that end before its last word are taken (they are the whole chunk's: tokens do not merge
     * across the word that follows), so the result equals the whole chunk's first tokens.
     */
    private void appendChunk(ConversationRecord record, String text, int start, int end, int budget, RenderedConversation rendered,
            IntList ids, IntList labels) {
        long window = Math.max(4096L, 16L * budget);
        while (true) {
            int cut = start + window >= end ? end : nextWhitespace(text, (int) (start + window), end);
            TokenSpans spans = tokenize(record, text.substring(start, cut));
            int usable = spans.size();
            if (cut < end) {
                int lastSpace = cut - 1;
                while (lastSpace > start && !Character.isWhitespace(text.charAt(lastSpace))) {
                    lastSpace--;
                }
                int complete = 0;
                while (complete < spans.size() && start + spans.ends()[complete] <= lastSpace) {
                    complete++;
                }
                if (complete < budget) {
                    window *= 2;
                    continue;
                }
                usable = complete;
            }
            for (int i = 0; i < Math.min(usable, budget); i++) {
                int id = spans.ids()[i];
                ids.add(id);
                boolean sup = rendered.isSupervised(start + spans.starts()[i], start + spans.ends()[i]);
                labels.add(sup ? id : EncodedSample.IGNORE_INDEX);
            }
            return;
        }
    }

    private static int nextWhitespace(String text, int from, int end) {
        for (int i = from; i < end; i++) {
            if (Character.isWhitespace(text.charAt(i))) {
                return i;
            }
        }
        return end;
    }

    /** The tokenizer's spans; its failures on this record's text make the record bad, not the run. */
    private TokenSpans tokenize(ConversationRecord record, String chunk) {
        try {
            return tokenizer.encodeWithOffsets(chunk);
        } catch (RuntimeException e) {
            throw new BadRecordException(record.id(), BadRecordReason.TOKENIZATION, "the tokenizer failed: " + e, e);
        }
    }

    private Path imagePath(ConversationRecord record) {
        try {
            return imageFolder == null ? Path.of(record.image()) : imageFolder.resolve(record.image());
        } catch (InvalidPathException e) {
            throw new BadRecordException(record.id(), BadRecordReason.MALFORMED,
                    "'image' is not a valid path: " + e.getMessage());
        }
    }

    /** A growable int array. */
    private static final class IntList {
        private int[] data;
        private int size;

        IntList(int capacity) {
            data = new int[Math.max(16, capacity)];
        }

        void add(int v) {
            if (size == data.length) {
                data = Arrays.copyOf(data, data.length * 2);
            }
            data[size++] = v;
        }

        int size() {
            return size;
        }

        int capacity() {
            return data.length;
        }

        int[] array() {
            return data;
        }
    }
}
