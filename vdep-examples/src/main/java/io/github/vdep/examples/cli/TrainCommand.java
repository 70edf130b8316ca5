package io.github.vdep.examples.cli;

import io.github.vdep.core.llava.LlavaModel;
import io.github.vdep.core.llava.Recompute;
import io.github.vdep.core.ops.RegressionLoss;
import io.github.vdep.models.hf.LlavaCheckpoint;
import io.github.vdep.models.hf.LlavaOriginalCheckpoint;
import io.github.vdep.models.hf.ProjectorWeights;
import io.github.vdep.models.hf.SafeTensorDtype;
import io.github.vdep.models.hf.SaveOptions;
import io.github.vdep.models.projector.MlpProjector;
import io.github.vdep.models.llava.LlavaConfig;
import io.github.vdep.train.data.ConversationRecord;
import io.github.vdep.train.data.ConversationTemplate;
import io.github.vdep.train.data.DataFiles;
import io.github.vdep.train.data.DataLoaderConfig;
import io.github.vdep.train.data.DataValidator;
import io.github.vdep.train.data.EncodingConfig;
import io.github.vdep.train.data.TextTokenizer;
import io.github.vdep.train.data.Tokenizers;
import io.github.vdep.train.data.LlavaDataLoader;
import io.github.vdep.train.data.OnBadRecord;
import io.github.vdep.train.data.Templates;
import io.github.vdep.train.data.ValidationReport;
import io.github.vdep.train.data.image.ClipImageProcessor;
import io.github.vdep.train.data.image.ImageAspect;
import io.github.vdep.train.data.image.ImageProcessorConfig;
import io.github.vdep.train.distributed.Collectives;
import io.github.vdep.train.distributed.DataParallel;
import io.github.vdep.train.distributed.DdpBackend;
import io.github.vdep.train.distributed.Launch;
import io.github.vdep.train.distributed.SingleProcess;
import io.github.vdep.train.trainer.BatchSource;
import io.github.vdep.train.trainer.MemoryEstimate;
import io.github.vdep.train.trainer.MemoryLimit;
import io.github.vdep.train.trainer.OutputLock;
import io.github.vdep.train.trainer.Trainer;
import io.github.vdep.train.trainer.TrainerState;
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
import io.github.vdep.train.trainer.TrainingListener;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code vdep train}: VDEP (or plain LLaVA) pretraining / fine-tuning on LLaVA-format data. Started
 * by {@code mpirun -n N} or {@code srun}, each process is one rank of a data-parallel job
 * (docs/distributed.md); {@code --batch-size} is then per rank.
 */
@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Train a LLaVA-style model with the VDEP hybrid objective.")
public final class TrainCommand implements Callable<Integer> {
    /**
     * Exit status after a stop on SIGTERM/SIGINT: the current step finished and a checkpoint was
     * written; rerun with {@code --resume} (75 is sysexits' EX_TEMPFAIL, "try again later").
     */
    public static final int EXIT_STOPPED = 75;

