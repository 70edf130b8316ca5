package io.github.vdep.train.benchmark;

/** LLaVA-1.5's answer-format instructions ({@code docs/Evaluation.md}). */
public final class Instructions {

    /** Appended to short-answer questions (VQAv2, GQA, VizWiz, TextVQA, POPE, MME). */
    public static final String SHORT_ANSWER = "Answer the question using a single word or phrase.";
    /** Appended to multiple-choice questions (ScienceQA, MMBench, SEED-Bench). */
    public static final String OPTION_LETTER = "Answer with the option's letter from the given choices directly.";

    private Instructions() {
    }
}
