package io.github.vdep.train.trainer;

import io.github.vdep.core.device.Device;
import io.github.vdep.core.device.Precision;
import io.github.vdep.core.llava.Recompute;
import io.github.vdep.core.ops.ChunkedCrossEntropy;
import io.github.vdep.train.loss.ImageLossConfig;
import io.github.vdep.train.optim.LrSchedule;
import io.github.vdep.train.schedule.AlphaSchedule;
import io.github.vdep.train.schedule.ModePolicy;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * Everything a training run needs besides the model and the data. Defaults follow Hugging Face's
 * Trainer and PyTorch (AdamW betas 0.9/0.999, eps 1e-8, no weight decay) and VDEP's method
 * (alpha 1, ratio 1:1, alternating, MSE image loss).
 *
 * @param trainable parameter-name patterns that train (see {@link TrainableSelector}); from the stage by default
 * @param steps total optimizer steps
 * @param batchSize samples per micro-batch
 * @param gradAccum micro-batches per optimizer step
 * @param gradClip max global gradient norm, 0 = off
 * @param saveEvery checkpoint every N steps (0 = only at the end)
 * @param maxBadSteps the run stops after more than this many steps with a non-finite loss or gradient
 * @param monitorImageLoss also compute (and report, without training on it) the image loss in LLaVA-mode steps
 * @param saveTotalLimit keep only the newest N checkpoints (0 = keep all); older ones are removed after a new one is complete
 * @param device where the model trains: the {@link Trainer} moves it there ({@code --device}; default cpu)
 * @param precision the compute precision ({@code --precision}); the {@link Trainer} refuses one the device cannot run
 * @param recompute activation recomputation in the backward pass ({@code --recompute}; default none)
 * @param lmHeadChunkRows rows per chunk of the LM head and text cross-entropy ({@code --lm-head-chunk}; 0 = unchunked)
 */
