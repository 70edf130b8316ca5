package io.github.vdep.examples.cli;

import io.github.vdep.examples.ablation.AblationReport.MetricFormat;
import io.github.vdep.examples.ablation.AblationRunner;
import io.github.vdep.examples.demo.DemoArms;
import io.github.vdep.examples.demo.DemoDataset;
import io.github.vdep.examples.demo.DemoModel;
import io.github.vdep.examples.demo.DemoReport;
import io.github.vdep.examples.demo.LossChart;
import io.github.vdep.train.ablation.PairedAblation;
import io.github.vdep.train.data.ConversationRecord;
import io.github.vdep.train.data.DataFiles;
import io.github.vdep.train.data.Templates;
import io.github.vdep.train.data.image.ImageAspect;
import io.github.vdep.train.eval.EvalConfig;
import io.github.vdep.train.eval.EvalReport;
import io.github.vdep.train.eval.EvalWriter;
import io.github.vdep.train.eval.Evaluator;
import io.github.vdep.train.infer.InferenceSession;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code vdep demo}: generates a synthetic image-text data set, builds a tiny LLaVA, trains it
 * once per arm (the plain LLaVA objective and VDEP by default) and seed, with the same
 * initialisation and data order per seed across arms, evaluates every run on the held-out
 * split, and writes results.json and a report leading with the paired differences. No input,
 * no downloads.
 */
