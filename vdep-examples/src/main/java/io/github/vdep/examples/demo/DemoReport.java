package io.github.vdep.examples.demo;

import io.github.vdep.train.eval.EvalScores;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Writes the demo's report.md: settings, both runs side by side, and the outcome as measured. */
public final class DemoReport {
    private DemoReport() {
    }

    /** The demo's settings. */
    public record Settings(int trainScenes, int testScenes, int steps, int batchSize, double lr, String alpha, long seed, int vocabSize, double minutes) {
    }

    /** One training run and its held-out scores. */
    public record RunResult(String name, String options, Path dir, List<LossChart.Point> curve, EvalScores questions, EvalScores captions) {
        /** Mean text loss over the last tenth of the steps. */
        public double finalTextLoss() {
            return tailMean(false, true);
        }

        /** Mean image loss over the last tenth of the steps (NaN if never computed). */
        public double finalImageLoss() {
            return tailMean(true, true);
        }

        /** Mean image loss over the first tenth of the steps. */
        public double initialImageLoss() {
            return tailMean(true, false);
        }

        /** Mean RMS of the image targets (the projector's embeddings) over the first tenth of the steps. */
        public double initialTargetRms() {
            return mean(part(false), LossChart.Point::imageTargetRms);
        }

        /** Mean RMS of the image targets over the last tenth of the steps. */
        public double finalTargetRms() {
            return mean(part(true), LossChart.Point::imageTargetRms);
        }

        private double tailMean(boolean image, boolean tail) {
            return mean(part(tail), p -> image ? p.imageLoss() : Double.valueOf(p.textLoss()));
        }

        private List<LossChart.Point> part(boolean tail) {
            int n = Math.max(1, curve.size() / 10);
            return tail ? curve.subList(curve.size() - n, curve.size()) : curve.subList(0, n);
        }

        private static double mean(List<LossChart.Point> part, java.util.function.Function<LossChart.Point, Double> f) {
            return part.stream().map(f).filter(v -> v != null).mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
        }
    }

    /** Writes {@code out/report.md} and returns its path. */
    public static Path write(Path out, Settings s, Map<String, RunResult> runs) throws IOException {
        RunResult base = runs.get("baseline");
        RunResult vdep = runs.get("vdep");
        StringBuilder md = new StringBuilder();
        md.append("# vdep demo report\n\n");
        md.append("A tiny LLaVA was trained twice on the same synthetic scenes with the same seed, data order and schedule: ")
                .append("once with the plain LLaVA objective (text loss only) and once with VDEP (text loss plus alpha times the ")
                .append("next-embedding image loss, VDEP and LLaVA batches alternating 1:1). Both were then evaluated on held-out scenes.\n\n");
        md.append("## Settings\n\n");
        md.append("| setting | value |\n|---|---|\n");
        row(md, "data", s.trainScenes() + " training scenes (" + 2 * s.trainScenes() + " records: one question and one caption each), "
                + s.testScenes() + " held-out scenes");
        row(md, "images", DemoModel.IMAGE_SIZE + "x" + DemoModel.IMAGE_SIZE + " PNG, one or two shapes (circle, square, triangle; red, green, blue, yellow; small, large)");
        row(md, "template", "vicuna_v1 (only answers supervised)");
        row(md, "model", "CLIP-style ViT (width 64, 2 layers, patch 8: 16 image tokens, feature layer -2) -> mlp2x_gelu -> LLaMA (hidden 128, 2 layers, 4 heads, 2 KV heads), vocabulary "
                + s.vocabSize() + " words");
        row(md, "vision tower", "**frozen at random initialisation** (never trained): the projector and the language model learn from random-feature image tokens");
        row(md, "stage", "finetune (projector + language model train)");
        row(md, "optimiser", "AdamW, lr " + s.lr() + ", warmup 5% then cosine, grad clip 1.0, batch " + s.batchSize() + ", " + s.steps() + " steps");
        row(md, "baseline run", base.options());
        row(md, "VDEP run", vdep.options());
        row(md, "image loss in LLaVA-mode steps", "computed for the plot only (`--monitor-image-loss`), never trained on");
        row(md, "seed", Long.toString(s.seed()));
        row(md, "wall time", String.format(Locale.ROOT, "%.1f minutes", s.minutes()));
        md.append("\n## Results (held-out scenes)\n\n");
        md.append("| metric | baseline (LLaVA) | VDEP |\n|---|---|---|\n");
        row3(md, "question exact match", pct(base.questions().exactMatch()), pct(vdep.questions().exactMatch()));
        row3(md, "questions evaluated", Integer.toString(base.questions().evaluated()), Integer.toString(vdep.questions().evaluated()));
        row3(md, "caption token accuracy (teacher-forced)", pct(base.captions().tokens().accuracy()), pct(vdep.captions().tokens().accuracy()));
        row3(md, "caption perplexity", num(base.captions().tokens().perplexity()), num(vdep.captions().tokens().perplexity()));
        row3(md, "question-answer perplexity", num(base.questions().tokens().perplexity()), num(vdep.questions().tokens().perplexity()));
        row3(md, "final training text loss (last 10% of steps)", num(base.finalTextLoss()), num(vdep.finalTextLoss()));
        row3(md, "image loss, first 10% of steps", num(base.initialImageLoss()), num(vdep.initialImageLoss()));
        row3(md, "image loss, last 10% of steps", num(base.finalImageLoss()), num(vdep.finalImageLoss()));
        row3(md, "image target RMS (projector output), first 10% of steps", num(base.initialTargetRms()), num(vdep.initialTargetRms()));
        row3(md, "image target RMS, last 10% of steps", num(base.finalTargetRms()), num(vdep.finalTargetRms()));
        md.append("\n![loss](loss.png)\n\n");
        md.append("## Outcome\n\n").append(outcome(base, vdep)).append("\n\n");
        md.append("This is a toy: a few hundred steps of a model with a random vision tower. It shows the machinery working end to end ")
                .append("and how the two objectives behave on the same data; it is not evidence about VDEP at scale. ")
                .append("Run `vdep demo --steps N` to train longer.\n\n");
        md.append("## Files\n\n");
        md.append("- `data/`: the synthetic data set (`train.json`, `test.json`, `images/`, `tokenizer.json`)\n");
        md.append("- `model-init/`: the initial model (llava-hf layout)\n");
        for (RunResult r : runs.values()) {
            md.append("- `").append(r.name()).append("/metrics.jsonl`, `").append(r.name()).append("/final/` (trained model), `")
                    .append(r.name()).append("/eval-questions/`, `").append(r.name()).append("/eval-captions/` (predictions and scores)\n");
        }
        md.append("- `loss.png`: text loss (solid) and image loss (dashed) against step for both runs\n");
        Path report = out.resolve("report.md");
        Files.writeString(report, md.toString());
        return report;
    }

