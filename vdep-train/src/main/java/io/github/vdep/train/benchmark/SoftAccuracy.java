package io.github.vdep.train.benchmark;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * VQA soft accuracy as LLaVA's {@code TextVQAAccuracyEvaluator} computes it (VQAv2, VizWiz,
 * TextVQA): all answers pass through {@link EvalAiAnswerProcessor}; an answer's score is
 * {@code min(1, k / 3)}, k the number of the <em>other</em> annotators who gave it, averaged over
 * the leave-one-out subsets (one per annotator, 10 in these benchmarks); a prediction scores what
 * its normalised form scores, 0 if no annotator gave it.
 */
public final class SoftAccuracy {

    private SoftAccuracy() {
    }

    /**
     * @param humanAnswers the annotators' raw answers
     * @return the score of each distinct normalised answer
     */
    public static Map<String, Double> answerScores(List<String> humanAnswers) {
        List<String> answers = new ArrayList<>(humanAnswers.size());
        for (String a : humanAnswers) {
            answers.add(EvalAiAnswerProcessor.process(a));
        }
        Map<String, Double> scores = new LinkedHashMap<>();
        for (String unique : new java.util.LinkedHashSet<>(answers)) {
            double sum = 0;
            for (int left = 0; left < answers.size(); left++) {
                int matching = 0;
                for (int j = 0; j < answers.size(); j++) {
                    if (j != left && answers.get(j).equals(unique)) {
                        matching++;
                    }
                }
                sum += Math.min(1, matching / 3.0);
            }
            scores.put(unique, sum / answers.size());
        }
        return scores;
    }

    /**
     * @param prediction   the model's answer (raw; normalised here)
     * @param humanAnswers the annotators' raw answers
     * @return the prediction's soft score in [0, 1]
     */
    public static double score(String prediction, List<String> humanAnswers) {
        return answerScores(humanAnswers).getOrDefault(EvalAiAnswerProcessor.process(prediction), 0.0);
    }
}
