package io.github.vdep.train.schedule;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The running alpha of one training run: a fixed {@link AlphaSchedule} (constant or ramp) or an
 * adaptive policy with state. The state is two bias-corrected exponential moving averages
 * (momentum {@value #MOMENTUM}, as Adam's first moment): of the text and image losses for
 * {@code ratio}, of the text and image gradient norms for {@code gradnorm}. All inputs are plain
 * numbers, i.e. detached: alpha never receives a gradient. {@link #state()} and
 * {@link #restore(Map)} carry the state through checkpoints, so a resumed run continues with
 * the same alphas.
 */
public final class AlphaPolicy {
    /** The moving averages' momentum. */
    public static final double MOMENTUM = 0.9;
    private static final List<String> KEYS = List.of("alpha", "text_average", "image_average", "observations", "vdep_steps");

    private final AlphaSchedule schedule;
    private double alpha;
    private double textAverage;
    private double imageAverage;
    private long observations;
    private long vdepSteps;

    AlphaPolicy(AlphaSchedule schedule) {
        this.schedule = schedule;
        this.alpha = schedule.start();
    }

    public AlphaSchedule schedule() {
        return schedule;
    }

    /** Alpha for step {@code step} (1-based) of {@code totalSteps}, from what was observed before it. */
    public double alphaAt(long step, long totalSteps) {
        return schedule.adaptive() ? alpha : schedule.at(step, totalSteps);
    }

    /**
     * Whether the step about to run, a VDEP (or mixed) step, must measure both gradient norms:
     * every K-th VDEP step under {@code gradnorm}, never otherwise. Call once per such step.
     */
    public boolean measuresGradientsNow() {
        if (!schedule.kind().equals("gradnorm")) {
            return false;
        }
        return vdepSteps++ % schedule.every() == 0;
    }

    /**
     * A step's losses ({@code ratio} policy; ignored by the others): the text loss, and the image
     * loss or null when the step computed none. Non-finite values are ignored.
     */
    public void observeLosses(double textLoss, Double imageLoss) {
        if (!schedule.kind().equals("ratio") || imageLoss == null || !Double.isFinite(textLoss) || !Double.isFinite(imageLoss)) {
            return;
        }
        update(textLoss, imageLoss);
    }

    /**
     * The two gradient norms measured in the current step ({@code gradnorm} policy); returns the
     * alpha this step uses. Non-finite or zero image norms leave alpha as it was.
     */
    public double observeGradientNorms(double textNorm, double imageNorm) {
        if (!schedule.kind().equals("gradnorm")) {
            throw new IllegalStateException("alpha " + schedule + " does not balance gradients");
        }
        if (Double.isFinite(textNorm) && Double.isFinite(imageNorm) && imageNorm > 0) {
            update(textNorm, imageNorm);
        }
        return alpha;
    }

    private void update(double text, double image) {
        observations++;
        textAverage = MOMENTUM * textAverage + (1 - MOMENTUM) * text;
        imageAverage = MOMENTUM * imageAverage + (1 - MOMENTUM) * image;
        // the bias corrections of the two averages are equal and cancel in the ratio
        if (imageAverage > 0) {
            alpha = schedule.target() * textAverage / imageAverage;
        }
    }

    /** The state to checkpoint (empty for the fixed schedules, which have none). */
    public Map<String, Double> state() {
        Map<String, Double> s = new LinkedHashMap<>();
        if (schedule.adaptive()) {
            s.put("alpha", alpha);
            s.put("text_average", textAverage);
            s.put("image_average", imageAverage);
            s.put("observations", (double) observations);
            s.put("vdep_steps", (double) vdepSteps);
        }
        return s;
    }

    /**
     * Restores a checkpointed {@link #state()}.
     *
     * @throws IllegalArgumentException naming what is missing when an adaptive policy finds no state
     */
    public void restore(Map<String, Double> state) {
        if (!schedule.adaptive()) {
            return;
        }
        for (String k : KEYS) {
            if (!state.containsKey(k)) {
                throw new IllegalArgumentException("holds no state for --alpha " + schedule + " (no '" + k
                        + "'; was it written by a run with another --alpha?)");
            }
        }
        alpha = state.get("alpha");
        textAverage = state.get("text_average");
        imageAverage = state.get("image_average");
        observations = state.get("observations").longValue();
        vdepSteps = state.get("vdep_steps").longValue();
    }
}
