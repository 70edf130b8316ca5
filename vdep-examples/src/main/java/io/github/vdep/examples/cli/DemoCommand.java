package io.github.vdep.examples.cli;

import io.github.vdep.examples.demo.DemoDataset;
import io.github.vdep.examples.demo.DemoModel;
import io.github.vdep.examples.demo.DemoReport;
import io.github.vdep.examples.demo.LossChart;
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
 * twice with the same seed and schedule (plain LLaVA objective, then VDEP), evaluates both on the
 * held-out split and writes a report with plots. No input, no downloads.
 */
@Command(name = "demo", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Train a tiny LLaVA on synthetic scenes with and without VDEP and compare (about 50 s on 2 idle cores; --quick about 16 s).")
public final class DemoCommand implements Callable<Integer> {
    @Option(names = "--out", defaultValue = "demo-out", description = "report directory (default ${DEFAULT-VALUE})")
    Path out;
    @Option(names = "--quick", description = "a smaller run (about 16 s on 2 idle cores)")
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
    @Option(names = "--alpha", defaultValue = "1.0", description = "VDEP run's image loss weight (default ${DEFAULT-VALUE})")
    String alpha;
    @Option(names = "--seed", defaultValue = "42")
    long seed;

    @Mixin
    DeviceOption device;

    @Override
    public Integer call() throws Exception {
        long started = System.nanoTime();
        io.github.vdep.core.device.Device dev = device.device(); // before anything is generated
        PrintStream console = System.out;
        int nSteps = steps != null ? steps : (quick ? 50 : 240);
        int nScenes = scenes != null ? scenes : (quick ? 160 : 480);
        int nTest = testScenes != null ? testScenes : (quick ? 24 : 60);
        console.printf("vdep demo: %d training scenes, %d held out, %d steps per run -> %s%n", nScenes, nTest, nSteps, out.toAbsolutePath());

        DemoDataset.Files data = DemoDataset.generate(out.resolve("data"), nScenes, nTest, DemoModel.IMAGE_SIZE, seed);
        Path init = DemoModel.create(out.resolve("model-init"), data.tokenizer(), data.vocabSize(), seed);

        Map<String, List<String>> runs = new LinkedHashMap<>();
        runs.put("baseline", List.of("--alpha", "0", "--mode-ratio", "0:1"));
        runs.put("vdep", List.of("--alpha", alpha, "--mode-ratio", "1:1"));
        Map<String, DemoReport.RunResult> results = new LinkedHashMap<>();
        Map<String, List<LossChart.Point>> curves = new LinkedHashMap<>();
        List<ConversationRecord> test = DataFiles.read(data.test());
        List<ConversationRecord> qa = test.stream().filter(r -> r.id().startsWith("qa-")).toList();
        List<ConversationRecord> captions = test.stream().filter(r -> r.id().startsWith("cap-")).toList();
        for (Map.Entry<String, List<String>> run : runs.entrySet()) {
            Path runDir = out.resolve(run.getKey());
            console.printf("%n== %s run (%s) ==%n", run.getKey(), String.join(" ", run.getValue()));
            List<String> args = new ArrayList<>(List.of("train", "--model", init.toString(), "--data", data.train().toString(),
                    "--images", data.dir().toString(), "--template", "vicuna_v1", "--stage", "finetune", "--lr", Double.toString(lr),
                    "--warmup-ratio", "0.05", "--batch-size", Integer.toString(batchSize), "--steps", Integer.toString(nSteps),
                    "--seed", Long.toString(seed), "--monitor-image-loss", "--out", runDir.toString(), "--device", dev.toString()));
            args.addAll(run.getValue());
            int code = VdepCli.execute(args.toArray(String[]::new));
            if (code != 0) {
                throw new IllegalStateException("the " + run.getKey() + " training run failed (exit code " + code + ")");
            }
            curves.put(run.getKey(), LossChart.read(runDir.resolve("metrics.jsonl")));
            try (InferenceSession session = InferenceSession.open(runDir.resolve("final"), null, ImageAspect.PAD, dev)) {
                Evaluator evaluator = new Evaluator(session.model(), session.tokenizer(), Templates.byName("vicuna_v1"), session.images(),
                        data.dir(), new EvalConfig(24, 0));
                EvalReport qaReport = evaluator.evaluate(qa, progress(console, run.getKey() + " eval questions"));
                EvalReport capReport = evaluator.evaluate(captions, progress(console, run.getKey() + " eval captions"));
                EvalWriter.write(qaReport, runDir.resolve("eval-questions"));
                EvalWriter.write(capReport, runDir.resolve("eval-captions"));
                results.put(run.getKey(), new DemoReport.RunResult(run.getKey(), String.join(" ", run.getValue()), runDir, curves.get(run.getKey()),
                        qaReport.scores(), capReport.scores()));
            }
        }
        LossChart.write(curves, Math.max(1, nSteps / 25), out.resolve("loss.png"));
        double minutes = (System.nanoTime() - started) / 60e9;
        DemoReport.Settings settings = new DemoReport.Settings(nScenes, nTest, nSteps, batchSize, lr, alpha, seed, data.vocabSize(), minutes);
        Path report = DemoReport.write(out, settings, results);

        Table table = Table.of("run", "question exact match", "caption token accuracy", "caption perplexity", "final text loss", "final image loss");
        for (DemoReport.RunResult r : results.values()) {
            table.row(r.name(), DemoReport.pct(r.questions().exactMatch()), DemoReport.pct(r.captions().tokens().accuracy()),
                    DemoReport.num(r.captions().tokens().perplexity()), DemoReport.num(r.finalTextLoss()), DemoReport.num(r.finalImageLoss()));
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
