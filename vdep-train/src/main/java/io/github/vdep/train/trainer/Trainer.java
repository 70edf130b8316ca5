package io.github.vdep.train.trainer;

import io.github.vdep.core.autograd.Parameter;
import io.github.vdep.core.autograd.Tape;
import io.github.vdep.core.autograd.Tensor;
import io.github.vdep.core.llava.LlavaModel;
import io.github.vdep.core.llava.LlavaOutput;
import io.github.vdep.core.ops.F;
import io.github.vdep.train.data.Batch;
import io.github.vdep.train.data.DataPosition;
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
    private final AlphaPolicy alphaPolicy;

    /** Applies the config's trainable patterns to the model and builds the optimizer. */
    public Trainer(LlavaModel model, TrainConfig config, BatchSource data, TrainingListener listener) {
        this.model = model;
        this.config = config;
        this.data = data;
        this.listener = listener;
        this.trainable = TrainableSelector.apply(model, config.trainable());
        this.optimizer = config.optimizer().equals("sgd") ? new Sgd(trainable, config.weightDecay())
                : new AdamW(trainable, config.beta1(), config.beta2(), config.eps(), config.weightDecay());
        this.loss = new HybridLoss(config.imageLoss());
        this.modes = new ModeScheduler(config.modeVdep(), config.modeLlava(), config.modePolicy(), config.seed());
        this.lrSchedule = LrSchedule.of(config.lrSchedule(), config.lr(), config.steps(), config.warmupRatio());
        this.checkpoints = new CheckpointManager(config.outDir().resolve("checkpoints"));
        this.alphaPolicy = config.alpha().policy();
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
        LOG.info("training {} of {} parameters ({} tensors), {} steps, optimizer {}, lr {}", model.trainableParameterCount(),
                model.parameterCount(), trainable.size(), config.steps(), optimizer.name(), config.lr());
        listener.onStart(state.step(), config.steps());
        Iterator<Batch> batches = data.open(state.position());
        try (MetricsWriter metrics = new MetricsWriter(config.outDir().resolve("metrics.jsonl"), state.step())) {
            while (state.step() < config.steps()) {
                state = step(state, batches, metrics);
                boolean last = state.step() == config.steps();
                if (last || (config.saveEvery() > 0 && state.step() % config.saveEvery() == 0)) {
                    listener.onCheckpoint(state.step(), checkpoints.save(state, trainable, optimizer));
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
        long start = System.nanoTime();
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
        // gradnorm policy, measuring step: the text loss is back-propagated alone first (alpha 0), the image loss after
        Boolean balanced = null;
        List<Batch> balancedBatches = new ArrayList<>();
        List<BatchMode> balancedModes = new ArrayList<>();
        double balancedImageSum = 0;
        for (int micro = 0; micro < config.gradAccum(); micro++) {
            Batch batch = next(batches);
            BatchMode m = modes.modeFor(step, batch.size(), (step - 1) * (long) config.batchSize() * config.gradAccum() + (long) micro * batch.size());
            String label = m.kind().label();
            mode = mode == null || mode.equals(label) ? label : "mixed";
            if (balanced == null) {
                balanced = m.anyVdep() && alphaPolicy.measuresGradientsNow();
            }
            // record(true): the backward pass frees the step's intermediate values as it goes (read them before it)
            try (Tape tape = Tape.record(true)) {
                // no full logits: the loss applies the LM head at the supervised positions only
                LlavaOutput out = model.forward(batch.inputs(), loss.decodeOptions(), false);
                LossResult r = loss.compute(out, model.languageModel(), batch.labels(), batch.imageSample(), m, balanced ? 0.0 : alpha,
                        config.monitorImageLoss());
                Tensor total = config.gradAccum() == 1 ? r.total() : F.scale(r.total(), 1.0 / config.gradAccum());
                lossSum += r.total().item();
                if (balanced && m.anyVdep() && r.imageLoss() != null) {
                    balancedImageSum += r.imageLoss();
                }
                tape.backward(total);
                textSum += r.textLoss();
                if (r.imageLoss() != null) {
                    imageSum += r.imageLoss();
                    targetRmsSum += r.imageTargetRms();
                    imageCount++;
                }
            }
            tokens += batch.attentionMask().sumNumber().longValue();
            position = batch.position();
            if (balanced) {
                balancedBatches.add(batch);
                balancedModes.add(m);
            }
        }
        int accum = config.gradAccum();
        GradientBalance.Result balance = null;
        if (balanced) {
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
                alpha, lr, gradNorm, tokens, seconds, position.epoch(), bad, balance == null ? null : balance.textNorm(),
                balance == null ? null : balance.imageNorm());
        metrics.write(m);
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