public record TrainConfig(
        List<String> trainable,
        AlphaSchedule alpha,
        int modeVdep,
        int modeLlava,
        ModePolicy modePolicy,
        ImageLossConfig imageLoss,
        String optimizer,
        double lr,
        double weightDecay,
        double beta1,
        double beta2,
        double eps,
        double warmupRatio,
        LrSchedule.Kind lrSchedule,
        double gradClip,
        int batchSize,
        int gradAccum,
        long steps,
        long seed,
        Path outDir,
        long saveEvery,
        boolean resume,
        int maxBadSteps,
        boolean monitorImageLoss,
        int saveTotalLimit,
        Device device,
        Precision precision,
        Recompute recompute,
        int lmHeadChunkRows) {

    public TrainConfig {
        trainable = List.copyOf(trainable);
        Objects.requireNonNull(device, "device");
        Objects.requireNonNull(precision, "precision");
        Objects.requireNonNull(recompute, "recompute");
        if (lmHeadChunkRows < 0) {
            throw new IllegalArgumentException("--lm-head-chunk must be >= 0 (0 = unchunked), got " + lmHeadChunkRows);
        }
        if (batchSize < 1 || gradAccum < 1 || steps < 1) {
            throw new IllegalArgumentException("batch size, gradient accumulation and steps must be >= 1");
        }
        if (!optimizer.equals("adamw") && !optimizer.equals("sgd")) {
            throw new IllegalArgumentException("unknown optimizer '" + optimizer + "' (adamw or sgd)");
        }
        if (lr < 0 || gradClip < 0 || weightDecay < 0 || saveEvery < 0 || maxBadSteps < 0 || saveTotalLimit < 0) {
            throw new IllegalArgumentException("lr, grad clip, weight decay, save-every, max bad steps and save-total-limit must be non-negative");
        }
    }

    /** A config in the device's default precision, without recomputation and with the default LM-head chunk. */
    public TrainConfig(List<String> trainable, AlphaSchedule alpha, int modeVdep, int modeLlava, ModePolicy modePolicy, ImageLossConfig imageLoss,
            String optimizer, double lr, double weightDecay, double beta1, double beta2, double eps, double warmupRatio, LrSchedule.Kind lrSchedule,
            double gradClip, int batchSize, int gradAccum, long steps, long seed, Path outDir, long saveEvery, boolean resume, int maxBadSteps,
            boolean monitorImageLoss, int saveTotalLimit, Device device) {
        this(trainable, alpha, modeVdep, modeLlava, modePolicy, imageLoss, optimizer, lr, weightDecay, beta1, beta2, eps, warmupRatio, lrSchedule,
                gradClip, batchSize, gradAccum, steps, seed, outDir, saveEvery, resume, maxBadSteps, monitorImageLoss, saveTotalLimit, device,
                Precision.defaultFor(device), Recompute.NONE, ChunkedCrossEntropy.DEFAULT_CHUNK_ROWS);
    }

    /** A config keeping every checkpoint ({@code saveTotalLimit} 0), on {@code device}. */
    public TrainConfig(List<String> trainable, AlphaSchedule alpha, int modeVdep, int modeLlava, ModePolicy modePolicy, ImageLossConfig imageLoss,
            String optimizer, double lr, double weightDecay, double beta1, double beta2, double eps, double warmupRatio, LrSchedule.Kind lrSchedule,
            double gradClip, int batchSize, int gradAccum, long steps, long seed, Path outDir, long saveEvery, boolean resume, int maxBadSteps,
            boolean monitorImageLoss, Device device) {
        this(trainable, alpha, modeVdep, modeLlava, modePolicy, imageLoss, optimizer, lr, weightDecay, beta1, beta2, eps, warmupRatio, lrSchedule,
                gradClip, batchSize, gradAccum, steps, seed, outDir, saveEvery, resume, maxBadSteps, monitorImageLoss, 0, device);
    }

    /** A config keeping every checkpoint ({@code saveTotalLimit} 0), on the CPU. */
    public TrainConfig(List<String> trainable, AlphaSchedule alpha, int modeVdep, int modeLlava, ModePolicy modePolicy, ImageLossConfig imageLoss,
            String optimizer, double lr, double weightDecay, double beta1, double beta2, double eps, double warmupRatio, LrSchedule.Kind lrSchedule,
            double gradClip, int batchSize, int gradAccum, long steps, long seed, Path outDir, long saveEvery, boolean resume, int maxBadSteps,
            boolean monitorImageLoss) {
        this(trainable, alpha, modeVdep, modeLlava, modePolicy, imageLoss, optimizer, lr, weightDecay, beta1, beta2, eps, warmupRatio, lrSchedule,
                gradClip, batchSize, gradAccum, steps, seed, outDir, saveEvery, resume, maxBadSteps, monitorImageLoss, 0, Device.CPU);
    }

    /** Defaults for a stage, writing to {@code outDir}. */
    public static TrainConfig defaults(Stage stage, long steps, Path outDir) {
        return new TrainConfig(stage.patterns(), AlphaSchedule.constant(1.0), 1, 1, ModePolicy.ALTERNATING, ImageLossConfig.DEFAULT,
                "adamw", stage == Stage.PRETRAIN ? 1e-3 : 2e-5, 0.0, 0.9, 0.999, 1e-8, 0.03, LrSchedule.Kind.COSINE, 1.0,
                4, 1, steps, 42, outDir, 0, false, 10, false, Device.CPU);
    }

    /** A copy with another builder-style change applied (records have no withers). */
    public Builder toBuilder() {
        return new Builder(this);
    }

    /** Mutable builder over the record's fields. */
    public static final class Builder {
        public List<String> trainable;
        public AlphaSchedule alpha;
        public int modeVdep;
        public int modeLlava;
        public ModePolicy modePolicy;
        public ImageLossConfig imageLoss;
        public String optimizer;
        public double lr;
        public double weightDecay;
        public double beta1;
        public double beta2;
        public double eps;
        public double warmupRatio;
        public LrSchedule.Kind lrSchedule;
        public double gradClip;
        public int batchSize;
        public int gradAccum;
        public long steps;
        public long seed;
        public Path outDir;
        public long saveEvery;
        public boolean resume;
        public int maxBadSteps;
        public boolean monitorImageLoss;
        public int saveTotalLimit;
        public Device device;
        public Precision precision;
        public Recompute recompute;
        public int lmHeadChunkRows;

        Builder(TrainConfig c) {
            trainable = c.trainable;
            alpha = c.alpha;
            modeVdep = c.modeVdep;
            modeLlava = c.modeLlava;
            modePolicy = c.modePolicy;
            imageLoss = c.imageLoss;
            optimizer = c.optimizer;
            lr = c.lr;
            weightDecay = c.weightDecay;
            beta1 = c.beta1;
            beta2 = c.beta2;
            eps = c.eps;
            warmupRatio = c.warmupRatio;
            lrSchedule = c.lrSchedule;
            gradClip = c.gradClip;
            batchSize = c.batchSize;
            gradAccum = c.gradAccum;
            steps = c.steps;
            seed = c.seed;
            outDir = c.outDir;
            saveEvery = c.saveEvery;
            resume = c.resume;
            maxBadSteps = c.maxBadSteps;
            monitorImageLoss = c.monitorImageLoss;
            saveTotalLimit = c.saveTotalLimit;
            device = c.device;
            precision = c.precision;
            recompute = c.recompute;
            lmHeadChunkRows = c.lmHeadChunkRows;
        }

        public TrainConfig build() {
            return new TrainConfig(trainable, alpha, modeVdep, modeLlava, modePolicy, imageLoss, optimizer, lr, weightDecay, beta1, beta2,
                    eps, warmupRatio, lrSchedule, gradClip, batchSize, gradAccum, steps, seed, outDir, saveEvery, resume, maxBadSteps, monitorImageLoss,
                    saveTotalLimit, device, precision, recompute, lmHeadChunkRows);
        }
    }
}
