package io.github.vdep.examples.demo;

import io.github.vdep.examples.ablation.AblationReport;
import io.github.vdep.examples.ablation.AblationReport.MetricFormat;
import io.github.vdep.train.ablation.PairedAblation;
import io.github.vdep.train.ablation.PairedDifference;
import io.github.vdep.train.eval.Prediction;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;

/** Writes the demo's report.md: the paired differences first, then the settings, per-arm means and the outcome as measured. */
public final class DemoReport {
    private DemoReport() {
    }

    /** The demo's settings. */
    public record Settings(int trainScenes, int testScenes, int testQuestions, int steps, int batchSize, double lr, List<Long> seeds, int vocabSize,
            double minutes, VisionPretraining.Result vision, double objectPatchShare) {
    }

    /**
     * Accuracy per question type ({@code accuracy_TYPE}) and, for the presence questions, the
     * share answered "yes" ({@code presence_yes_ratio}; the truth is 50%, POPE's yes-ratio).
     */
    public static Map<String, Double> byType(List<Prediction> predictions) {
        Map<String, Double> m = new java.util.LinkedHashMap<>();
        for (String t : DemoDataset.TYPES) {
            List<Prediction> of = predictions.stream().filter(p -> DemoDataset.type(p.id()).equals(t)).toList();
            m.put("accuracy_" + t, of.isEmpty() ? Double.NaN : of.stream().filter(Prediction::correct).count() / (double) of.size());
            if (t.equals("presence")) {
                m.put("presence_yes_ratio", of.isEmpty() ? Double.NaN
                        : of.stream().filter(p -> p.prediction().trim().toLowerCase(Locale.ROOT).startsWith("yes")).count() / (double) of.size());
            }
        }
        return m;
    }

    /** Mean of a per-step value over the last tenth of the steps (NaN if never present there). */
    public static double tailMean(List<LossChart.Point> curve, Function<LossChart.Point, Double> f) {
        int n = Math.max(1, curve.size() / 10);
        return curve.subList(curve.size() - n, curve.size()).stream().map(f).filter(v -> v != null && Double.isFinite(v))
                .mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
    }

