package io.github.vdep.examples.cli;

import io.github.vdep.examples.ablation.AblationReport.MetricFormat;
import io.github.vdep.examples.ablation.AblationRunner;
import io.github.vdep.examples.demo.DemoArms;
import io.github.vdep.examples.demo.DemoDataset;
import io.github.vdep.examples.demo.DemoModel;
import io.github.vdep.examples.demo.DemoReport;
import io.github.vdep.examples.demo.LossChart;
import io.github.vdep.examples.demo.MechanismProbes;
import io.github.vdep.examples.demo.VisionPretraining;
import io.github.vdep.train.data.image.ClipImageProcessor;
import io.github.vdep.train.data.image.ImageProcessorConfig;
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
import picocli.CommandLine.Mixin;
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
    @Option(names = "--steps", description = "optimizer steps per run (default 240, --quick 80)")
    Integer steps;
    @Option(names = "--scenes", description = "training scenes (default 600, --quick 300); each gives up to four questions")
    Integer scenes;
    @Option(names = "--test-scenes", description = "held-out scenes (default 100, --quick 40)")
    Integer testScenes;
    @Option(names = "--batch-size", defaultValue = "16")
    int batchSize;
    @Option(names = "--lr", defaultValue = "3e-3")
    double lr;
    @Option(names = "--alpha", description = "the vdep arm's image loss weight (a number, a ramp or an adaptive policy; default 1.0)")
    String alpha;
    @Option(names = "--vision-steps", description = "vision tower pretraining steps (default 300, --quick 120)")
    Integer visionSteps;
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
        METRICS.put("question_exact_match", new MetricFormat("question exact match, all types", true, true));
        for (String t : DemoDataset.TYPES) {
            METRICS.put("accuracy_" + t, new MetricFormat(t + " accuracy", true, true));
        }
        METRICS.put("presence_yes_ratio", new MetricFormat("presence: share of yes answers (truth 50%)", true, false));
        for (int k = 0; k <= 2; k++) {
            METRICS.put("probe_layer" + k, new MetricFormat("patch probe, " + (k == 0 ? "LLM input (layer 0)" : "layer " + k) + ", object patches", true, true));
        }
        for (int k = 1; k <= 2; k++) {
            METRICS.put("attention_image_layer" + k, new MetricFormat("answer-position attention on the image, layer " + k, true, true));
            METRICS.put("attention_objects_layer" + k, new MetricFormat("share of that on object patches, layer " + k, true, true));
        }
        METRICS.put("question_perplexity", new MetricFormat("answer perplexity (teacher-forced)", false, false));
        METRICS.put("final_text_loss", new MetricFormat("training text loss, last 10% of steps", false, false));
        METRICS.put("final_image_loss", new MetricFormat("image loss (as trained or monitored), last 10%", false, false));
        METRICS.put("final_target_rms", new MetricFormat("image target RMS, last 10%", false, false));
    }

    /** Every answer is one word: greedy decoding stops after this many tokens (the word, end of turn, spare). */
    static final int ANSWER_TOKENS = 4;
    static final int STEPS = 240;
    static final int SCENES = 600;
    static final int TEST_SCENES = 100;
    static final int VISION_SCENES = 1500;
    static final int VISION_STEPS = 300;
    static final int QUICK_STEPS = 80;
    static final int QUICK_SCENES = 300;
    static final int QUICK_TEST_SCENES = 40;
    static final int QUICK_VISION_SCENES = 600;
    static final int QUICK_VISION_STEPS = 120;

    @Mixin
    DeviceOption device;

    @Override
    public Integer call() throws Exception {
        long started = System.nanoTime();
        io.github.vdep.core.device.Device dev = device.device(); // before anything is generated
        PrintStream console = System.out;
        int nSteps = steps != null ? steps : (quick ? QUICK_STEPS : STEPS);
        int nScenes = scenes != null ? scenes : (quick ? QUICK_SCENES : SCENES);
        int nTest = testScenes != null ? testScenes : (quick ? QUICK_TEST_SCENES : TEST_SCENES);
        List<Long> seedList = AblationRunner.seeds(seeds != null ? seeds : (quick ? 1 : 3), seedBase);
        Map<String, List<String>> armMap = DemoArms.resolve(arms != null ? arms : DemoArms.DEFAULT, alpha);
        console.printf("vdep demo: %d training scenes, %d held out, %d steps per run, arms %s, seeds %s -> %s%n", nScenes, nTest, nSteps,
                armMap.keySet(), seedList, out.toAbsolutePath());

        DemoDataset.Files data = DemoDataset.generate(out.resolve("data"), nScenes, nTest, DemoModel.IMAGE_SIZE, seedBase);
        List<ConversationRecord> qa = DataFiles.read(data.test());
        List<DemoDataset.LabelledImage> labelled = DemoDataset.readLabelledImages(data.testScenes());
        // the vision tower: trained once on a separate pool of scenes, then frozen in every run (as LLaVA starts from CLIP)
        long visionStart = System.nanoTime();
        ClipImageProcessor processor = new ClipImageProcessor(ImageProcessorConfig.clip(DemoModel.IMAGE_SIZE), ImageAspect.PAD);
        VisionPretraining.Result vision = VisionPretraining.train(DemoModel.random(data.vocabSize(), seedBase), processor, DemoModel.IMAGE_SIZE,
                DemoModel.PATCH, quick ? QUICK_VISION_SCENES : VISION_SCENES,
                visionSteps != null ? visionSteps : (quick ? QUICK_VISION_STEPS : VISION_STEPS), seedBase);
        console.printf("vision tower: %d steps on %d separate scenes (%.0f s); held-out patch classification %.1f%% (object patches %.1f%%)%n",
                vision.steps(), vision.scenes(), (System.nanoTime() - visionStart) / 1e9, 100 * vision.heldOutPatchAccuracy(),
                100 * vision.heldOutObjectPatchAccuracy());
        Map<String, List<LossChart.Point>> firstSeedCurves = new LinkedHashMap<>();
        Map<Long, Path> inits = new LinkedHashMap<>();
        double[] objectPatchShare = {Double.NaN};
        AblationRunner.Run run = (arm, options, seed, dir) -> {
            Path init = inits.get(seed);
            if (init == null) {
                init = DemoModel.create(out.resolve("model-init").resolve("seed-" + seed), data.tokenizer(), data.vocabSize(), seed, vision.weights());
                inits.put(seed, init);
            }
            List<String> args = new ArrayList<>(List.of("train", "--model", init.toString(), "--data", data.train().toString(),
                    "--images", data.dir().toString(), "--template", "vicuna_v1", "--stage", "finetune", "--lr", Double.toString(lr),
                    "--warmup-ratio", "0.05", "--batch-size", Integer.toString(batchSize), "--steps", Integer.toString(nSteps),
                    "--seed", Long.toString(seed), "--monitor-image-loss", "--out", dir.toString(), "--device", dev.toString()));
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
            try (InferenceSession session = InferenceSession.open(dir.resolve("final"), null, ImageAspect.PAD, dev)) {
                Evaluator evaluator = new Evaluator(session.model(), session.tokenizer(), Templates.byName("vicuna_v1"), session.images(),
                        data.dir(), new EvalConfig(ANSWER_TOKENS, 0));
                EvalReport qaReport = evaluator.evaluate(qa, progress(console, arm + " eval questions"));
                EvalWriter.write(qaReport, dir.resolve("eval-questions"));
                m.put("question_exact_match", qaReport.scores().exactMatch());
                m.put("question_perplexity", qaReport.scores().tokens().perplexity());
                m.putAll(DemoReport.byType(qaReport.predictions()));
                MechanismProbes.Result probes = MechanismProbes.measure(session, session.prompts(Templates.byName("vicuna_v1")), data.dir(), labelled);
                for (int k = 0; k < probes.probeObjectAccuracy().length; k++) {
                    m.put("probe_layer" + k, probes.probeObjectAccuracy()[k]);
                }
                for (int k = 0; k < probes.attentionOnImage().length; k++) {
                    m.put("attention_image_layer" + (k + 1), probes.attentionOnImage()[k]);
                    m.put("attention_objects_layer" + (k + 1), probes.attentionObjectShare()[k]);
                }
                objectPatchShare[0] = probes.objectPatchShare();
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
        DemoReport.Settings settings = new DemoReport.Settings(nScenes, nTest, qa.size(), nSteps, batchSize, lr, seedList, data.vocabSize(), minutes,
                vision, objectPatchShare[0]);
        Path report = DemoReport.write(out, settings, ablation, METRICS, firstSeedCurves);

        Table table = Table.of("arm", "exact match", "count", "colour", "position", "presence", "yes-ratio", "final text loss", "final image loss");
        for (String arm : ablation.arms()) {
            table.row(arm + " (mean of " + seedList.size() + ")", DemoReport.pct(ablation.mean(arm, "question_exact_match")),
                    DemoReport.pct(ablation.mean(arm, "accuracy_count")), DemoReport.pct(ablation.mean(arm, "accuracy_colour")),
                    DemoReport.pct(ablation.mean(arm, "accuracy_position")), DemoReport.pct(ablation.mean(arm, "accuracy_presence")),
                    DemoReport.pct(ablation.mean(arm, "presence_yes_ratio")), DemoReport.num(ablation.mean(arm, "final_text_loss")),
                    DemoReport.num(ablation.mean(arm, "final_image_loss")));
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
