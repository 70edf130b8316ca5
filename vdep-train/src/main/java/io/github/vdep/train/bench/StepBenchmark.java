package io.github.vdep.train.bench;

import io.github.vdep.core.backend.Backend;
import io.github.vdep.core.backend.Backends;
import io.github.vdep.core.backend.MemoryUse;
import io.github.vdep.core.device.Device;
import io.github.vdep.core.device.Precision;
import io.github.vdep.core.llava.Recompute;
import io.github.vdep.core.ops.ChunkedCrossEntropy;
import io.github.vdep.core.autograd.Parameter;
import io.github.vdep.core.autograd.Tape;
import io.github.vdep.core.autograd.Tensor;
import io.github.vdep.core.llava.CausalLanguageModel;
import io.github.vdep.core.llava.DecoderOutput;
import io.github.vdep.core.llava.LlavaModel;
import io.github.vdep.core.llava.LlavaOutput;
import io.github.vdep.core.nn.Init;
import io.github.vdep.core.ops.F;
import io.github.vdep.models.llava.LlavaModels;
import io.github.vdep.train.loss.BatchMode;
import io.github.vdep.train.loss.HybridLoss;
import io.github.vdep.train.loss.ImageLossConfig;
import io.github.vdep.train.loss.LossResult;
import io.github.vdep.train.optim.AdamW;
import io.github.vdep.train.optim.GradientClipping;
import io.github.vdep.train.trainer.MemoryEstimate;
import io.github.vdep.train.trainer.MemoryLimit;
import io.github.vdep.train.trainer.Stage;
import io.github.vdep.train.trainer.TrainConfig;
import io.github.vdep.train.trainer.TrainableSelector;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Times optimizer steps of a randomly initialised LLaVA model on synthetic batches.
 *
 * <p>One step does the work of a {@link io.github.vdep.train.trainer.Trainer} step with
 * gradient accumulation 1: forward under a tape, the {@link HybridLoss} (VDEP: text
 * cross-entropy + MSE next-embedding image loss with a detached target, alpha 1; LLaVA: text
 * only), {@code Tape.backward}, global-norm clipping at 1.0, AdamW (the stage's default
 * learning rate, betas 0.9/0.999, eps 1e-8, no weight decay) and dropping the gradients. The
 * forward is driven piece by piece (the same calls as {@link LlavaModel#forward}) so the vision
 * tower's share can be timed apart. Trainable sets follow {@link Stage}: {@code pretrain}
 * trains the projector, {@code finetune} the projector and the LLM; the vision tower is frozen.
 *
 * <p>The synthetic batches are deterministic in the seed: pixels N(0, 1); each sample is BOS,
 * the image positions, then uniformly random text ids, all text supervised.
 */
public final class StepBenchmark {
    private static final int BOS = 1;
    private static final int SYNTHETIC_BATCHES = 2;

    /**
     * @param preset the model and batch shape
     * @param objective vdep or llava
     * @param stage which parameters train
     * @param warmupSteps untimed steps first
     * @param steps timed steps (at least 1)
     * @param seed for the model and the batches
     * @param matmulSize n of the n x n gemm timed for the machine's matmul rate (0: skip)
     * @param device where the steps run
     * @param precision the compute precision (refused in one line where the device cannot run it)
     * @param recompute activation recomputation, as {@code train --recompute}
     * @param lmHeadChunkRows rows per chunk of the LM head and cross-entropy, as {@code train --lm-head-chunk}
     */
    public record Options(BenchPreset preset, Objective objective, Stage stage, int warmupSteps, int steps, long seed, int matmulSize,
                          Device device, Precision precision, Recompute recompute, int lmHeadChunkRows) {
        public Options {
            if (warmupSteps < 0 || steps < 1) {
                throw new IllegalArgumentException("need warmup >= 0 and steps >= 1");
            }
            java.util.Objects.requireNonNull(device, "device");
            java.util.Objects.requireNonNull(precision, "precision");
            java.util.Objects.requireNonNull(recompute, "recompute");
            if (lmHeadChunkRows < 0) {
                throw new IllegalArgumentException("--lm-head-chunk must be >= 0 (0 = unchunked), got " + lmHeadChunkRows);
            }
        }

        /** In the device's default precision, without recomputation and with the default LM-head chunk. */
        public Options(BenchPreset preset, Objective objective, Stage stage, int warmupSteps, int steps, long seed, int matmulSize, Device device) {
            this(preset, objective, stage, warmupSteps, steps, seed, matmulSize, device, Precision.defaultFor(device), Recompute.NONE,
                    ChunkedCrossEntropy.DEFAULT_CHUNK_ROWS);
        }

        /** On the CPU. */
        public Options(BenchPreset preset, Objective objective, Stage stage, int warmupSteps, int steps, long seed, int matmulSize) {
            this(preset, objective, stage, warmupSteps, steps, seed, matmulSize, Device.CPU);
        }

        public static Options of(BenchPreset preset, Objective objective, Stage stage, int steps) {
            return new Options(preset, objective, stage, 3, steps, 0, 1024);
        }
    }

    /** A synthetic batch in the layout a collated LLaVA batch has. */
    record SyntheticBatch(INDArray inputIds, INDArray attentionMask, INDArray labels, INDArray pixels, int[] imageSample, int[] imageRowsFlat) {
    }

    private final Options options;
    private final BenchPreset preset;
    private final LlavaModel model;
    private final Map<String, Parameter> trainable;
    private final AdamW optimizer;
    private final HybridLoss loss;
    private final double lr;
    private final double gradClip;
    private final List<SyntheticBatch> batches = new ArrayList<>();

    /** Builds the model and the batches (nothing is timed yet). */
    public StepBenchmark(Options options) {
        this.options = options;
        this.preset = options.preset();
        io.github.vdep.core.backend.Backends.require(options.device());
        options.precision().requireSupported(options.device());
        // the model is built on the host: refuse in one line what cannot fit, before allocating anything
        memoryEstimate(options).check(MemoryLimit.host());
        if (!options.device().isCpu()) {
            io.github.vdep.core.backend.DeviceBackend device = io.github.vdep.core.backend.Backends.device(options.device());
            if (device.totalBytes() > 0) {
                MemoryEstimate onDevice = MemoryEstimate.of(preset.llavaConfig(), options.stage().patterns(), "adamw", Float.BYTES);
                onDevice.check(List.of(new MemoryLimit("memory of " + options.device(), device.totalBytes() - device.bytesInUse())));
            }
        }
        this.model = LlavaModels.random(preset.llavaConfig(), DataType.FLOAT, options.seed()).to(options.device());
        model.setRecompute(options.recompute());
        this.loss = new HybridLoss(ImageLossConfig.DEFAULT, options.lmHeadChunkRows());
        TrainConfig defaults = TrainConfig.defaults(options.stage(), 1, java.nio.file.Path.of("."));
        this.trainable = TrainableSelector.apply(model, options.stage().patterns());
        this.optimizer = new AdamW(trainable, defaults.beta1(), defaults.beta2(), defaults.eps(), defaults.weightDecay());
        this.lr = defaults.lr();
        this.gradClip = defaults.gradClip();
        SplittableRandom rng = new SplittableRandom(options.seed() + 100);
        for (int i = 0; i < SYNTHETIC_BATCHES; i++) {
            batches.add(synthetic(preset, rng));
        }
    }

    /**
     * The memory the benchmark's weights, gradients and AdamW state take (float32; activations not
     * counted), from the preset alone. It is checked against the host's memory before the model is
     * built; on a device the weights, gradients and moments live in device memory instead.
     *
     * @param options the benchmark
     * @return the estimate for the preset and stage
     */
    public static MemoryEstimate memoryEstimate(Options options) {
        MemoryEstimate e = MemoryEstimate.of(options.preset().llavaConfig(), options.stage().patterns(), "adamw", Float.BYTES);
        // off the CPU only the weights are on the host, while they are built
        return options.device().equals(Device.CPU) ? e : new MemoryEstimate(e.weightBytes(), 0, 0, "adamw");
    }

    /** Builds, warms up, measures the matmul rate and times the steps. */
    public static BenchResult run(Options options) {
        return new StepBenchmark(options).run();
    }

    public LlavaModel model() {
        return model;
    }

    /** Runs the benchmark on the model built by the constructor. */
    public BenchResult run() {
        for (int i = 0; i < options.warmupSteps(); i++) {
            step(batches.get(i % batches.size()), null);
        }
        int n = options.steps();
        Backend backend = Backends.forDevice(options.device());
        long peakRssBefore = ProcessStats.peakRssBytes(); // the process's peak so far: the reset below clears it on the CPU
        backend.resetPeakMemory(); // the step peak leaves out building the model and the warm-up
        double[] total = new double[n];
        double[] vision = new double[n];
        double[] forward = new double[n];
        double[] backward = new double[n];
        double[] optim = new double[n];
        double[] cpu = new double[n];
        double firstLoss = Double.NaN;
        double lastLoss = Double.NaN;
        for (int i = 0; i < n; i++) {
            double[] phases = new double[4];
            long c0 = ProcessStats.cpuNanos();
            long t0 = System.nanoTime();
            double l = step(batches.get((options.warmupSteps() + i) % batches.size()), phases);
            total[i] = (System.nanoTime() - t0) / 1e9;
            cpu[i] = (ProcessStats.cpuNanos() - c0) / 1e9;
            vision[i] = phases[0];
            forward[i] = phases[1];
            backward[i] = phases[2];
            optim[i] = phases[3];
            if (i == 0) {
                firstLoss = l;
            }
            lastLoss = l;
        }
        MemoryUse stepMemory = backend.memoryUse();
        long peakRss = Math.max(peakRssBefore, ProcessStats.peakRssBytes());
        double matmul = options.matmulSize() > 0 ? MatmulRate.measure(options.matmulSize(), 5) : Double.NaN;
        double median = median(total);
        FlopCount flops = FlopCount.of(preset, options.stage());
        double achieved = flops.total() / median / 1e9;
        long trainableCount = 0;
        for (Parameter p : trainable.values()) {
            trainableCount += p.value().length();
        }
        return new BenchResult(preset.name(), options.objective().label(), options.stage().name().toLowerCase(java.util.Locale.ROOT),
                options.warmupSteps(), total, median, median(cpu), preset.tokensPerStep() / median, flops, achieved, matmul, options.matmulSize(),
                achieved / matmul, new BenchResult.Phases(median(vision), median(forward), median(backward), median(optim)), peakRss,
                model.parameterCount(), trainableCount, firstLoss, lastLoss, environment(), options.precision().label(), stepMemory,
                options.recompute().label(), options.lmHeadChunkRows());
    }

    /**
     * One optimizer step; returns the loss. When {@code phases} is given it receives the seconds
     * of vision forward, the rest of the forward with the loss, backward, and the optimizer.
     */
    double step(SyntheticBatch batch, double[] phases) {
        int b = preset.batch();
        BatchMode mode = options.objective() == Objective.VDEP ? BatchMode.vdep(b) : BatchMode.llava(b);
        double lossValue;
        long t0 = System.nanoTime();
        long t1;
        long t2;
        // as the Trainer does: the step's intermediate values are freed as the backward pass passes them
        try (Tape tape = Tape.record(true)) {
            Tensor features = model.visionTower().encode(batch.pixels());
            t1 = System.nanoTime();
            LlavaOutput out = forwardFromFeatures(batch, features);
            LossResult r = loss.compute(out, model.languageModel(), batch.labels(), batch.imageSample(), mode, 1.0, false);
            lossValue = r.total().item();
            t2 = System.nanoTime();
            tape.backward(r.total());
        }
        long t3 = System.nanoTime();
        GradientClipping.clip(trainable.values(), gradClip);
        optimizer.step(lr);
        model.zeroGrad();
        long t4 = System.nanoTime();
        if (phases != null) {
            phases[0] = (t1 - t0) / 1e9;
            phases[1] = (t2 - t1) / 1e9;
            phases[2] = (t3 - t2) / 1e9;
            phases[3] = (t4 - t3) / 1e9;
        }
        return lossValue;
    }

    /**
     * The rest of {@link LlavaModel#forward} after the vision tower, as the Trainer runs it:
     * projector, splice and decoder, no full logits (the loss applies the LM head at the supervised
     * positions).
     */
    LlavaOutput forwardFromFeatures(SyntheticBatch batch, Tensor features) {
        CausalLanguageModel lm = model.languageModel();
        int b = preset.batch();
        int t = preset.seqLen();
        long h = lm.hiddenSize();
        Tensor embeds = lm.embedTokens(batch.inputIds());
        Tensor imageFeatures = model.projector().project(features);
        int[] flat = batch.imageRowsFlat();
        Tensor rows = F.reshape(imageFeatures, flat.length, h);
        embeds = F.reshape(F.replaceRows(F.reshape(embeds, (long) b * t, h), flat, rows), b, t, h);
        DecoderOutput d = lm.decode(embeds, batch.attentionMask(), loss.decodeOptions());
        int n = preset.numPatches();
        int[][] imageRows = new int[b][n];
        for (int i = 0; i < b; i++) {
            System.arraycopy(flat, i * n, imageRows[i], 0, n);
        }
        return new LlavaOutput(null, d.hidden(), imageFeatures, imageRows, d.layerOutputs());
    }

    /** The batches the steps cycle through. */
    List<SyntheticBatch> batches() {
        return batches;
    }

    static SyntheticBatch synthetic(BenchPreset p, SplittableRandom rng) {
        int b = p.batch();
        int t = p.seqLen();
        int n = p.numPatches();
        long[] ids = new long[b * t];
        long[] labels = new long[b * t];
        int[] rows = new int[b * n];
        for (int i = 0; i < b; i++) {
            int base = i * t;
            ids[base] = BOS;
            labels[base] = F.IGNORE_INDEX;
            for (int j = 0; j < n; j++) {
                ids[base + 1 + j] = p.imageTokenId();
                labels[base + 1 + j] = F.IGNORE_INDEX;
                rows[i * n + j] = base + 1 + j;
            }
            for (int j = 1 + n; j < t; j++) {
                // text ids avoid the specials (0..2) and the image token
                ids[base + j] = 3 + rng.nextInt(p.vocab() - 4);
                labels[base + j] = ids[base + j];
            }
        }
        long[] mask = new long[b * t];
        Arrays.fill(mask, 1);
        int[] imageSample = new int[b];
        for (int i = 0; i < b; i++) {
            imageSample[i] = i;
        }
        INDArray pixels = Init.normal(rng, 1.0, DataType.FLOAT, b, 3, p.imageSize(), p.imageSize());
        return new SyntheticBatch(Nd4j.createFromArray(ids).reshape(b, t), Nd4j.createFromArray(mask).reshape(b, t),
                Nd4j.createFromArray(labels).reshape(b, t), pixels, imageSample, rows);
    }

    static Map<String, String> environment() {
        Map<String, String> env = new LinkedHashMap<>();
        Map<String, Object> info = new LinkedHashMap<>();
        try {
            Nd4j.getExecutioner().getEnvironmentInformation().forEach((k, v) -> info.put(String.valueOf(k), v));
        } catch (RuntimeException e) {
            // informational only
        }
        env.put("backend", String.valueOf(info.getOrDefault("backend", "?")));
        env.put("blas", String.valueOf(info.getOrDefault("blas.vendor", "?")));
        env.put("blas_threads", String.valueOf(info.getOrDefault("blas.threads", "?")));
        env.put("omp_threads", String.valueOf(info.getOrDefault("omp.threads", "?")));
        env.put("nd4j_max_threads", String.valueOf(Nd4j.getEnvironment().maxThreads()));
        env.put("cores", String.valueOf(Runtime.getRuntime().availableProcessors()));
        env.put("openblas_coretype", System.getenv().getOrDefault("OPENBLAS_CORETYPE", "(auto)"));
        env.put("java", System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version"));
        env.put("max_heap_mb", String.valueOf(Runtime.getRuntime().maxMemory() / (1024 * 1024)));
        String nd4j = Nd4j.class.getPackage().getImplementationVersion();
        env.put("nd4j", nd4j == null ? "1.0.0-M2.1" : nd4j);
        env.put("os", System.getProperty("os.name") + " " + System.getProperty("os.arch"));
        env.put("kernels", io.github.vdep.core.ops.F.nativeKernels() ? "native" : "nd4j");
        return env;
    }

    static double median(double[] xs) {
        double[] s = xs.clone();
        Arrays.sort(s);
        int n = s.length;
        return n % 2 == 1 ? s[n / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
    }
}
