package io.github.vdep.train.trainer;

import io.github.vdep.core.autograd.Parameter;
import io.github.vdep.core.autograd.Tape;
import io.github.vdep.core.autograd.Tensor;
import io.github.vdep.core.backend.Backend;
import io.github.vdep.core.backend.Backends;
import io.github.vdep.core.llava.LlavaModel;
import io.github.vdep.core.llava.LlavaOutput;
import io.github.vdep.core.ops.F;
import io.github.vdep.train.data.Batch;
import io.github.vdep.train.data.DataPosition;
import io.github.vdep.train.distributed.DataParallel;
import io.github.vdep.train.loss.BatchMode;
import io.github.vdep.train.loss.HybridLoss;
import io.github.vdep.train.loss.LossResult;
import io.github.vdep.train.optim.AdamW;
import io.github.vdep.train.optim.GradientClipping;
import io.github.vdep.train.optim.LrSchedule;
import io.github.vdep.train.optim.Optimizer;
import io.github.vdep.train.optim.Sgd;
import io.github.vdep.train.schedule.AlphaPolicy;
import io.github.vdep.train.schedule.ModeScheduler;
import io.github.vdep.models.hf.CheckpointException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Optional;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The VDEP training loop: per optimizer step, {@code gradAccum} micro-batches are run forward,
 * scored by the {@link HybridLoss} in the mode the {@link ModeScheduler} picks, and
 * back-propagated; then the global gradient norm is measured and clipped, a step with a
 * non-finite loss or norm is skipped (and counted), and the optimizer applies the scheduled
 * learning rate. Metrics go to {@code out/metrics.jsonl}; checkpoints to {@code out/checkpoints}.
 *
 * <p>Each micro-batch loss is its own mean and is divided by {@code gradAccum}, as Hugging
 * Face's Trainer and LLaVA do.
 *
 * <p>Data parallel ({@link DataParallel} over N ranks): the data source yields global batches of
 * N times the configured batch size; each rank trains on its shard, with its losses weighted by
 * its share of the global batch, and the gradients are summed over the ranks before clipping, so
 * every rank takes the one-process step on the global batch. Rank 0 alone writes metrics and
 * checkpoints.
 */
public final class Trainer {
    private static final Logger LOG = LoggerFactory.getLogger(Trainer.class);

    private final LlavaModel model;
    private final TrainConfig config;
    private final BatchSource data;
    private final TrainingListener listener;
    private final Map<String, Parameter> trainable;
    private final Optimizer optimizer;
    private final HybridLoss loss;
    private final ModeScheduler modes;
    private final LrSchedule lrSchedule;
    private final CheckpointManager checkpoints;
    private final DataParallel dp;
    private BooleanSupplier stopRequested = () -> false;
    private final AlphaPolicy alphaPolicy;

    /**
     * Moves the model to the config's device (in place, as Hugging Face's Trainer does), applies
     * the config's trainable patterns to it and builds the optimizer.
     */
    public Trainer(LlavaModel model, TrainConfig config, BatchSource data, TrainingListener listener) {
        this(model, config, data, listener, DataParallel.single());
    }

    /**
     * As {@link #Trainer(LlavaModel, TrainConfig, BatchSource, TrainingListener)}, as one rank of a
     * data-parallel job: {@code data} must yield global batches ({@code dp.size()} times
     * {@code config.batchSize()} samples), the same on every rank.
     */
    public Trainer(LlavaModel model, TrainConfig config, BatchSource data, TrainingListener listener, DataParallel dp) {
        this.dp = dp;
        config.precision().requireSupported(config.device()); // before the model moves: one line, never a silent FP32 run
        model.to(config.device());
        this.model = model;
        this.config = config;
        this.data = data;
        this.listener = listener;
        this.trainable = TrainableSelector.apply(model, config.trainable());
        this.optimizer = config.optimizer().equals("sgd") ? new Sgd(trainable, config.weightDecay())
                : new AdamW(trainable, config.beta1(), config.beta2(), config.eps(), config.weightDecay());
        model.setRecompute(config.recompute());
        this.loss = new HybridLoss(config.imageLoss(), config.lmHeadChunkRows());
        this.modes = new ModeScheduler(config.modeVdep(), config.modeLlava(), config.modePolicy(), config.seed());
        this.lrSchedule = LrSchedule.of(config.lrSchedule(), config.lr(), config.steps(), config.warmupRatio());
        this.checkpoints = new CheckpointManager(config.outDir().resolve("checkpoints"), config.saveTotalLimit(), dp.size());
        this.alphaPolicy = config.alpha().policy();
        if (dp.distributed() && config.alpha().kind().equals("gradnorm")) {
            throw new IllegalArgumentException("--alpha gradnorm: the gradnorm policy is not supported in data-parallel runs yet"
                    + " (its gradient norms would be one rank's); use a constant, a ramp or ratio:R");
        }
    }

    /**
     * Asks the run to stop early when {@code requested} turns true (for example on SIGTERM): the
     * current optimizer step finishes, a checkpoint is written, and {@link #run()} returns a state
     * before {@code config.steps()}. Checked between optimizer steps.
     *
     * @return this trainer
     */
    public Trainer stopWhen(BooleanSupplier requested) {
        this.stopRequested = requested;
        return this;
    }