    @Option(names = "--model", description = "llava-hf or original LLaVA (LlavaLlamaForCausalLM) checkpoint directory to start from")
    Path model;
    @Option(names = "--vision", description = "CLIP checkpoint directory (with --llm: a new projector; with an original LLaVA --model: its tower)")
    Path vision;
    @Option(names = "--llm", description = "LLaMA checkpoint directory (with --vision)")
    Path llm;
    @Option(names = "--projector", description = "projector type for --vision/--llm: linear or mlpNx_gelu (default mlp2x_gelu)")
    String projector;
    @Option(names = "--pretrain-mm-mlp-adapter", description = "projector weights to start from: LLaVA's stage-1 mm_projector.bin (or .safetensors)")
    Path pretrainAdapter;
    @Option(names = "--save-layout", defaultValue = "llava-hf", description = "layout of final/: llava-hf or llava (LLaVA's own, with mm_projector.bin) (default ${DEFAULT-VALUE})")
    String saveLayout;
    @Option(names = "--save-dtype", description = "type of final/'s weights: fp32 or bf16 (default fp32: the type vdep holds its"
            + " master weights in, which is what save_pretrained keeps)")
    String saveDtype;
    @Option(names = "--max-shard-size", defaultValue = "5GB",
            description = "most weight bytes per final/ safetensors shard, in Hugging Face's syntax: 5GB, 500MB, 2GiB (default ${DEFAULT-VALUE})")
    String maxShardSize;
    @Option(names = "--image-token-index", defaultValue = "-1", description = "image placeholder id for --vision/--llm; -1 adds one to the vocabulary")
    int imageTokenIndex;
    @Option(names = "--tokenizer", description = "tokenizer.json, tokenizer.model or their directory (default: the model directory's, or the --llm directory's)")
    Path tokenizer;
    @Option(names = "--data", required = true, description = "LLaVA JSON list or JSON Lines file")
    Path data;
    @Option(names = "--images", description = "folder the records' image paths are relative to")
    Path images;
    @Option(names = "--template", defaultValue = "plain", description = "plain or vicuna_v1 (default ${DEFAULT-VALUE})")
    String template;
    @Option(names = "--image-aspect", description = "pad or crop (default: an original LLaVA --model's image_aspect_ratio, else pad)")
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
    @Option(names = "--batch-size", defaultValue = "4", description = "samples per micro-batch, per rank (default ${DEFAULT-VALUE})")
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
    @Option(names = "--dist-timeout", defaultValue = "1800", description = "data parallel: seconds a rank waits for the others before it stops (default ${DEFAULT-VALUE})")
    double distTimeout;

    @Option(names = "--max-image-pixels", defaultValue = "89478485", description = "images whose header declares more pixels are bad records, never decoded (default ${DEFAULT-VALUE}, Pillow's)")
    long maxImagePixels;
    @Option(names = "--save-total-limit", defaultValue = "0", description = "keep only the newest N checkpoints; 0 keeps all (default ${DEFAULT-VALUE})")
    int saveTotalLimit;
    @Option(names = "--recompute", defaultValue = "none",
            description = "none, or layers: recompute each decoder (and trained vision) layer in the backward pass, keeping only its input (default ${DEFAULT-VALUE})")
    String recompute;
    @Option(names = "--lm-head-chunk", defaultValue = "1024",
            description = "rows per chunk of the LM head and text cross-entropy in training, so all logits never exist at once; 0 = unchunked (default ${DEFAULT-VALUE})")
    int lmHeadChunk;

    @Option(names = "--ddp-backend", defaultValue = "auto", paramLabel = "auto|mpi|nccl",
            description = "data parallel: the collectives; auto is MPI on the CPU and NCCL on GPUs when there are several ranks, "
                    + "mpi or nccl also for one rank, to check that path (default ${DEFAULT-VALUE})")
    String ddpBackend;

    @Mixin
    DeviceOption device;

    @Mixin
    PrecisionOption precision;

    /** This rank's device: --device, with each rank of a GPU job on its local rank's GPU. */
    private io.github.vdep.core.device.Device rankDevice;

