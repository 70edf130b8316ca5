package io.github.vdep.examples.cli;

import io.github.vdep.core.llava.LlavaModel;
import io.github.vdep.core.ops.RegressionLoss;
import io.github.vdep.models.hf.LlavaCheckpoint;
import io.github.vdep.models.llava.LlavaConfig;
import io.github.vdep.train.data.ConversationRecord;
import io.github.vdep.train.data.ConversationTemplate;
import io.github.vdep.train.data.DataFiles;
import io.github.vdep.train.data.DataLoaderConfig;
import io.github.vdep.train.data.DataValidator;
import io.github.vdep.train.data.EncodingConfig;
import io.github.vdep.train.data.HfTokenizer;
import io.github.vdep.train.data.LlavaDataLoader;
import io.github.vdep.train.data.OnBadRecord;
import io.github.vdep.train.data.Templates;
import io.github.vdep.train.data.ValidationReport;
import io.github.vdep.train.data.image.ClipImageProcessor;
import io.github.vdep.train.data.image.ImageAspect;
import io.github.vdep.train.data.image.ImageProcessorConfig;
import io.github.vdep.train.trainer.BatchSource;
import io.github.vdep.train.trainer.Trainer;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.StandardCopyOption;
import org.nd4j.linalg.api.buffer.DataType;
import io.github.vdep.train.loss.ImageLossConfig;
import io.github.vdep.train.optim.LrSchedule;
import io.github.vdep.train.schedule.AlphaSchedule;
import io.github.vdep.train.schedule.ModePolicy;
import io.github.vdep.train.schedule.ModeScheduler;
import io.github.vdep.train.trainer.Stage;
import io.github.vdep.train.trainer.TrainConfig;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code vdep train}: VDEP (or plain LLaVA) pretraining / fine-tuning on LLaVA-format data. */
@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Train a LLaVA-style model with the VDEP hybrid objective.")
public final class TrainCommand implements Callable<Integer> {
    @Option(names = "--model", description = "llava-hf checkpoint directory to start from")
    Path model;
    @Option(names = "--vision", description = "CLIP checkpoint directory (with --llm: a new projector)")
    Path vision;
    @Option(names = "--llm", description = "LLaMA checkpoint directory (with --vision)")
    Path llm;
    @Option(names = "--projector", defaultValue = "mlp2x_gelu", description = "projector type for --vision/--llm: linear or mlpNx_gelu (default ${DEFAULT-VALUE})")
    String projector;
    @Option(names = "--image-token-index", defaultValue = "-1", description = "image placeholder id for --vision/--llm; -1 adds one to the vocabulary")
    int imageTokenIndex;
    @Option(names = "--tokenizer", description = "tokenizer.json (default: the model directory's, or the --llm directory's)")
    Path tokenizer;
    @Option(names = "--data", required = true, description = "LLaVA JSON list or JSON Lines file")
    Path data;
    @Option(names = "--images", description = "folder the records' image paths are relative to")
    Path images;
    @Option(names = "--template", defaultValue = "plain", description = "plain or vicuna_v1 (default ${DEFAULT-VALUE})")
    String template;
    @Option(names = "--image-aspect", defaultValue = "pad", description = "pad or crop (default ${DEFAULT-VALUE})")
    String imageAspect;
    @Option(names = "--max-length", defaultValue = "2048", description = "truncate samples to this many tokens (default ${DEFAULT-VALUE})")
    int maxLength;
    @Option(names = "--stage", defaultValue = "pretrain", description = "pretrain, finetune or full (default ${DEFAULT-VALUE})")
    String stage;
    @Option(names = "--trainable", arity = "1..*", description = "parameter-name globs that train (replaces the stage's set)")
    List<String> trainable;
    @Option(names = "--alpha", defaultValue = "1.0", description = "image loss weight: a number, linear:A0:A1, cosine:A0:A1, or adaptive ratio:R[:A0] / gradnorm:R[:K] (default ${DEFAULT-VALUE})")
    String alpha;
    @Option(names = "--mode-ratio", defaultValue = "1:1", description = "VDEP:LLaVA batch ratio (default ${DEFAULT-VALUE})")
    String modeRatio;
    @Option(names = "--mode-policy", defaultValue = "alternating", description = "alternating, random or per-sample (default ${DEFAULT-VALUE})")
    String modePolicy;
    @Option(names = "--image-loss", defaultValue = "mse", description = "mse, l1, smooth_l1, cosine, mse_normalized or mse_relative (default ${DEFAULT-VALUE})")
    String imageLoss;
    @Option(names = "--no-image-loss-shift", description = "compare v_i with the state at its own position instead of the one before")
    boolean noShift;
    @Option(names = "--image-loss-layer", defaultValue = "0", description = "0: final-norm states; K: output of decoder block K (default ${DEFAULT-VALUE})")
    int imageLossLayer;
    @Option(names = "--no-detach-target", description = "ablation: let the image loss flow through its target")
    boolean noDetach;
    @Option(names = "--optimizer", defaultValue = "adamw", description = "adamw or sgd (default ${DEFAULT-VALUE})")
    String optimizer;
    @Option(names = "--lr", description = "peak learning rate (default: 1e-3 for pretrain, 2e-5 otherwise)")
    Double lr;
    @Option(names = "--weight-decay", defaultValue = "0", description = "decoupled weight decay on matrices (default ${DEFAULT-VALUE})")
    double weightDecay;
    @Option(names = "--adam-beta1", defaultValue = "0.9")
    double beta1;
    @Option(names = "--adam-beta2", defaultValue = "0.999")
    double beta2;
    @Option(names = "--adam-eps", defaultValue = "1e-8")
    double adamEps;
    @Option(names = "--warmup-ratio", defaultValue = "0.03", description = "fraction of steps of linear warmup (default ${DEFAULT-VALUE})")
    double warmupRatio;
    @Option(names = "--lr-schedule", defaultValue = "cosine", description = "cosine or constant (default ${DEFAULT-VALUE})")
    String lrSchedule;
    @Option(names = "--grad-clip", defaultValue = "1.0", description = "max global gradient norm, 0 = off (default ${DEFAULT-VALUE})")
    double gradClip;
    @Option(names = "--batch-size", defaultValue = "4", description = "samples per micro-batch (default ${DEFAULT-VALUE})")
    int batchSize;
    @Option(names = "--grad-accum", defaultValue = "1", description = "micro-batches per optimizer step (default ${DEFAULT-VALUE})")
    int gradAccum;
    @Option(names = "--steps", description = "optimizer steps (or --epochs)")
    Long steps;
    @Option(names = "--epochs", description = "passes over the data (default 1 when --steps is not given)")
    Double epochs;
    @Option(names = "--no-shuffle", description = "keep the file order")
    boolean noShuffle;
    @Option(names = "--seed", defaultValue = "42")
    long seed;
    @Option(names = "--out", required = true, description = "output directory")
    Path out;
    @Option(names = "--save-every", defaultValue = "0", description = "checkpoint every N steps; 0 = only at the end (default ${DEFAULT-VALUE})")
    long saveEvery;
    @Option(names = "--resume", description = "continue from the latest checkpoint in --out")
    boolean resume;
    @Option(names = "--on-bad-record", defaultValue = "skip", description = "skip (count and log) or fail (default ${DEFAULT-VALUE})")
    String onBadRecord;
    @Option(names = "--max-bad-steps", defaultValue = "10", description = "stop after more steps with a non-finite loss (default ${DEFAULT-VALUE})")
    int maxBadSteps;
    @Option(names = "--monitor-image-loss", description = "report the image loss in LLaVA-mode steps too (not trained on)")
    boolean monitorImageLoss;
    @Option(names = "--prefetch", defaultValue = "4", description = "batches decoded ahead in the background (default ${DEFAULT-VALUE})")
    int prefetch;

