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
import io.github.vdep.train.schedule.ModeScheduler;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
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
    private BooleanSupplier stopRequested = () -> false;

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
        this.checkpoints = new CheckpointManager(config.outDir().resolve("checkpoints"), config.saveTotalLimit());
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
            if (stopRequested.getAsBoolean()) {
                // nothing has changed since the start (or the checkpoint resumed from): nothing to save
                LOG.info("stop requested before step {}", state.step() + 1);
                return state;
            }
            while (state.step() < config.steps()) {
                state = step(state, batches, metrics);
                boolean last = state.step() == config.steps();
                boolean stopping = !last && stopRequested.getAsBoolean();
                if (last || stopping || (config.saveEvery() > 0 && state.step() % config.saveEvery() == 0)) {
                    listener.onCheckpoint(state.step(), checkpoints.save(state, trainable, optimizer));
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
        long start = System.nanoTime();
        double lr = lrSchedule.at(step);
        double alpha = config.alpha().at(step, config.steps());
        double lossSum = 0;
        double textSum = 0;
        double imageSum = 0;
        double targetRmsSum = 0;
        int imageCount = 0;
        long tokens = 0;
        String mode = null;
        DataPosition position = state.position();
        for (int micro = 0; micro < config.gradAccum(); micro++) {
            Batch batch = next(batches);
            BatchMode m = modes.modeFor(step, batch.size(), (step - 1) * (long) config.batchSize() * config.gradAccum() + (long) micro * batch.size());
            String label = m.kind().label();
            mode = mode == null || mode.equals(label) ? label : "mixed";
            // record(true): the backward pass frees the step's intermediate values as it goes (read them before it)
            try (Tape tape = Tape.record(true)) {
                // no full logits: the loss applies the LM head at the supervised positions only
                LlavaOutput out = model.forward(batch.inputs(), loss.decodeOptions(), false);
                LossResult r = loss.compute(out, model.languageModel(), batch.labels(), batch.imageSample(), m, alpha,
                        config.monitorImageLoss());
                Tensor total = config.gradAccum() == 1 ? r.total() : F.scale(r.total(), 1.0 / config.gradAccum());
                lossSum += r.total().item();
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
        }
        int accum = config.gradAccum();
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
                alpha, lr, gradNorm, tokens, seconds, position.epoch(), bad);
        metrics.write(m);
        listener.onStep(m);
        return new TrainerState(step, position, badSteps, state.seed(), optimizer.name());
    }

    private static Batch next(Iterator<Batch> batches) {
        if (!batches.hasNext()) {
            throw new NoSuchElementException("the data stream ended; a training data source must repeat over epochs");
        }
        return batches.next();
    }
}
