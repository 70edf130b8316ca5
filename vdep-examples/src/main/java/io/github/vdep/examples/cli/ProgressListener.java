package io.github.vdep.examples.cli;

import io.github.vdep.train.trainer.StepMetrics;
import io.github.vdep.train.trainer.TrainingListener;
import java.io.PrintStream;
import java.util.Locale;

/** Draws the training progress bar with the latest losses. */
final class ProgressListener implements TrainingListener {
    private final PrintStream out;
    private final String label;
    private ProgressBar bar;
    private String lastLoss = "-";

    ProgressListener(PrintStream out, String label) {
        this.out = out;
        this.label = label;
    }

    @Override
    public void onStart(long startStep, long totalSteps) {
        bar = new ProgressBar(out, label, totalSteps);
        if (startStep > 0) {
            out.println("resuming at step " + startStep + " of " + totalSteps);
        }
    }

    @Override
    public void onStep(StepMetrics m) {
        lastLoss = String.format(Locale.ROOT, "%.4f", m.loss());
        String image = m.imageLoss() == null ? "" : String.format(Locale.ROOT, " img %.4f", m.imageLoss());
        bar.update(m.step(), String.format(Locale.ROOT, "loss %.4f text %.4f%s %s lr %.2e%s", m.loss(), m.textLoss(), image, m.mode(), m.lr(),
                m.skipped() ? " SKIPPED" : ""));
    }

    String lastLoss() {
        return lastLoss;
    }
}
