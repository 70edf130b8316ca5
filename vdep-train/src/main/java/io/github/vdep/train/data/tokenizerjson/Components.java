package io.github.vdep.train.data.tokenizerjson;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/** Reading helpers shared by the component parsers: one-line errors that name the file and the component. */
final class Components {

    private Components() {
    }

    /** The error for a component type vdep does not implement. */
    static IllegalArgumentException unsupported(Path file, String section, JsonNode node) {
        return new IllegalArgumentException("Tokenizer " + file + ": unsupported " + section + " type '"
                + node.path("type").asText("(none)") + "' (supported: " + supportedList(section) + ")");
    }

    /** The error for a component whose settings vdep does not implement. */
    static IllegalArgumentException unsupportedSetting(Path file, String section, String what) {
        return new IllegalArgumentException("Tokenizer " + file + ": unsupported " + section + " setting: " + what);
    }

    /** The error for a malformed field. */
    static IllegalArgumentException invalid(Path file, String section, String what) {
        return new IllegalArgumentException("Tokenizer " + file + ": invalid " + section + ": " + what);
    }

    private static String supportedList(String section) {
        return switch (section) {
            case "normalizer" -> "Sequence, Prepend, Replace, NFC, NFD, NFKC, NFKD, Lowercase, Strip";
            case "pre_tokenizer" -> "Sequence, Metaspace, ByteLevel, Split, Whitespace, WhitespaceSplit, Digits, "
                    + "Punctuation, BertPreTokenizer";
            case "model" -> "BPE, WordLevel, WordPiece";
            case "post_processor" -> "TemplateProcessing, ByteLevel, Sequence";
            case "decoder" -> "Sequence, Replace, ByteFallback, Fuse, Strip, ByteLevel, Metaspace, WordPiece";
            default -> "?";
        };
    }

    /** A required text field. */
    static String text(Path file, String section, JsonNode node, String field) {
        JsonNode v = node.get(field);
        if (v == null || !v.isTextual()) {
            throw invalid(file, section, "'" + field + "' must be a string");
        }
        return v.textValue();
    }

    /** A {@code {"String": ...}} or {@code {"Regex": ...}} pattern. */
    static SplitPattern pattern(Path file, String section, JsonNode node) {
        JsonNode p = node.get("pattern");
        if (p != null && p.has("String")) {
            return SplitPattern.literal(p.get("String").asText());
        }
        if (p != null && p.has("Regex")) {
            return SplitPattern.regex(regex(file, section, p.get("Regex").asText()));
        }
        throw invalid(file, section, "'pattern' must be {\"String\": ...} or {\"Regex\": ...}");
    }

    /**
     * Compiles a pattern of the Rust library (Oniguruma syntax) as a Java regex. Oniguruma's
     * Unicode {@code \\w} is its Word property (alphabetic, marks, decimal digits, connector
     * punctuation; not the join controls Java's has) and, outside brackets only, also the Latin-1
     * characters its byte table counts as word characters (the superscripts and fractions
     * {@code ¹ ² ³ ¼ ½ ¾}), as measured against the Rust library.
     */
    static Pattern regex(Path file, String section, String regex) {
        try {
            return Pattern.compile(onigToJava(regex), SplitPattern.REGEX_FLAGS);
        } catch (PatternSyntaxException e) {
            throw invalid(file, section, "regex '" + regex + "' cannot be read: " + e.getDescription());
        }
    }

    private static final String WORD = "\\p{IsAlphabetic}\\p{M}\\p{Nd}\\p{Pc}";
    private static final String LATIN1_WORD = "\\u00b2\\u00b3\\u00b9\\u00bc-\\u00be";

    /** Rewrites {@code \\w} and {@code \\W} for Java; everything else is passed on. */
    static String onigToJava(String regex) {
        StringBuilder sb = new StringBuilder(regex.length() + 16);
        int depth = 0;
        for (int i = 0; i < regex.length(); i++) {
            char c = regex.charAt(i);
            if (c == '\\' && i + 1 < regex.length()) {
                char n = regex.charAt(++i);
                if (n == 'w') {
                    sb.append(depth > 0 ? WORD : "[" + WORD + LATIN1_WORD + "]");
                } else if (n == 'W') {
                    sb.append(depth > 0 ? "[^" + WORD + "]" : "[^" + WORD + LATIN1_WORD + "]");
                } else {
                    sb.append(c).append(n);
                }
                continue;
            }
            if (c == '[') {
                depth++;
            } else if (c == ']' && depth > 0) {
                depth--;
            }
            sb.append(c);
        }
        return sb.toString();
    }

    /** A one-character field such as Metaspace's replacement. */
    static int oneChar(Path file, String section, JsonNode node, String field) {
        String s = text(file, section, node, field);
        if (s.codePointCount(0, s.length()) != 1) {
            throw invalid(file, section, "'" + field + "' must be one character, not '" + s + "'");
        }
        return s.codePointAt(0);
    }
}