    @Override
    public Integer call() throws Exception {
        long started = System.nanoTime();
        LlavaCheckpoint.Loaded loaded = loadModel();
        LlavaModel llava = loaded.model();
        LlavaConfig config = loaded.config();
        Path tokenizerFile = tokenizer != null ? tokenizer : (model != null ? model : llm).resolve("tokenizer.json");
        ConversationTemplate tpl = Templates.byName(template);
        OnBadRecord policy = OnBadRecord.valueOf(onBadRecord.toUpperCase(java.util.Locale.ROOT));
        List<ConversationRecord> records = DataFiles.read(data);
        ValidationReport report = DataValidator.validate(records, tpl, policy, images);
        if (report.usable() == 0) {
            throw new IllegalArgumentException(data + ": no usable record (" + report.summary() + ")");
        }
        ClipImageProcessor processor = report.withImage() == 0 ? null : imageProcessor(config);
        EncodingConfig encoding = new EncodingConfig(config.imageTokenIndex(), config.imageSeqLength(), maxLength);
        DataLoaderConfig loaderConfig = new DataLoaderConfig(batchSize, encoding, !noShuffle, seed, policy, prefetch, 1);
        long batchesPerEpoch = (report.usable() + batchSize - 1) / batchSize;
        long totalSteps = steps != null ? steps : Math.max(1, (long) Math.ceil((epochs != null ? epochs : 1.0) * batchesPerEpoch / gradAccum));
        TrainConfig trainConfig = trainConfig(totalSteps);

        PrintStream console = System.out;
        console.printf("vdep train: %d records (%d usable, %d with images), %d steps of %d x %d samples, stage %s, alpha %s, ratio %s (%s)%n",
                report.records(), report.usable(), report.withImage(), totalSteps, batchSize, gradAccum, stage, alpha, modeRatio, modePolicy);
        LlavaDataLoader[] last = new LlavaDataLoader[1];
        try (HfTokenizer tok = HfTokenizer.load(tokenizerFile)) {
            BatchSource source = from -> last[0] = new LlavaDataLoader(records, tok, tpl, processor, images, loaderConfig, from);
            ProgressListener progress = new ProgressListener(console, "train");
            Trainer trainer = new Trainer(llava, trainConfig, source, progress);
            trainer.run();
            Path finalDir = out.resolve("final");
            LlavaCheckpoint.save(llava, config, finalDir);
            Files.copy(tokenizerFile, finalDir.resolve("tokenizer.json"), StandardCopyOption.REPLACE_EXISTING);
            Path pre = (model != null ? model : vision).resolve("preprocessor_config.json");
            if (Files.isRegularFile(pre)) {
                Files.copy(pre, finalDir.resolve("preprocessor_config.json"), StandardCopyOption.REPLACE_EXISTING);
            }
            String bad = last[0] == null ? "none" : last[0].badRecords().summary();
            Table.of("metric", "value")
                    .row("steps", Long.toString(totalSteps))
                    .row("final loss", progress.lastLoss())
                    .row("trainable parameters", Long.toString(llava.trainableParameterCount()))
                    .row("bad records (pre-pass)", Long.toString(report.bad().total()))
                    .row("bad records (training)", bad)
                    .row("wall time", ProgressBar.time((System.nanoTime() - started) / 1e9))
                    .row("metrics", out.resolve("metrics.jsonl").toString())
                    .row("final model", finalDir.toString())
                    .print(console);
        }
        return 0;
    }

