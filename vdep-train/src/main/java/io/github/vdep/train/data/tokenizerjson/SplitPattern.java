package io.github.vdep.train.data.tokenizerjson;

import java.util.ArrayList;
import java.util.List;
import java.util.function.IntPredicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What text is split on or replaced: a literal string, a regular expression, or a character
 * class; {@link #find} cuts a text into consecutive matching and non-matching parts, as the Rust
 * library's {@code Pattern::find_matches} does.
 */
interface SplitPattern {

    /** A part of the text, end exclusive, in UTF-16 units. */
    record Match(int start, int end, boolean isMatch) {
    }

    /**
     * @param text the text
     * @return its parts in order, covering it; one non-matching empty part for an empty text
     */
    List<Match> find(String text);

    /** Flags for patterns of {@code tokenizer.json}: Oniguruma and Rust's regex treat \w, \s, \d as Unicode. */
    int REGEX_FLAGS = Pattern.UNICODE_CHARACTER_CLASS;

    /** A regular expression (Java syntax; the Rust/Oniguruma patterns in use read the same). */
    static SplitPattern regex(Pattern pattern) {
        return text -> {
            List<Match> out = new ArrayList<>();
            if (text.isEmpty()) {
                out.add(new Match(0, 0, false));
                return out;
            }
            Matcher m = pattern.matcher(text);
            int prev = 0;
            while (m.find()) {
                if (prev != m.start()) {
                    out.add(new Match(prev, m.start(), false));
                }
                out.add(new Match(m.start(), m.end(), true));
                prev = m.end();
            }
            if (prev != text.length()) {
                out.add(new Match(prev, text.length(), false));
            }
            return out;
        };
    }

    /** A literal string (an empty one never matches). */
    static SplitPattern literal(String s) {
        if (s.isEmpty()) {
            return text -> List.of(new Match(0, text.length(), false));
        }
        return regex(Pattern.compile(Pattern.quote(s)));
    }

    /** Each code point for which {@code test} holds is a match of its own. */
    static SplitPattern chars(IntPredicate test) {
        return text -> {
            List<Match> out = new ArrayList<>();
            if (text.isEmpty()) {
                out.add(new Match(0, 0, false));
                return out;
            }
            int last = 0;
            for (int i = 0; i < text.length(); ) {
                int cp = text.codePointAt(i);
                int w = Character.charCount(cp);
                if (test.test(cp)) {
                    if (last < i) {
                        out.add(new Match(last, i, false));
                    }
                    out.add(new Match(i, i + w, true));
                    last = i + w;
                }
                i += w;
            }
            if (last < text.length()) {
                out.add(new Match(last, text.length(), false));
            }
            return out;
        };
    }

    /** The same parts with matching and non-matching swapped. */
    static SplitPattern invert(SplitPattern p) {
        return text -> {
            List<Match> in = p.find(text);
            List<Match> out = new ArrayList<>(in.size());
            for (Match m : in) {
                out.add(new Match(m.start(), m.end(), !m.isMatch()));
            }
            return out;
        };
    }

    /** Rust's {@code char::is_whitespace} (the Unicode White_Space property). */
    static boolean isWhitespace(int cp) {
        return switch (cp) {
            case 0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x20, 0x85, 0xA0, 0x1680, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000 -> true;
            default -> cp >= 0x2000 && cp <= 0x200A;
        };
    }

    /** Rust's {@code char::is_numeric} (general categories Nd, Nl, No). */
    static boolean isNumeric(int cp) {
        int t = Character.getType(cp);
        return t == Character.DECIMAL_DIGIT_NUMBER || t == Character.LETTER_NUMBER || t == Character.OTHER_NUMBER;
    }

    /** The tokenizers' punctuation: ASCII punctuation or a Unicode punctuation category (P*). */
    static boolean isPunctuation(int cp) {
        if (cp < 0x80) {
            return (cp >= 0x21 && cp <= 0x2F) || (cp >= 0x3A && cp <= 0x40) || (cp >= 0x5B && cp <= 0x60)
                    || (cp >= 0x7B && cp <= 0x7E);
        }
        int t = Character.getType(cp);
        return t == Character.CONNECTOR_PUNCTUATION || t == Character.DASH_PUNCTUATION
                || t == Character.START_PUNCTUATION || t == Character.END_PUNCTUATION
                || t == Character.INITIAL_QUOTE_PUNCTUATION || t == Character.FINAL_QUOTE_PUNCTUATION
                || t == Character.OTHER_PUNCTUATION;
    }
}
