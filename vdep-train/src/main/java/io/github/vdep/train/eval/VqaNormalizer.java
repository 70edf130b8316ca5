package io.github.vdep.train.eval;

import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Answer normalisation for exact-match scoring, a simplified form of the official VQA
 * evaluation's ({@code vqaEval.py}: {@code processPunctuation} + {@code processDigitArticle}).
 * In order:
 * <ol>
 *   <li>lower-case; tabs and newlines become spaces;</li>
 *   <li>a comma between two digits is removed ({@code "1,000"} to {@code "1000"});</li>
 *   <li>a period is removed unless it stands between two digits ({@code "yes."} to {@code "yes"},
 *       {@code "2.5"} kept);</li>
 *   <li>apostrophes are removed ({@code "don't"} to {@code "dont"}; VQA instead maps a list of
 *       contractions);</li>
 *   <li>every other punctuation character (ASCII and Unicode) becomes a space
 *       ({@code "t-shirt"} to {@code "t shirt"}; VQA keeps a few symbols such as {@code %});</li>
 *   <li>number words {@code zero}..{@code ten} become digits, and {@code none} becomes {@code 0},
 *       as in VQA's {@code manualMap};</li>
 *   <li>the articles {@code a}, {@code an}, {@code the} are dropped;</li>
 *   <li>whitespace is collapsed to single spaces and trimmed.</li>
 * </ol>
 */
public final class VqaNormalizer {

    private static final Pattern DIGIT_COMMA = Pattern.compile("(?<=\\d),(?=\\d)");
    private static final Pattern NON_DECIMAL_PERIOD = Pattern.compile("(?<!\\d)\\.|\\.(?!\\d)");
    private static final Pattern APOSTROPHE = Pattern.compile("['\u2018\u2019`]");
    private static final Pattern PUNCTUATION = Pattern.compile("[\\p{Punct}\\p{IsPunctuation}&&[^.]]");
    private static final Pattern WHITESPACE = Pattern.compile("\\s+");
    private static final Set<String> ARTICLES = Set.of("a", "an", "the");
    private static final Map<String, String> NUMBERS = Map.ofEntries(
            Map.entry("none", "0"), Map.entry("zero", "0"), Map.entry("one", "1"), Map.entry("two", "2"),
            Map.entry("three", "3"), Map.entry("four", "4"), Map.entry("five", "5"), Map.entry("six", "6"),
            Map.entry("seven", "7"), Map.entry("eight", "8"), Map.entry("nine", "9"), Map.entry("ten", "10"));

    private VqaNormalizer() {
    }

    /**
     * @param answer an answer or reference
     * @return its normalised form (possibly empty)
     */
    public static String normalize(String answer) {
        Objects.requireNonNull(answer, "answer");
        String s = answer.toLowerCase(Locale.ROOT);
        s = DIGIT_COMMA.matcher(s).replaceAll("");
        s = NON_DECIMAL_PERIOD.matcher(s).replaceAll("");
        s = APOSTROPHE.matcher(s).replaceAll("");
        s = PUNCTUATION.matcher(s).replaceAll(" ");
        StringBuilder out = new StringBuilder(s.length());
        for (String word : WHITESPACE.split(s.strip())) {
            if (word.isEmpty() || ARTICLES.contains(word)) {
                continue;
            }
            if (out.length() > 0) {
                out.append(' ');
            }
            out.append(NUMBERS.getOrDefault(word, word));
        }
        return out.toString();
    }

    /**
     * @param prediction the model's answer
     * @param reference  the reference answer
     * @return whether both normalise to the same string
     */
    public static boolean matches(String prediction, String reference) {
        return normalize(prediction).equals(normalize(reference));
    }
}
