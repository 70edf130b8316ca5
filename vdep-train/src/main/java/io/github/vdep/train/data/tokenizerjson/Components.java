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
     * Unicode {@code \w} leaves out the join controls (ZWJ, ZWNJ) that Java's includes.
     */
    static Pattern regex(Path file, String section, String regex) {
        try {
            return Pattern.compile(onigToJava(regex), SplitPattern.REGEX_FLAGS);
        } catch (PatternSyntaxException e) {
            throw invalid(file, section, "regex '" + regex + "' cannot be read: " + e.getDescription());
        }
    }

    static String onigToJava(String regex) {
        StringBuilder sb = new StringBuilder(regex.length() + 16);
        for (int i = 0; i < regex.length(); i++) {
            char c = regex.charAt(i);
            if (c == '\\' && i + 1 < regex.length()) {
                char n = regex.charAt(++i);
                if (n == 'w') {
                    sb.append("[\\w&&[^\\u200C\\u200D]]");
                } else if (n == 'W') {
                    sb.append("[\\W\\u200C\\u200D]");
                } else {
                    sb.append(c).append(n);
                }
            } else {
                sb.append(c);
            }
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
