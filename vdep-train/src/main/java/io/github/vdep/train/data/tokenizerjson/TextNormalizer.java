package io.github.vdep.train.data.tokenizerjson;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.List;

/** A {@code normalizer} of {@code tokenizer.json}: edits a piece of text in place, keeping its alignments. */
interface TextNormalizer {

    /** @param text the piece to normalise */
    void normalize(NormalizedText text);

    /** Normalises a plain string (for added tokens matched after normalisation). */
    default String normalize(String s) {
        NormalizedText t = NormalizedText.of(s);
        normalize(t);
        return t.text();
    }

    /**
     * Reads a normalizer.
     *
     * @param file the tokenizer file (for messages)
     * @param node the JSON object
     * @return the normalizer, or null for JSON null
     * @throws IllegalArgumentException for an unsupported or malformed one
     */
    static TextNormalizer parse(Path file, JsonNode node) {
        if (node == null || node.isNull()) {
            return null;
        }
        String section = "normalizer";
        return switch (node.path("type").asText()) {
            case "Sequence" -> {
                List<TextNormalizer> parts = new ArrayList<>();
                for (JsonNode n : node.path("normalizers")) {
                    TextNormalizer p = parse(file, n);
                    if (p != null) {
                        parts.add(p);
                    }
                }
                yield t -> {
                    for (TextNormalizer p : parts) {
                        p.normalize(t);
                    }
                };
            }
            case "Prepend" -> {
                String prepend = Components.text(file, section, node, "prepend");
                yield t -> t.prepend(prepend);
            }
            case "Replace" -> {
                SplitPattern pattern = Components.pattern(file, section, node);
                String content = Components.text(file, section, node, "content");
                yield t -> t.replace(pattern, content);
            }
            case "NFC" -> t -> UnicodeNormalization.apply(t, Normalizer.Form.NFC);
            case "NFD" -> t -> UnicodeNormalization.apply(t, Normalizer.Form.NFD);
            case "NFKC" -> t -> UnicodeNormalization.apply(t, Normalizer.Form.NFKC);
            case "NFKD" -> t -> UnicodeNormalization.apply(t, Normalizer.Form.NFKD);
            case "Lowercase" -> TextNormalizer::lowercase;
            case "Strip" -> {
                boolean left = node.path("strip_left").asBoolean(true);
                boolean right = node.path("strip_right").asBoolean(true);
                yield t -> strip(t, left, right);
            }
            default -> throw Components.unsupported(file, section, node);
        };
    }

    /** Rust's {@code char::to_lowercase}, character by character (no final-sigma context). */
    private static void lowercase(NormalizedText t) {
        String s = t.text();
        int[] cps = new int[s.length() * 2];
        int[] changes = new int[cps.length];
        int n = 0;
        for (int i = 0; i < s.length(); ) {
            int cp = s.codePointAt(i);
            i += Character.charCount(cp);
            if (cp == 0x130) { // İ: the only code point whose lower case is two
                cps[n] = 'i';
                changes[n++] = 0;
                cps[n] = 0x307;
                changes[n++] = 1;
            } else {
                cps[n] = Character.toLowerCase(cp);
                changes[n++] = 0;
            }
        }
        t.transform(cps, changes, n, 0);
    }

    /** Rust's {@code lrstrip}, including its use of the UTF-8 length to place the last kept character's change. */
    private static void strip(NormalizedText t, boolean left, boolean right) {
        String s = t.text();
        int[] all = s.codePoints().toArray();
        int count = all.length;
        int leading = 0;
        if (left) {
            while (leading < count && SplitPattern.isWhitespace(all[leading])) {
                leading++;
            }
        }
        int trailing = 0;
        if (right) {
            while (trailing < count - leading && SplitPattern.isWhitespace(all[count - 1 - trailing])) {
                trailing++;
            }
            if (leading == count) {
                trailing = count; // Rust counts both runs over the whole text
            }
        }
        if (leading == 0 && trailing == 0) {
            return;
        }
        long utf8Len = utf8Length(s);
        int[] cps = new int[count];
        int[] changes = new int[count];
        int n = 0;
        for (int i = 0; i < count; i++) {
            if (i < leading || i >= count - trailing) {
                continue;
            }
            cps[n] = all[i];
            changes[n++] = i == utf8Len - trailing - 1 ? -trailing : 0;
        }
        t.transform(cps, changes, n, leading);
    }

    private static long utf8Length(String s) {
        long n = 0;
        for (int i = 0; i < s.length(); ) {
            int cp = s.codePointAt(i);
            i += Character.charCount(cp);
            n += cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
        }
        return n;
    }
}