    /** A plain statement of what happened, whichever way it went. */
    static String outcome(RunResult base, RunResult vdep) {
        StringBuilder o = new StringBuilder();
        double qb = base.questions().exactMatch();
        double qv = vdep.questions().exactMatch();
        String cmp = qv > qb ? "higher than" : qv < qb ? "lower than" : "equal to";
        o.append(String.format(Locale.ROOT, "On held-out questions VDEP scored %s exact match, %s the baseline's %s. ", pct(qv), cmp, pct(qb)));
        double cb = base.captions().tokens().accuracy();
        double cv = vdep.captions().tokens().accuracy();
        o.append(String.format(Locale.ROOT, "Caption token accuracy was %s for VDEP and %s for the baseline. ", pct(cv), pct(cb)));
        double i0 = vdep.initialImageLoss();
        double i1 = vdep.finalImageLoss();
        if (Double.isFinite(i0) && Double.isFinite(i1)) {
            o.append(String.format(Locale.ROOT, "The VDEP run's image loss went from %.4f to %.4f%s", i0, i1,
                    i1 < i0 ? " (it fell: the hidden states learned to predict the next image embedding)" : " (it did not fall)"));
            double b1 = base.finalImageLoss();
            if (Double.isFinite(b1)) {
                o.append(String.format(Locale.ROOT, "; the baseline, never trained on it, ended at %.4f", b1));
            }
            o.append('.');
            double r0 = vdep.initialTargetRms();
            double r1 = vdep.finalTargetRms();
            if (Double.isFinite(r0) && Double.isFinite(r1) && r0 > 0 && r1 > 0) {
                // MSE against targets that keep moving: divided by the targets' mean square it is comparable across steps
                o.append(String.format(Locale.ROOT, " Its targets, the projector's embeddings, are trained too: their RMS went from %.3f to %.3f, "
                        + "so relative to the targets' mean square the image loss went from %.3f to %.3f.", r0, r1, i0 / (r0 * r0), i1 / (r1 * r1)));
            }
        }
        return o.toString();
    }

    private static void row(StringBuilder md, String k, String v) {
        md.append("| ").append(k).append(" | ").append(v).append(" |\n");
    }

    private static void row3(StringBuilder md, String k, String a, String b) {
        md.append("| ").append(k).append(" | ").append(a).append(" | ").append(b).append(" |\n");
    }

    /** A fraction as a percentage with one decimal, or n/a. */
    public static String pct(double v) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, "%.1f%%", 100 * v) : "n/a";
    }

    /** A number with four decimals, or n/a. */
    public static String num(double v) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, "%.4f", v) : "n/a";
    }
}
