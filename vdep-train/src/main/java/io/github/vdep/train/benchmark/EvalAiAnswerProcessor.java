package io.github.vdep.train.benchmark;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * The answer normalisation of LLaVA's {@code EvalAIAnswerProcessor} ({@code llava/eval/m4c_evaluator.py},
 * from mmf; the EvalAI VQA servers normalise the same way), reproduced with its quirks because the
 * published VQAv2, VizWiz and TextVQA numbers come from it:
 * <ol>
 *   <li>lower-case; every {@code ,} and {@code ?} deleted; {@code 's} split off as {@code " 's"};
 *       Python whitespace stripped; newlines and tabs become spaces;</li>
 *   <li>each of {@code ; / [ ] " { } ( ) = + \ _ - > < @ ` , ? !} is deleted if the text has it next
 *       to a space anywhere (or holds a digit-comma-digit run), otherwise replaced by a space;
 *       apostrophes, {@code % $ # : &} and non-ASCII punctuation are kept;</li>
 *   <li>a period not followed by a digit is deleted, at most 32 of them (the upstream passes
 *       {@code re.UNICODE} as {@code sub}'s count); its intended look-behind is written as a
 *       look-ahead, so a period after a digit is deleted too;</li>
 *   <li>split on Python whitespace (Unicode spaces included); number words {@code none}..{@code ten}
 *       become digits, then {@code a an the} are dropped, then contractions are restored
 *       ({@code dont} to {@code don't}) from the upstream table; joined with single spaces.</li>
 * </ol>
 * Checked against the upstream Python on every entry of {@code answer_processor.json}
 * ({@code scripts/eval-fixtures/make_eval_fixtures.py}).
 */
public final class EvalAiAnswerProcessor {

    private static final String[] PUNCTUATIONS = {";", "/", "[", "]", "\"", "{", "}", "(", ")", "=", "+", "\\", "_", "-",
        ">", "<", "@", "`", ",", "?", "!"};
    private static final int PERIOD_STRIP_COUNT = 32;
    private static final Set<String> ARTICLES = Set.of("a", "an", "the");
    private static final Map<String, String> NUMBERS = Map.ofEntries(
            Map.entry("none", "0"), Map.entry("zero", "0"), Map.entry("one", "1"), Map.entry("two", "2"),
            Map.entry("three", "3"), Map.entry("four", "4"), Map.entry("five", "5"), Map.entry("six", "6"),
            Map.entry("seven", "7"), Map.entry("eight", "8"), Map.entry("nine", "9"), Map.entry("ten", "10"));
    private static final Map<String, String> CONTRACTIONS = contractions();

    private EvalAiAnswerProcessor() {
    }

    /**
     * @param answer a prediction or a human answer
     * @return its normalised form, exactly as {@code EvalAIAnswerProcessor()(answer)}
     */
    public static String process(String answer) {
        Objects.requireNonNull(answer, "answer");
        String s = PyText.lower(answer).replace(",", "").replace("?", "").replace("'s", " 's");
        s = PyText.strip(s);
        s = PyText.strip(s.replace("\n", " ").replace("\t", " "));
        return digitsAndArticles(periods(punctuation(s)));
    }

    private static String punctuation(String in) {
        boolean digitCommaDigit = hasDigitCommaDigit(in);
        String out = in;
        for (String p : PUNCTUATIONS) {
            boolean remove = in.contains(p + " ") || in.contains(" " + p) || digitCommaDigit;
            out = out.replace(p, remove ? "" : " ");
        }
        return out;
    }

    /** {@code (?<=\d)(\,)+(?=\d)} found anywhere. */
    private static boolean hasDigitCommaDigit(String s) {
        for (int i = 0; i < s.length(); ) {
            int c = s.codePointAt(i);
            int next = i + Character.charCount(c);
            if (PyText.isDigit(c) && next < s.length() && s.charAt(next) == ',') {
                int j = next;
                while (j < s.length() && s.charAt(j) == ',') {
                    j++;
                }
                if (j < s.length() && PyText.isDigit(s.codePointAt(j))) {
                    return true;
                }
            }
            i = next;
        }
        return false;
    }

    /** {@code (?!<=\d)(\.)(?!\d)} replaced by nothing, at most 32 times. */
    private static String periods(String s) {
        StringBuilder out = new StringBuilder(s.length());
        int removed = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '.' && removed < PERIOD_STRIP_COUNT && !(i + 1 < s.length() && PyText.isDigit(s.codePointAt(i + 1)))) {
                removed++;
                continue;
            }
            out.append(c);
        }
        return out.toString();
    }

    private static String digitsAndArticles(String in) {
        List<String> words = new ArrayList<>();
        for (String word : PyText.split(PyText.lower(in))) {
            String w = NUMBERS.getOrDefault(word, word);
            if (!ARTICLES.contains(w)) {
                words.add(w);
            }
        }
        words.replaceAll(w -> CONTRACTIONS.getOrDefault(w, w));
        return String.join(" ", words);
    }

    private static Map<String, String> contractions() {
        String[] pairs = {
            "aint", "ain't", "arent", "aren't", "cant", "can't", "couldve", "could've", "couldnt", "couldn't",
            "couldn'tve", "couldn't've", "couldnt've", "couldn't've", "didnt", "didn't", "doesnt", "doesn't",
            "dont", "don't", "hadnt", "hadn't", "hadnt've", "hadn't've", "hadn'tve", "hadn't've", "hasnt", "hasn't",
            "havent", "haven't", "hed", "he'd", "hed've", "he'd've", "he'dve", "he'd've", "hes", "he's",
            "howd", "how'd", "howll", "how'll", "hows", "how's", "Id've", "I'd've", "I'dve", "I'd've", "Im", "I'm",
            "Ive", "I've", "isnt", "isn't", "itd", "it'd", "itd've", "it'd've", "it'dve", "it'd've", "itll", "it'll",
            "let's", "let's", "maam", "ma'am", "mightnt", "mightn't", "mightnt've", "mightn't've",
            "mightn'tve", "mightn't've", "mightve", "might've", "mustnt", "mustn't", "mustve", "must've",
            "neednt", "needn't", "notve", "not've", "oclock", "o'clock", "oughtnt", "oughtn't",
            "ow's'at", "'ow's'at", "'ows'at", "'ow's'at", "'ow'sat", "'ow's'at", "shant", "shan't",
            "shed've", "she'd've", "she'dve", "she'd've", "she's", "she's", "shouldve", "should've",
            "shouldnt", "shouldn't", "shouldnt've", "shouldn't've", "shouldn'tve", "shouldn't've",
            "somebody'd", "somebodyd", "somebodyd've", "somebody'd've", "somebody'dve", "somebody'd've",
            "somebodyll", "somebody'll", "somebodys", "somebody's", "someoned", "someone'd",
            "someoned've", "someone'd've", "someone'dve", "someone'd've", "someonell", "someone'll",
            "someones", "someone's", "somethingd", "something'd", "somethingd've", "something'd've",
            "something'dve", "something'd've", "somethingll", "something'll", "thats", "that's",
            "thered", "there'd", "thered've", "there'd've", "there'dve", "there'd've", "therere", "there're",
            "theres", "there's", "theyd", "they'd", "theyd've", "they'd've", "they'dve", "they'd've",
            "theyll", "they'll", "theyre", "they're", "theyve", "they've", "twas", "'twas", "wasnt", "wasn't",
            "wed've", "we'd've", "we'dve", "we'd've", "weve", "we've", "werent", "weren't", "whatll", "what'll",
            "whatre", "what're", "whats", "what's", "whatve", "what've", "whens", "when's", "whered", "where'd",
            "wheres", "where's", "whereve", "where've", "whod", "who'd", "whod've", "who'd've",
            "who'dve", "who'd've", "wholl", "who'll", "whos", "who's", "whove", "who've", "whyll", "why'll",
            "whyre", "why're", "whys", "why's", "wont", "won't", "wouldve", "would've", "wouldnt", "wouldn't",
            "wouldnt've", "wouldn't've", "wouldn'tve", "wouldn't've", "yall", "y'all", "yall'll", "y'all'll",
            "y'allll", "y'all'll", "yall'd've", "y'all'd've", "y'alld've", "y'all'd've", "y'all'dve", "y'all'd've",
            "youd", "you'd", "youd've", "you'd've", "you'dve", "you'd've", "youll", "you'll", "youre", "you're",
            "youve", "you've",
        };
        java.util.HashMap<String, String> m = new java.util.HashMap<>();
        for (int i = 0; i < pairs.length; i += 2) {
            m.put(pairs[i], pairs[i + 1]);
        }
        return Map.copyOf(m);
    }
}