    public Map<String, Parameter> trainableParameters() {
        return trainable;
    }

    public Optimizer optimizer() {
        return optimizer;
    }

    /** Runs to {@code config.steps()} (resuming from the latest checkpoint if asked) and returns the final state. */
    public TrainerState run() throws IOException {
        Files.createDirectories(config.outDir());
        checkpoints.removePartials();
        TrainerState state = new TrainerState(0, DataPosition.START, 0, config.seed(), optimizer.name());
        if (config.resume()) {
            Optional<Path> latest = checkpoints.latest();
            if (latest.isPresent()) {
                state = checkpoints.load(latest.get(), trainable, optimizer);
                try {
                    alphaPolicy.restore(state.alphaState());
                } catch (IllegalArgumentException e) {
                    throw new CheckpointException(latest.get().resolve("trainer_state.json"), e.getMessage(), e);
                }
                if (state.seed() != config.seed()) {
                    LOG.warn("checkpoint seed {} differs from --seed {}; continuing with the checkpoint's data order", state.seed(), config.seed());
                }
                LOG.info("resumed from {} at step {}", latest.get(), state.step());
            } else {
                LOG.info("--resume: no checkpoint under {}, starting from step 0", checkpoints.root());
            }
        }
        if (dp.distributed()) {
            dp.checkSame("the run (steps, batch size, accumulation, seed, trainable tensors and parameters)", config.steps(), config.batchSize(),
                    config.gradAccum(), config.seed(), trainable.size(), model.trainableParameterCount());
            dp.checkSame("the step and data position to start from", state.step(), state.position().epoch(), state.position().consumed());
            dp.broadcastFromRankZero(trainable.values());
            LOG.info("rank {} of {} ({}): global batch {} x {} ranks", dp.rank(), dp.size(), dp.collectives().description(),
                    config.batchSize(), dp.size());
        }
        LOG.info("training {} of {} parameters ({} tensors), {} steps, optimizer {}, lr {}", model.trainableParameterCount(),
                model.parameterCount(), trainable.size(), config.steps(), optimizer.name(), config.lr());
        listener.onStart(state.step(), config.steps());
        Iterator<Batch> batches = data.open(state.position());
        boolean writer = dp.rank() == 0;
        try (MetricsWriter metrics = writer ? new MetricsWriter(config.outDir().resolve("metrics.jsonl"), state.step(),
                java.util.Map.of("precision", config.precision().label())) : null) {
            // a stop request (SIGTERM) may reach only some ranks: the ranks agree on it, so all stop at one step
            if (dp.anyRank(stopRequested.getAsBoolean())) {
                // nothing has changed since the start (or the checkpoint resumed from): nothing to save
                LOG.info("stop requested before step {}", state.step() + 1);
                return state;
            }
            while (state.step() < config.steps()) {
                state = step(state, batches, metrics);
                boolean last = state.step() == config.steps();
                boolean stopping = !last && dp.anyRank(stopRequested.getAsBoolean());
                if (last || stopping || (config.saveEvery() > 0 && state.step() % config.saveEvery() == 0)) {
                    if (writer) {
                        listener.onCheckpoint(state.step(), checkpoints.save(state, trainable, optimizer));
                    }
                    dp.collectives().barrier(); // a failed save on rank 0 stops the job here
                }
                if (stopping) {
                    LOG.info("stop requested: stopped after step {} of {} with a checkpoint", state.step(), config.steps());
                    return state;
                }
            }
        } finally {
            if (batches instanceof AutoCloseable c) {
                try {
                    c.close();
                } catch (Exception e) {
                    LOG.warn("closing the data loader failed", e);
                }
            }
        }
        return state;
    }

