package io.github.vdep.examples.cli;

import io.github.vdep.examples.ablation.AblationReport;
import io.github.vdep.examples.ablation.AblationReport.MetricFormat;
import io.github.vdep.examples.ablation.AblationRunner;
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
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code vdep ablate}: a paired multi-seed ablation over {@code vdep train} options on one's own
 * data. Every arm trains with every seed (same initialisation and data order per seed), each
 * final model is evaluated on {@code --eval-data}, and results.json, report.md and
 * differences.png compare each arm with the first, seed by seed.
 */
@Command(name = "ablate", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Paired multi-seed ablation over vdep train options: vdep ablate --arm base=\"--alpha 0 --mode-ratio 0:1\" "
                + "--arm vdep=\"--alpha 1\" --seeds 3 --eval-data test.json --out DIR -- TRAIN-OPTIONS...")
public final class AblateCommand implements Callable<Integer> {
    private static final Set<String> RESERVED = Set.of("--seed", "--out", "--resume");

    @Option(names = "--arm", required = true, description = "NAME=OPTIONS (vdep train options, space-separated, no quoting); repeat; the first is the baseline")
    List<String> arms;
    @Option(names = "--seeds", defaultValue = "3", description = "seeds per arm (default ${DEFAULT-VALUE})")
    int seeds;
    @Option(names = "--seed-base", defaultValue = "1", description = "the first seed (default ${DEFAULT-VALUE})")
    long seedBase;
    @Option(names = "--eval-data", required = true, description = "held-out LLaVA JSON records to evaluate each final model on")
    Path evalData;
    @Option(names = "--eval-images", description = "folder of the evaluation images (default: the eval data's folder)")
    Path evalImages;
    @Option(names = "--eval-template", description = "template for evaluation (default: the training --template, else plain)")
    String evalTemplate;
    @Option(names = "--limit", defaultValue = "0", description = "evaluate at most this many records (0 = all)")
    int limit;
    @Option(names = "--max-new-tokens", defaultValue = "32", description = "answer length bound for exact match (default ${DEFAULT-VALUE})")
    int maxNewTokens;
    @Option(names = "--out", required = true, description = "output directory: ARM/seed-S/ per run, results.json, report.md")
    Path out;
    @Parameters(paramLabel = "TRAIN-OPTIONS", description = "vdep train options shared by all runs (after --), without --seed and --out")
    List<String> common = new ArrayList<>();

    static final Map<String, MetricFormat> METRICS = new LinkedHashMap<>();

    static {
        METRICS.put("exact_match", new MetricFormat("exact match", true, true));
        METRICS.put("token_accuracy", new MetricFormat("token accuracy (teacher-forced)", true, true));
        METRICS.put("perplexity", new MetricFormat("perplexity", false, false));
        METRICS.put("final_text_loss", new MetricFormat("training text loss, last 10% of steps", false, false));
        METRICS.put("final_image_loss", new MetricFormat("image loss, last 10% of steps", false, false));
    }

    @Override
    public Integer call() throws Exception {
        for (String c : common) {
            if (RESERVED.contains(c)) {
                throw new IllegalArgumentException("TRAIN-OPTIONS: " + c + " is set by vdep ablate per run; leave it out");
            }
        }
        Map<String, List<String>> armMap = AblationRunner.parseArms(arms);
        List<Long> seedList = AblationRunner.seeds(seeds, seedBase);
        if (!Files.isRegularFile(evalData)) {
            throw new IllegalArgumentException("--eval-data " + evalData + " does not exist");
        }
        List<ConversationRecord> records = DataFiles.read(evalData);
        String template = evalTemplate != null ? evalTemplate : option(common, "--template", "plain");
        Path images = evalImages != null ? evalImages : evalData.toAbsolutePath().getParent();
        PrintStream console = System.out;
        long started = System.nanoTime();
        AblationRunner.Run run = (arm, options, seed, dir) -> {
            List<String> args = new ArrayList<>(List.of("train"));
            args.addAll(common);
            args.addAll(options);
            args.addAll(List.of("--seed", Long.toString(seed), "--out", dir.toString()));
            int code = VdepCli.execute(args.toArray(String[]::new));
            if (code != 0) {
                throw new IllegalStateException("the " + arm + " run with seed " + seed + " failed (exit code " + code + ")");
            }
            Map<String, Double> m = new LinkedHashMap<>();
            try (InferenceSession session = InferenceSession.open(dir.resolve("final"), null, ImageAspect.PAD)) {
                Evaluator evaluator = new Evaluator(session.model(), session.tokenizer(), Templates.byName(template), session.images(), images,
                        new EvalConfig(maxNewTokens, limit));
                EvalReport report = evaluator.evaluate(records, (done, total, soFar) -> { });
                EvalWriter.write(report, dir.resolve("eval"));
                m.put("exact_match", report.scores().exactMatch());
                m.put("token_accuracy", report.scores().tokens().accuracy());
                m.put("perplexity", report.scores().tokens().perplexity());
            }
            List<LossChart.Point> curve = LossChart.read(dir.resolve("metrics.jsonl"));
            m.put("final_text_loss", DemoReport.tailMean(curve, p -> p.textLoss()));
            m.put("final_image_loss", DemoReport.tailMean(curve, LossChart.Point::imageLoss));
            return m;
        };
        PairedAblation ablation = AblationRunner.run(armMap, seedList, out, run, console);
        Map<String, MetricFormat> metrics = AblationReport.present(ablation, METRICS);
        AblationReport.chart(ablation, metrics, out.resolve("differences.png"));
        StringBuilder md = new StringBuilder("# vdep ablate report\n\n");
        md.append(AblationReport.table(ablation, metrics)).append("\n![paired differences](differences.png)\n\n");
        md.append("Evaluated on `").append(evalData).append("` (").append(records.size()).append(" records, template ").append(template).append(").\n\n");
        md.append("| arm | options |\n|---|---|\n");
        armMap.forEach((k, v) -> md.append("| ").append(k).append(" | `").append(String.join(" ", v)).append("` |\n"));
        md.append("\nShared training options: `").append(String.join(" ", common)).append("`\n");
        Files.writeString(out.resolve("report.md"), md.toString());
        console.printf("%nresults: %s, report: %s (%.1f minutes)%n", out.resolve("results.json"), out.resolve("report.md"),
                (System.nanoTime() - started) / 60e9);
        return 0;
    }

    private static String option(List<String> args, String name, String fallback) {
        int i = args.indexOf(name);
        return i >= 0 && i + 1 < args.size() ? args.get(i + 1) : fallback;
    }
}
