package io.github.vdep.examples.cli;

import io.github.vdep.train.data.ConversationRecord;
import io.github.vdep.train.data.ConversationTemplate;
import io.github.vdep.train.data.DataFiles;
import io.github.vdep.train.data.Templates;
import io.github.vdep.train.data.image.ImageAspect;
import io.github.vdep.train.eval.EvalConfig;
import io.github.vdep.train.eval.EvalReport;
import io.github.vdep.train.eval.EvalScores;
import io.github.vdep.train.eval.EvalWriter;
import io.github.vdep.train.eval.Evaluator;
import io.github.vdep.train.infer.InferenceSession;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code vdep eval}: exact-match accuracy of generated answers and teacher-forced token accuracy
 * and perplexity on LLaVA-format data; writes predictions.jsonl and scores.json. With
 * {@code --benchmark} or {@code --suite}, the paper's benchmarks scored as LLaVA scores them
 * ({@link BenchmarkEval}).
 */
@Command(name = "eval", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Evaluate a model on LLaVA-format data (--data): exact match (LLaVA's VQA answer processing) of greedy answers, "
                + "teacher-forced token accuracy and perplexity.",
            "Or on benchmarks as LLaVA-1.5 scores them (--benchmark NAME --root DIR, or --suite ROOT): "
                + "vqav2, gqa, vizwiz, scienceqa, textvqa, pope, mme, mmbench, seed, realworldqa, llava-bench, mm-vet."})
public final class EvalCommand implements Callable<Integer> {
    @Option(names = "--model", description = "llava-hf model directory (config.json, safetensors, tokenizer.json)")
    Path model;
    @Option(names = "--data", description = "LLaVA JSON list or JSON Lines file")
    Path data;
    @Option(names = "--benchmark", description = "evaluate one benchmark (its folder under --root, in LLaVA's layout)")
    String benchmark;
    @Option(names = "--root", description = "with --benchmark: LLaVA's playground/data/eval folder, or the benchmark's own folder (default .)")
    Path root;
    @Option(names = "--suite", description = "evaluate every benchmark found under this folder (LLaVA's playground/data/eval layout)")
    Path suite;
    @Option(names = "--answers", description = "with --benchmark: score this LLaVA answer file instead of generating (no --model needed)")
    Path answers;
    @Option(names = "--model-id", description = "model id in answer files and file names (default: the model folder's name)")
    String modelId;
    @Option(names = "--batch-size", defaultValue = "8", description = "with --benchmark/--suite: questions decoded together (1: one at a time, as LLaVA) (default ${DEFAULT-VALUE})")
    int batchSize;
    @Option(names = "--images", description = "folder the records' image paths are relative to (default: the data file's folder)")
    Path images;
    @Option(names = "--tokenizer", description = "tokenizer.json (default: the model directory's)")
    Path tokenizer;
    @Option(names = "--template", defaultValue = "vicuna_v1", description = "vicuna_v1 (questions) or plain (captions) (default ${DEFAULT-VALUE})")
    String template;
    @Option(names = "--image-aspect", defaultValue = "pad", description = "pad or crop (default ${DEFAULT-VALUE})")
    String imageAspect;
    @Option(names = "--out", description = "output folder (default: MODEL-eval-DATA next to the model directory, or ./eval-out if that is not writable)")
    Path out;
    @Option(names = "--limit", defaultValue = "0", description = "evaluate only the first N records; 0 = all (default ${DEFAULT-VALUE})")
    int limit;
    @Option(names = "--max-new-tokens", defaultValue = "128", description = "longest generated answer in tokens (default ${DEFAULT-VALUE})")
    int maxNewTokens;

    @Mixin
    DeviceOption device;

    @Mixin
    PrecisionOption precision;

    @Override
    public Integer call() {
        device.device(); // checked before anything else
        precision.precision(device.device()); // FP32 is what runs; bf16 is refused in one line
        if (benchmark != null || suite != null || answers != null || root != null) {
            return BenchmarkEval.run(this);
        }
        if (model == null || data == null) {
            throw new IllegalArgumentException("give --model and --data, or --benchmark NAME, or --suite ROOT");
        }
        long started = System.nanoTime();
        ConversationTemplate tpl = Templates.byName(template);
        ImageAspect aspect = GenerateCommand.aspect(imageAspect);
        EvalConfig config = new EvalConfig(maxNewTokens, limit);
        List<ConversationRecord> records = DataFiles.read(data);
        if (records.isEmpty()) {
            throw new IllegalArgumentException(data + ": the data file holds no records");
        }
        Path imageFolder = images != null ? images : data.toAbsolutePath().getParent();
        Path outDir = out != null ? out : defaultOut(model, data);
        PrintStream console = System.out;
        EvalReport report;
        try (InferenceSession session = InferenceSession.open(model, tokenizer, aspect, device.device())) {
            Evaluator evaluator = new Evaluator(session.model(), session.tokenizer(), tpl, session.images(), imageFolder, config);
            int total = limit > 0 ? Math.min(limit, records.size()) : records.size();
            ProgressBar bar = new ProgressBar(console, "eval", total);
            report = evaluator.evaluate(records, (done, n, s) -> bar.update(done, "EM " + percent(s.exactMatch())));
        }
        EvalWriter.write(report, outDir);
        EvalScores s = report.scores();
        Table.of("metric", "value")
                .row("template", s.template())
                .row("records", Integer.toString(s.records()))
                .row("evaluated", Integer.toString(s.evaluated()))
                .row("skipped", s.skippedCount() == 0 ? "0" : s.skippedCount() + " " + s.skipped())
                .row("exact match", percent(s.exactMatch()) + " (" + s.correct() + "/" + s.evaluated() + ")")
                .row("token accuracy", percent(s.tokenAccuracy()) + " (" + s.tokens().correct() + "/" + s.tokens().tokens() + ")")
                .row("perplexity", number(s.perplexity()))
                .row("wall time", ProgressBar.time((System.nanoTime() - started) / 1e9))
                .row("predictions", outDir.resolve(EvalWriter.PREDICTIONS).toString())
                .row("scores", outDir.resolve(EvalWriter.SCORES).toString())
                .print(console);
        return 0;
    }

    /** {@code MODEL-eval-DATA} beside the model directory when that folder is writable, else {@code ./eval-out}. */
    static Path defaultOut(Path model, Path data) {
        Path dir = model.toAbsolutePath().normalize();
        Path parent = dir.getParent();
        String stem = data.getFileName().toString().replaceFirst("\\.(jsonl|json)$", "");
        if (parent != null && Files.isWritable(parent)) {
            return parent.resolve(dir.getFileName() + "-eval-" + stem);
        }
        return Path.of("eval-out");
    }

    private static String percent(double v) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, "%.2f%%", 100 * v) : "n/a";
    }

    private static String number(double v) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, "%.4f", v) : "n/a";
    }
}