    private TrainerState step(TrainerState state, Iterator<Batch> batches, MetricsWriter metrics) {
        long step = state.step() + 1;
        Backend backend = Backends.forDevice(config.device());
        backend.resetPeakMemory(); // the reported peak is this step's
        long start = System.nanoTime();
        double commStart = dp.collectives().seconds();
        double lr = lrSchedule.at(step);
        double alpha = alphaPolicy.alphaAt(step, config.steps());
        double lossSum = 0;
        double textSum = 0;
        double imageSum = 0;
        double targetRmsSum = 0;
        int imageCount = 0;
        long tokens = 0;
        String mode = null;
        DataPosition position = state.position();
        // shared over the ranks, per micro-batch: weighted loss, text loss, image loss and target rms^2, ranks with an image loss; then tokens
        double[] shared = new double[5 * config.gradAccum() + 1];
        // gradnorm policy, measuring step: the text loss is back-propagated alone first (alpha 0), the image loss after
        Boolean balanced = null;
        List<Batch> balancedBatches = new ArrayList<>();
        List<BatchMode> balancedModes = new ArrayList<>();
        double balancedImageSum = 0;
        for (int micro = 0; micro < config.gradAccum(); micro++) {
            Batch global = next(batches);
            long offset = (step - 1) * (long) config.batchSize() * dp.size() * config.gradAccum() + (long) micro * global.size();
            String label = modes.modeFor(step, global.size(), offset).kind().label();
            mode = mode == null || mode.equals(label) ? label : "mixed";
            position = global.position();
            Batch batch = dp.shard(global);
            if (batch == null) {
                dp.skipEmptyShard();
                continue;
            }
            BatchMode m = modes.modeFor(step, batch.size(), offset + dp.shardStart(global.size()));
            if (balanced == null) {
                balanced = m.anyVdep() && alphaPolicy.measuresGradientsNow();
            }
            // record(true): the backward pass frees the step's intermediate values as it goes (read them before it)
            try (Tape tape = Tape.record(true)) {
                // no full logits: the loss applies the LM head at the supervised positions only
                LlavaOutput out = model.forward(batch.inputs(), loss.decodeOptions(), false);
                LossResult r = loss.compute(out, model.languageModel(), batch.labels(), batch.imageSample(), m, balanced ? 0.0 : alpha,
                        config.monitorImageLoss(), dp.normalizer());
                Tensor total = config.gradAccum() == 1 ? r.total() : F.scale(r.total(), 1.0 / config.gradAccum());
                double value = r.total().item();
                lossSum += value;
                if (balanced && m.anyVdep() && r.imageLoss() != null) {
                    balancedImageSum += r.imageLoss();
                }
                tape.backward(total);
                textSum += r.textLoss();
                shared[5 * micro] = value;
                shared[5 * micro + 1] = r.textLoss() * r.textWeight();
                if (r.imageLoss() != null) {
                    imageSum += r.imageLoss();
                    targetRmsSum += r.imageTargetRms();
                    imageCount++;
                    shared[5 * micro + 2] = r.imageLoss() * r.imageWeight();
                    shared[5 * micro + 3] = r.imageTargetRms() * r.imageTargetRms() * r.imageWeight();
                    shared[5 * micro + 4] = 1;
                }
            }
            tokens += batch.attentionMask().sumNumber().longValue();
            if (balanced) {
                balancedBatches.add(batch);
                balancedModes.add(m);
            }
        }
        int accum = config.gradAccum();
        if (dp.distributed()) {
            // the global batch's values: the weighted shard values summed over the ranks
            shared[5 * accum] = tokens;
            dp.sum(shared);
            dp.sumGradients(trainable.values());
            lossSum = 0;
            textSum = 0;
            imageSum = 0;
            targetRmsSum = 0;
            imageCount = 0;
            for (int micro = 0; micro < accum; micro++) {
                lossSum += shared[5 * micro];
                textSum += shared[5 * micro + 1];
                if (shared[5 * micro + 4] > 0) {
                    imageSum += shared[5 * micro + 2];
                    targetRmsSum += Math.sqrt(shared[5 * micro + 3]);
                    imageCount++;
                }
            }
            tokens = (long) shared[5 * accum];
        }
        GradientBalance.Result balance = null;
        if (Boolean.TRUE.equals(balanced)) {
            balance = GradientBalance.addImageGradients(model, loss, balancedBatches, balancedModes, accum, trainable, alphaPolicy);
            alpha = balance.alpha();
            lossSum += alpha * balancedImageSum;
        }
        alphaPolicy.observeLosses(textSum / accum, imageCount == 0 ? null : imageSum / imageCount);
        double lossMean = lossSum / accum;
        double gradNorm = GradientClipping.clip(trainable.values(), config.gradClip());
        boolean bad = !Double.isFinite(lossMean) || !Double.isFinite(gradNorm);
        int badSteps = state.badSteps();
        if (bad) {
            badSteps++;
            LOG.warn("step {}: non-finite loss {} or gradient norm {}; update skipped ({} such steps so far)", step, lossMean, gradNorm, badSteps);
            if (badSteps > config.maxBadSteps()) {
                throw new TrainingDivergedException("stopping: " + badSteps + " steps had a non-finite loss or gradient (limit "
                        + config.maxBadSteps() + ")");
            }
        } else {
            optimizer.step(lr);
        }
        model.zeroGrad();
        double seconds = (System.nanoTime() - start) / 1e9;
        StepMetrics m = new StepMetrics(step, config.steps(), mode, lossMean, textSum / accum, imageCount == 0 ? null : imageSum / imageCount,
                imageCount == 0 ? null : targetRmsSum / imageCount,
                alpha, lr, gradNorm, tokens, seconds, position.epoch(), bad, dp.collectives().seconds() - commStart,
                balance == null ? null : balance.textNorm(), balance == null ? null : balance.imageNorm(), backend.memoryUse());
        if (metrics != null) {
            metrics.write(m);
        }
        listener.onStep(m);
        return new TrainerState(step, position, badSteps, state.seed(), optimizer.name(), alphaPolicy.state());
    }

    private static Batch next(Iterator<Batch> batches) {
        if (!batches.hasNext()) {
            throw new NoSuchElementException("the data stream ended; a training data source must repeat over epochs");
        }
        return batches.next();
    }
}