    /** Writes {@code out/report.md} and {@code out/differences.png}; returns the report's path. */
    public static Path write(Path out, Settings s, PairedAblation a, Map<String, MetricFormat> formats, Map<String, List<LossChart.Point>> curves)
            throws IOException {
        Map<String, MetricFormat> metrics = AblationReport.present(a, formats);
        AblationReport.chart(a, metrics, out.resolve("differences.png"));
        StringBuilder md = new StringBuilder();
        md.append("# vdep demo report\n\n");
        md.append("## Paired differences against ").append(a.baseline()).append(" (held-out scenes)\n\n");
        md.append(AblationReport.table(a, metrics)).append('\n');
        md.append("![paired differences](differences.png)\n\n");
        md.append("## Outcome\n\n").append(outcome(a)).append("\n\n");
        md.append("## Settings\n\n");
        md.append("| setting | value |\n|---|---|\n");
        row(md, "data", s.trainScenes() + " training scenes, " + s.testScenes() + " held-out scenes (" + s.testQuestions()
                + " held-out questions); the same for every run. Each scene has 1 to 3 shapes (circle, square, triangle; red, green, blue, yellow) "
                + "in three slots (left, middle, right) and up to four questions: count, colour of a named shape, position of a named object, "
                + "presence of an object (absent in half of them)");
        row(md, "images", DemoModel.IMAGE_SIZE + "x" + DemoModel.IMAGE_SIZE + " PNG, " + DemoModel.PATCH + "-pixel patches: "
                + (DemoModel.IMAGE_SIZE / DemoModel.PATCH) * (DemoModel.IMAGE_SIZE / DemoModel.PATCH) + " image tokens; an object covers several patches");
        row(md, "template", "vicuna_v1 (only answers supervised)");
        row(md, "model", "CLIP-style ViT (width 64, 2 layers, feature layer -2) -> mlp2x_gelu -> LLaMA "
                + "(hidden 128, 2 layers, 4 heads, 2 KV heads), vocabulary " + s.vocabSize() + " words");
        row(md, "vision tower", String.format(Locale.ROOT, "**pretrained, then frozen**: %d AdamW steps classifying every patch of %d separate scenes "
                + "(never in the demo's data); on 200 further scenes its patch classifier scores %.1f%% (object patches %.1f%%)", s.vision().steps(),
                s.vision().scenes(), 100 * s.vision().heldOutPatchAccuracy(), 100 * s.vision().heldOutObjectPatchAccuracy()));
        row(md, "stage", "finetune (projector + language model train)");
        row(md, "optimiser", "AdamW, lr " + s.lr() + ", warmup 5% then cosine, grad clip 1.0, batch " + s.batchSize() + ", " + s.steps() + " steps");
        row(md, "probes", String.format(Locale.ROOT, "on the held-out images with the prompt \"how many shapes are there ?\": a ridge probe per layer from "
                + "the image positions' states to the patch's content (13 classes), fitted on half the images, scored on the object patches of the "
                + "other half; the answer position's attention on the image and the share of it on object patches (uniform attention: %.1f%%)",
                100 * s.objectPatchShare()));
        for (String arm : a.arms()) {
            row(md, "arm `" + arm + "`", "`" + armSettings(a, arm) + "`");
        }
        row(md, "seeds", a.seeds() + ": per seed, every arm starts from the same initial model (the same pretrained tower for all) "
                + "and reads the data in the same order");
        row(md, "image loss in LLaVA-mode steps", "computed for the plot only (`--monitor-image-loss`), never trained on");
        row(md, "wall time", String.format(Locale.ROOT, "%.1f minutes", s.minutes()));
        md.append("\n## Per-arm means over the seeds\n\n");
        md.append("| metric |");
        a.arms().forEach(arm -> md.append(' ').append(arm).append(" |"));
        md.append("\n|---|");
        a.arms().forEach(arm -> md.append("---|"));
        md.append('\n');
        for (Map.Entry<String, MetricFormat> m : metrics.entrySet()) {
            md.append("| ").append(m.getValue().label()).append(" |");
            for (String arm : a.arms()) {
                double v = a.mean(arm, m.getKey());
                md.append(' ').append(m.getValue().percent() ? pct(v) : num(v)).append(" |");
            }
            md.append('\n');
        }
        md.append("\n![loss](loss.png)\n\n![alpha](alpha.png)\n\n");
        md.append("The curves are those of the first seed (").append(a.seeds().get(0)).append("). ")
                .append("This is a toy: a few hundred steps of a tiny model on synthetic scenes. It shows how the objectives behave on the same ")
                .append("data, seed by seed; it is not evidence about VDEP at scale.\n\n");
        md.append("## Files\n\n");
        md.append("- `results.json`: every arm's value per seed and metric, and the paired differences with their intervals\n");
        md.append("- `data/`: the synthetic data set (`train.json`, `test.json`, `test-scenes.json` with the held-out patch labels, `images/`, `tokenizer.json`)\n");
        md.append("- `model-init/seed-S/`: the initial model of each seed (llava-hf layout)\n");
        md.append("- `ARM/seed-S/`: `metrics.jsonl`, `final/` (trained model), `eval-questions/` (predictions and scores)\n");
        md.append("- `loss.png`: text loss (solid) and image loss (dashed) against step; `alpha.png`: alpha against step; ")
                .append("`differences.png`: the paired differences with their 95% t-intervals\n");
        Path report = out.resolve("report.md");
        Files.writeString(report, md.toString());
        return report;
    }

    private static String armSettings(PairedAblation a, String arm) {
        return a.settings(arm);
    }

    /** A plain statement of what happened, whichever way it went, with the intervals. */
    static String outcome(PairedAblation a) {
        StringBuilder o = new StringBuilder();
        for (String arm : a.arms()) {
            if (arm.equals(a.baseline())) {
                continue;
            }
            PairedDifference q = a.difference(arm, "question_exact_match");
            if (q == null) {
                continue;
            }
            o.append(String.format(Locale.ROOT, "`%s` against `%s` over %d seed(s): question exact match %s (%s)", arm, a.baseline(), q.n(),
                    pp(q.mean()), interval(q)));
            for (String t : DemoDataset.TYPES) {
                PairedDifference d = a.difference(arm, "accuracy_" + t);
                if (d != null) {
                    o.append(String.format(Locale.ROOT, "; %s %s (%s)", t, pp(d.mean()), interval(d)));
                }
            }
            o.append(". ");
        }
        if (a.seeds().size() < 2) {
            o.append("With one seed there is no interval: the difference may be seed noise (the baseline alone moves by tens of points between seeds). ");
        } else {
            o.append("An interval that includes 0 means these seeds cannot tell the arms apart. ");
        }
        return o.toString().trim();
    }

    private static String interval(PairedDifference d) {
        if (!Double.isFinite(d.low())) {
            return "no interval with one seed";
        }
        return "95% t-interval [" + pp(d.low()) + ", " + pp(d.high()) + "]" + (d.excludesZero() ? ", excludes 0" : ", includes 0");
    }

    private static String pp(double v) {
        return String.format(Locale.ROOT, "%+.1f pp", 100 * v);
    }

    private static void row(StringBuilder md, String k, String v) {
        md.append("| ").append(k).append(" | ").append(v).append(" |\n");
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