    @Override
    public Integer call() throws Exception {
        DdpBackend backend = DdpBackend.parse(ddpBackend);
        Launch launch = Launch.detect();
        rankDevice = launch.deviceFor(device.device);
        // before anything is created or loaded (the --out lock too); on a GPU this also makes it the thread's current device
        io.github.vdep.core.backend.Backends.require(rankDevice);
        precision.precision(rankDevice);
        saveOptions();
        Collectives comm = launch.connect(distTimeout, rankDevice, backend);
        if (comm instanceof SingleProcess) {
            return trainLocked(new DataParallel(comm));
        }
        try {
            int code = trainLocked(new DataParallel(comm));
            comm.close();
            return code;
        } catch (Exception | Error e) {
            // the other ranks would wait for this one forever: say why here, then end the job
            System.err.println("vdep train: error: rank " + comm.rank() + " of " + comm.size() + ": "
                    + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage()));
            System.err.flush();
            comm.abort(1);
            throw e;
        }
    }

    /**
     * One run per --out (rank 0, the writer, holds the lock); SIGTERM/SIGINT become a stop after
     * the current step, agreed by all ranks (exit status EXIT_STOPPED).
     */
    private int trainLocked(DataParallel dp) throws Exception {
        try (OutputLock lock = dp.rank() == 0 ? OutputLock.acquire(out, "vdep train") : null;
                StopSignals stop = StopSignals.install(System.out)) {
            return train(dp, stop);
        }
    }

    private int train(DataParallel dp, StopSignals stop) throws Exception {
        long started = System.nanoTime();
        checkModelOptions();
        MemoryEstimate.of(plannedConfig(), trainConfig(1).trainable(), optimizer, 4).check(MemoryLimit.host());
        boolean main = dp.rank() == 0;
        LlavaCheckpoint.Loaded loaded = loadModel();
        if (pretrainAdapter != null) {
            ProjectorWeights.load(loaded.model(), pretrainAdapter);
        }
        LlavaModel llava = loaded.model();
        LlavaConfig config = loaded.config();
        Path tokenizerFile = tokenizer != null ? tokenizer : (model != null ? model : llm);
        ConversationTemplate tpl = Templates.byName(template);
        OnBadRecord policy = OnBadRecord.valueOf(onBadRecord.toUpperCase(java.util.Locale.ROOT));
        List<ConversationRecord> records = DataFiles.read(data);
        ValidationReport report = DataValidator.validate(records, tpl, policy, images);
        if (report.usable() == 0) {
            throw new IllegalArgumentException(data + ": no usable record (" + report.summary() + ")");
        }
        // every rank must read the same records in the same order, or the global batches differ
        dp.checkSame("the training data (records, usable records, a hash of the record ids)", report.records(), report.usable(),
                records.stream().map(ConversationRecord::id).toList().hashCode());
        ClipImageProcessor processor = report.withImage() == 0 ? null : imageProcessor(config);
        EncodingConfig encoding = new EncodingConfig(config.imageTokenIndex(), config.imageSeqLength(), maxLength);
        // every rank reads the global batch and trains on its shard of it (DataParallel)
        int globalBatch = batchSize * dp.size();
        DataLoaderConfig loaderConfig = new DataLoaderConfig(globalBatch, encoding, !noShuffle, seed, policy, prefetch, 1)
                .withMaxImagePixels(maxImagePixels);
        long batchesPerEpoch = (report.usable() + globalBatch - 1) / globalBatch;
        long totalSteps = steps != null ? steps : Math.max(1, (long) Math.ceil((epochs != null ? epochs : 1.0) * batchesPerEpoch / gradAccum));
        TrainConfig trainConfig = trainConfig(totalSteps);

        PrintStream console = main ? System.out : new PrintStream(java.io.OutputStream.nullOutputStream());
        console.printf("vdep train: %d records (%d usable, %d with images), %d steps of %d x %d samples, stage %s, alpha %s, ratio %s (%s)%n",
                report.records(), report.usable(), report.withImage(), totalSteps, batchSize, gradAccum, stage, alpha, modeRatio, modePolicy);
        if (dp.distributed()) {
            console.printf("data parallel: %d ranks (%s), global batch %d x %d samples%n", dp.size(), dp.collectives().description(),
                    globalBatch, gradAccum);
        }
        LlavaDataLoader[] last = new LlavaDataLoader[1];
        TextTokenizer tok = Tokenizers.open(tokenizerFile);
        try (AutoCloseable closeTokenizer = tok instanceof AutoCloseable c ? c : () -> { }) {
            BatchSource source = from -> last[0] = new LlavaDataLoader(records, tok, tpl, processor, images, loaderConfig, from);
            ProgressListener progress = new ProgressListener(console, "train");
            Trainer trainer = new Trainer(llava, trainConfig, source, main ? progress : TrainingListener.NONE, dp).stopWhen(stop::requested);
            TrainerState state = trainer.run();
            if (state.step() < totalSteps) {
                // every rank stopped after this step (they agree on it), so every rank is here
                console.printf("vdep train: stopped on %s after step %d of %d; checkpoint in %s; continue with --resume (exit status %d)%n",
                        stopCause(dp, stop.received()), state.step(), totalSteps, out.resolve("checkpoints"), EXIT_STOPPED);
                return EXIT_STOPPED;
            }
            if (!main) {
                return 0;
            }
            Path finalDir = out.resolve("final");
            if (saveLayout.equals("llava")) {
                LlavaOriginalCheckpoint.save(llava, config, finalDir, towerName(), aspect(), saveOptions());
            } else {
                LlavaCheckpoint.save(llava, config, finalDir, saveOptions());
            }
            Tokenizers.copyFiles(tokenizerFile, finalDir);
            Path pre = (vision != null ? vision : model).resolve("preprocessor_config.json");
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

    /** --save-dtype and --max-shard-size, parsed (bad values fail before anything loads: call() parses them first). */
    private SaveOptions saveOptions() {
        SafeTensorDtype dtype = switch (saveDtype == null ? "fp32" : saveDtype.toLowerCase(java.util.Locale.ROOT)) {
            case "fp32", "float32" -> SafeTensorDtype.F32;
            case "bf16", "bfloat16" -> SafeTensorDtype.BF16;
            default -> throw new IllegalArgumentException("--save-dtype '" + saveDtype + "' is not fp32 or bf16");
        };
        long shardBytes;
        try {
            shardBytes = SaveOptions.parseShardSize(maxShardSize);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--max-shard-size: " + e.getMessage(), e);
        }
        return new SaveOptions(dtype, shardBytes);
    }

    /** Options that do not fit together, or values that are no option's, fail before anything loads. */
    private void checkModelOptions() {
        if (!saveLayout.equals("llava-hf") && !saveLayout.equals("llava")) {
            throw new IllegalArgumentException("--save-layout '" + saveLayout + "' is not one of llava-hf, llava");
        }
        if (projector != null) {
            if (model != null) {
                throw new IllegalArgumentException("--projector sets the type of a new projector for --vision/--llm; with --model the"
                        + " checkpoint's config gives the type (to load projector weights use --pretrain-mm-mlp-adapter FILE)");
            }
            boolean looksLikePath = projector.contains("/") || projector.contains("\\") || projector.endsWith(".bin")
                    || projector.endsWith(".safetensors") || Files.exists(Path.of(projector));
            if (looksLikePath) {
                throw new IllegalArgumentException("--projector takes a projector type (linear or mlpNx_gelu), not a file: '" + projector
                        + "'; to start from a projector's weights use --pretrain-mm-mlp-adapter " + projector);
            }
            try {
                MlpProjector.depthOf(projector);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("--projector: " + e.getMessage(), e);
            }
        }
        if (pretrainAdapter != null && !Files.exists(pretrainAdapter)) {
            throw new IllegalArgumentException("--pretrain-mm-mlp-adapter " + pretrainAdapter + ": file not found");
        }
    }

    private boolean originalModel() {
        return model != null && LlavaOriginalCheckpoint.isOriginal(model);
    }

    /** The model config, read and checked without loading any weights. */
    private LlavaConfig plannedConfig() {
        if (originalModel()) {
            return LlavaOriginalCheckpoint.readConfig(model, vision);
        }
        if (model != null) {
            return LlavaConfig.read(model.resolve("config.json"));
        }
        if (vision == null || llm == null) {
            throw new IllegalArgumentException("give --model DIR, or --vision DIR with --llm DIR");
        }
        return LlavaCheckpoint.combinedConfig(vision, llm, projector, -2, "default", imageTokenIndex);
    }

    private LlavaCheckpoint.Loaded loadModel() {
        if (model != null) {
            if (originalModel()) {
                if (llm != null) {
                    throw new IllegalArgumentException("give --llm only with --vision, not with --model");
                }
                return LlavaOriginalCheckpoint.load(model, vision, DataType.FLOAT);
            }
            if (vision != null || llm != null) {
                throw new IllegalArgumentException("give either --model or --vision with --llm, not both"
                        + " (--vision goes with --model only for an original LLaVA checkpoint, as its tower)");
            }
            return LlavaCheckpoint.load(model);
        }
        if (vision == null || llm == null) {
            throw new IllegalArgumentException("give --model DIR, or --vision DIR with --llm DIR");
        }
        return LlavaCheckpoint.fromVisionAndLanguage(vision, llm, projector != null ? projector : "mlp2x_gelu", -2, "default",
                imageTokenIndex, seed, DataType.FLOAT);
    }

    /** pad or crop: the option, else an original LLaVA model's image_aspect_ratio, else pad. */
    private String aspect() {
        if (imageAspect != null) {
            return imageAspect;
        }
        String fromConfig = originalModel() ? LlavaOriginalCheckpoint.imageAspectRatio(model) : null;
        return fromConfig != null ? fromConfig : "pad";
    }

    /** mm_vision_tower for --save-layout llava: the CLIP directory, else the original model's, else LLaVA-1.5's. */
    private String towerName() {
        if (vision != null) {
            return vision.toAbsolutePath().toString();
        }
        String fromConfig = originalModel() ? LlavaOriginalCheckpoint.visionTower(model) : null;
        return fromConfig != null ? fromConfig : LlavaOriginalCheckpoint.DEFAULT_TOWER;
    }

    private ClipImageProcessor imageProcessor(LlavaConfig config) {
        Path dir = vision != null ? vision : model;
        Path pre = dir.resolve("preprocessor_config.json");
        ImageProcessorConfig ipc = Files.isRegularFile(pre) ? ImageProcessorConfig.fromFile(pre) : ImageProcessorConfig.clip(config.visionConfig().imageSize());
        return new ClipImageProcessor(ipc, ImageAspect.fromLlava(aspect()));
    }

    /**
     * The signal that stopped the run and, with several ranks, the first rank it reached (a
     * collective call: every rank makes it), for example {@code SIGTERM (rank 1)}.
     */
    private static String stopCause(DataParallel dp, String received) {
        if (!dp.distributed()) {
            return received != null ? received : "a stop request";
        }
        List<String> names = List.of("SIGTERM", "SIGINT");
        // the lowest rank that received a signal, and which: rank * 4 + the signal's index (2: another)
        long[] first = {received == null ? Long.MAX_VALUE : (long) dp.rank() * 4 + (names.contains(received) ? names.indexOf(received) : 2)};
        dp.collectives().min(first);
        if (first[0] == Long.MAX_VALUE) {
            return "a stop request";
        }
        int signal = (int) (first[0] % 4);
        return (signal == 2 ? "a signal" : names.get(signal)) + " (rank " + first[0] / 4 + ")";
    }

    /** The training configuration these options describe ({@code steps} resolved by the caller). */
    TrainConfig trainConfig(long totalSteps) {
        Stage st = Stage.parse(stage);
        int[] ratio = ModeScheduler.parseRatio(modeRatio);
        ImageLossConfig il = new ImageLossConfig(RegressionLoss.parse(imageLoss), !noShift, imageLossLayer, !noDetach);
        TrainConfig.Builder b = new TrainConfig(trainable != null ? trainable : st.patterns(), AlphaSchedule.parse(alpha), ratio[0], ratio[1],
                ModePolicy.parse(modePolicy), il, optimizer, lr != null ? lr : (st == Stage.PRETRAIN ? 1e-3 : 2e-5), weightDecay, beta1, beta2,
                adamEps, warmupRatio, LrSchedule.Kind.parse(lrSchedule), gradClip, batchSize, gradAccum, totalSteps, seed, out, saveEvery,
                resume, maxBadSteps, monitorImageLoss, rankDevice != null ? rankDevice : device.device).toBuilder();
        b.saveTotalLimit = saveTotalLimit;
        b.precision = precision.precision(rankDevice != null ? rankDevice : device.device);
        b.recompute = Recompute.parse(recompute);
        b.lmHeadChunkRows = lmHeadChunk;
        return b.build();
    }
}
