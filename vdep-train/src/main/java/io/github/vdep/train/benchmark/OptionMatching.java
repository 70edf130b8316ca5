package io.github.vdep.train.benchmark;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * VLMEvalKit's rule-based option matching ({@code vlmeval/utils/matching_util.py}
 * {@code can_infer}), used for MMBench without a judge model: first the option letters as words
 * (after {@code .()[],:;!*#{}} become spaces), exactly one of them being present (but not when the
 * letter {@code A} is among more than three words, where it may be the article), or {@code Z} alone;
 * then the option texts, exactly one of them occurring in the lower-cased answer.
 */
public final class OptionMatching {

    private static final String[] REJECTIONS = {
        "Sorry, I can't help with images of people yet.",
        "I can't process this file.",
        "I'm sorry, but without the image provided",
        "Cannot determine the answer",
    };
    private static final String SPLIT_CHARS = ".()[],:;!*#{}";

    private OptionMatching() {
    }

    /**
     * @param answer  the model's answer
     * @param choices option letter to option text, in letter order
     * @return the letter, {@code "Z"} for a refusal, or null when no rule applies
     */
    public static String infer(String answer, Map<String, String> choices) {
        String option = inferOption(answer, choices);
        return option != null ? option : inferText(answer, choices);
    }

    static String inferOption(String answer, Map<String, String> choices) {
        if (answer.contains("Failed to obtain answer via API")) {
            return null;
        }
        for (String r : REJECTIONS) {
            if (answer.contains(r)) {
                return "Z";
            }
        }
        String mod = answer;
        for (int i = 0; i < SPLIT_CHARS.length(); i++) {
            mod = mod.replace(SPLIT_CHARS.charAt(i), ' ');
        }
        List<String> splits = new ArrayList<>();
        for (String s : PyText.split(mod)) {
            splits.add(PyText.strip(s));
        }
        int count = 0;
        for (String c : choices.keySet()) {
            if (splits.contains(c)) {
                count++;
            }
        }
        if (count == 1) {
            for (String c : choices.keySet()) {
                if (splits.contains("A") && splits.size() > 3) {
                    return null;
                }
                if (splits.contains(c)) {
                    return c;
                }
            }
        } else if (count == 0 && (splits.contains("Z") ? 1 : 0) + (splits.contains("") ? 1 : 0) == 1) {
            return "Z";
        }
        return null;
    }

    static String inferText(String answer, Map<String, String> choices) {
        String a = PyText.lower(answer);
        List<String> cands = new ArrayList<>();
        for (Map.Entry<String, String> e : choices.entrySet()) {
            if (a.contains(PyText.lower(e.getValue()))) {
                cands.add(e.getKey());
            }
        }
        return cands.size() == 1 ? cands.get(0) : null;
    }

    /** Letters A.. for a list of option texts. */
    static Map<String, String> lettered(List<String> options) {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < options.size(); i++) {
            m.put(String.valueOf((char) ('A' + i)).toUpperCase(Locale.ROOT), options.get(i));
        }
        return m;
    }
}