    private LlavaCheckpoint.Loaded loadModel() {
        if (model != null) {
            if (vision != null || llm != null) {
                throw new IllegalArgumentException("give either --model or --vision with --llm, not both");
            }
            return LlavaCheckpoint.load(model);
        }
        if (vision == null || llm == null) {
            throw new IllegalArgumentException("give --model DIR, or --vision DIR with --llm DIR");
        }
        return LlavaCheckpoint.fromVisionAndLanguage(vision, llm, projector, -2, "default", imageTokenIndex, seed, DataType.FLOAT);
    }

    private ClipImageProcessor imageProcessor(LlavaConfig config) {
        Path dir = model != null ? model : vision;
        Path pre = dir.resolve("preprocessor_config.json");
        ImageProcessorConfig ipc = Files.isRegularFile(pre) ? ImageProcessorConfig.fromFile(pre) : ImageProcessorConfig.clip(config.visionConfig().imageSize());
        return new ClipImageProcessor(ipc, ImageAspect.fromLlava(imageAspect));
    }

    /** The training configuration these options describe ({@code steps} resolved by the caller). */
    TrainConfig trainConfig(long totalSteps) {
        Stage st = Stage.parse(stage);
        int[] ratio = ModeScheduler.parseRatio(modeRatio);
        ImageLossConfig il = new ImageLossConfig(RegressionLoss.parse(imageLoss), !noShift, imageLossLayer, !noDetach);
        return new TrainConfig(trainable != null ? trainable : st.patterns(), AlphaSchedule.parse(alpha), ratio[0], ratio[1],
                ModePolicy.parse(modePolicy), il, optimizer, lr != null ? lr : (st == Stage.PRETRAIN ? 1e-3 : 2e-5), weightDecay, beta1, beta2,
                adamEps, warmupRatio, LrSchedule.Kind.parse(lrSchedule), gradClip, batchSize, gradAccum, totalSteps, seed, out, saveEvery,
                resume, maxBadSteps, monitorImageLoss);
    }
}