@Command(name = "demo", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Train a tiny LLaVA on synthetic scenes with and without VDEP over paired seeds and compare.")
public final class DemoCommand implements Callable<Integer> {
    @Option(names = "--out", defaultValue = "demo-out", description = "report directory (default ${DEFAULT-VALUE})")
    Path out;
    @Option(names = "--quick", description = "a smaller run: one seed, fewer scenes and steps")
    boolean quick;
    @Option(names = "--steps", description = "optimizer steps per run (default 240, --quick 50)")
    Integer steps;
    @Option(names = "--scenes", description = "training scenes (default 480, --quick 160); each gives a question and a caption record")
    Integer scenes;
    @Option(names = "--test-scenes", description = "held-out scenes (default 60, --quick 24)")
    Integer testScenes;
    @Option(names = "--batch-size", defaultValue = "16")
    int batchSize;
    @Option(names = "--lr", defaultValue = "3e-3")
    double lr;
    @Option(names = "--alpha", description = "the vdep arm's image loss weight (a number, a ramp or an adaptive policy; default 1.0)")
    String alpha;
    @Option(names = "--seeds", description = "seeds per arm (default 3, --quick 1): every arm runs with each")
    Integer seeds;
    @Option(names = {"--seed-base", "--seed"}, defaultValue = "1", description = "the first seed; the data set is generated from it (default ${DEFAULT-VALUE})")
    long seedBase;
    @Option(names = "--arms", split = ",", description = "arms, the first the baseline: named (baseline, vdep, vdep-mse, vdep-alpha0.1, vdep-normalized, "
            + "vdep-relative, vdep-cosine, vdep-ratio, vdep-gradnorm) or NAME=OPTIONS (vdep train options); default baseline,vdep")
    List<String> arms;

    /** The metrics each run reports, in report order. */
    static final Map<String, MetricFormat> METRICS = new LinkedHashMap<>();

    static {
        METRICS.put("question_exact_match", new MetricFormat("question exact match", true, true));
        METRICS.put("caption_token_accuracy", new MetricFormat("caption token accuracy", true, true));
        METRICS.put("caption_perplexity", new MetricFormat("caption perplexity", false, false));
        METRICS.put("final_text_loss", new MetricFormat("training text loss, last 10% of steps", false, false));
        METRICS.put("final_image_loss", new MetricFormat("image loss (as trained or monitored), last 10%", false, false));
        METRICS.put("final_target_rms", new MetricFormat("image target RMS, last 10%", false, false));
    }

    @Override
    public Integer call() throws Exception {
        long started = System.nanoTime();
        PrintStream console = System.out;
        int nSteps = steps != null ? steps : (quick ? 50 : 240);
        int nScenes = scenes != null ? scenes : (quick ? 160 : 480);
        int nTest = testScenes != null ? testScenes : (quick ? 24 : 60);
        List<Long> seedList = AblationRunner.seeds(seeds != null ? seeds : (quick ? 1 : 3), seedBase);
        Map<String, List<String>> armMap = DemoArms.resolve(arms != null ? arms : DemoArms.DEFAULT, alpha);
        console.printf("vdep demo: %d training scenes, %d held out, %d steps per run, arms %s, seeds %s -> %s%n", nScenes, nTest, nSteps,
                armMap.keySet(), seedList, out.toAbsolutePath());

        DemoDataset.Files data = DemoDataset.generate(out.resolve("data"), nScenes, nTest, DemoModel.IMAGE_SIZE, seedBase);
        List<ConversationRecord> test = DataFiles.read(data.test());
        List<ConversationRecord> qa = test.stream().filter(r -> r.id().startsWith("qa-")).toList();
        List<ConversationRecord> captions = test.stream().filter(r -> r.id().startsWith("cap-")).toList();
        Map<String, List<LossChart.Point>> firstSeedCurves = new LinkedHashMap<>();
        Map<Long, Path> inits = new LinkedHashMap<>();
        AblationRunner.Run run = (arm, options, seed, dir) -> {
            Path init = inits.get(seed);
            if (init == null) {
                init = DemoModel.create(out.resolve("model-init").resolve("seed-" + seed), data.tokenizer(), data.vocabSize(), seed);
                inits.put(seed, init);
            }
            List<String> args = new ArrayList<>(List.of("train", "--model", init.toString(), "--data", data.train().toString(),
                    "--images", data.dir().toString(), "--template", "vicuna_v1", "--stage", "finetune", "--lr", Double.toString(lr),
                    "--warmup-ratio", "0.05", "--batch-size", Integer.toString(batchSize), "--steps", Integer.toString(nSteps),
                    "--seed", Long.toString(seed), "--monitor-image-loss", "--out", dir.toString()));
            args.addAll(options);
            int code = VdepCli.execute(args.toArray(String[]::new));
            if (code != 0) {
                throw new IllegalStateException("the " + arm + " run with seed " + seed + " failed (exit code " + code + ")");
            }
            List<LossChart.Point> curve = LossChart.read(dir.resolve("metrics.jsonl"));
            if (seed == seedList.get(0)) {
                firstSeedCurves.put(arm, curve);
            }
            Map<String, Double> m = new LinkedHashMap<>();
            try (InferenceSession session = InferenceSession.open(dir.resolve("final"), null, ImageAspect.PAD)) {
                Evaluator evaluator = new Evaluator(session.model(), session.tokenizer(), Templates.byName("vicuna_v1"), session.images(),
                        data.dir(), new EvalConfig(24, 0));
                EvalReport qaReport = evaluator.evaluate(qa, progress(console, arm + " eval questions"));
                EvalReport capReport = evaluator.evaluate(captions, progress(console, arm + " eval captions"));
                EvalWriter.write(qaReport, dir.resolve("eval-questions"));
                EvalWriter.write(capReport, dir.resolve("eval-captions"));
                m.put("question_exact_match", qaReport.scores().exactMatch());
                m.put("caption_token_accuracy", capReport.scores().tokens().accuracy());
                m.put("caption_perplexity", capReport.scores().tokens().perplexity());
            }
            m.put("final_text_loss", DemoReport.tailMean(curve, p -> p.textLoss()));
            m.put("final_image_loss", DemoReport.tailMean(curve, LossChart.Point::imageLoss));
            m.put("final_target_rms", DemoReport.tailMean(curve, LossChart.Point::imageTargetRms));
            return m;
        };
        PairedAblation ablation = AblationRunner.run(armMap, seedList, out, run, console);
        LossChart.write(firstSeedCurves, Math.max(1, nSteps / 25), out.resolve("loss.png"));
        LossChart.writeAlpha(firstSeedCurves, out.resolve("alpha.png"));
        double minutes = (System.nanoTime() - started) / 60e9;
        DemoReport.Settings settings = new DemoReport.Settings(nScenes, nTest, nSteps, batchSize, lr, seedList, data.vocabSize(), minutes);
        Path report = DemoReport.write(out, settings, ablation, METRICS, firstSeedCurves);

        Table table = Table.of("arm", "question exact match", "caption token accuracy", "caption perplexity", "final text loss", "final image loss");
        for (String arm : ablation.arms()) {
            table.row(arm + " (mean of " + seedList.size() + ")", DemoReport.pct(ablation.mean(arm, "question_exact_match")),
                    DemoReport.pct(ablation.mean(arm, "caption_token_accuracy")), DemoReport.num(ablation.mean(arm, "caption_perplexity")),
                    DemoReport.num(ablation.mean(arm, "final_text_loss")), DemoReport.num(ablation.mean(arm, "final_image_loss")));
        }
        console.println();
        table.print(console);
        console.printf("report: %s (%.1f minutes)%n", report.toAbsolutePath(), minutes);
        return 0;
    }

    private static io.github.vdep.train.eval.EvalListener progress(PrintStream console, String label) {
        ProgressBar[] bar = new ProgressBar[1];
        return (done, total, soFar) -> {
            if (bar[0] == null) {
                bar[0] = new ProgressBar(console, label, total);
            }
            bar[0].update(done, "");
        };
    }
}
