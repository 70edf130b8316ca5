package io.github.vdep.examples.library;

import io.github.vdep.core.autograd.Parameter;
import io.github.vdep.core.autograd.Tape;
import io.github.vdep.core.llava.LlavaModel;
import io.github.vdep.core.llava.LlavaOutput;
import io.github.vdep.core.nn.Module;
import io.github.vdep.examples.demo.DemoDataset;
import io.github.vdep.examples.demo.DemoModel;
import io.github.vdep.models.llava.LlavaConfig;
import io.github.vdep.models.llava.LlavaModels;
import io.github.vdep.train.data.Batch;
import io.github.vdep.train.data.ConversationRecord;
import io.github.vdep.train.data.DataFiles;
import io.github.vdep.train.data.DataLoaderConfig;
import io.github.vdep.train.data.DataPosition;
import io.github.vdep.train.data.EncodingConfig;
import io.github.vdep.train.data.HfTokenizer;
import io.github.vdep.train.data.LlavaDataLoader;
import io.github.vdep.train.data.Templates;
import io.github.vdep.train.data.image.ClipImageProcessor;
import io.github.vdep.train.data.image.ImageAspect;
import io.github.vdep.train.data.image.ImageProcessorConfig;
import io.github.vdep.train.loss.BatchMode;
import io.github.vdep.train.loss.HybridLoss;
import io.github.vdep.train.loss.ImageLossConfig;
import io.github.vdep.train.loss.LossResult;
import io.github.vdep.train.optim.AdamW;
import io.github.vdep.train.optim.GradientClipping;
import io.github.vdep.train.optim.LrSchedule;
import io.github.vdep.train.schedule.ModePolicy;
import io.github.vdep.train.schedule.ModeScheduler;
import io.github.vdep.train.trainer.Stage;
import io.github.vdep.train.trainer.TrainableSelector;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.nd4j.linalg.api.buffer.DataType;

/**
 * A VDEP training loop written by hand from the library's parts, instead of {@code Trainer}:
 * the demo's synthetic data set ({@link DemoDataset#generate}) in a folder, the data loader, a
 * tiny LLaVA, and per step the {@link ModeScheduler}'s choice of VDEP or LLaVA mode, forward and
 * {@link HybridLoss} on a {@link Tape}, backward, {@link GradientClipping}, {@link AdamW} with a
 * warmup-cosine {@link LrSchedule}. Before and after training the text loss of a fixed batch is
 * measured without gradients.
 *
 * <p>Run {@link #main} (optional arguments: the working directory, the number of steps), or call
 * {@link #run(Path, int, long, PrintStream)}.
 */
public final class CustomTrainingLoopExample {
    static final int BATCH_SIZE = 8;
    static final double PEAK_LR = 3e-3;

    private CustomTrainingLoopExample() {
    }

    /**
     * What one run produced.
     *
     * @param textLosses the text loss of each step
     * @param imageLosses the image loss of each step (null in LLaVA-mode steps)
     * @param modes each step's mode: vdep or llava
     * @param projectorGradNorm the projector's gradient norm at step 1 (before clipping)
     * @param visionGradients how many vision tower parameters held a gradient at step 1 (frozen: none)
     * @param heldLossBefore the text loss of a fixed batch before training
     * @param heldLossAfter the same after training
     */
    public record Result(List<Double> textLosses, List<Double> imageLosses, List<String> modes, double projectorGradNorm,
            int visionGradients, double heldLossBefore, double heldLossAfter) {
    }

    public static void main(String[] args) throws IOException {
        Path dir = args.length > 0 ? Path.of(args[0]) : Files.createTempDirectory("vdep-custom-loop");
        int steps = args.length > 1 ? Integer.parseInt(args[1]) : 30;
        run(dir, steps, 7, System.out);
    }

    /** Generates the data under {@code dir}, trains {@code steps} steps, prints one line per step. */
    public static Result run(Path dir, int steps, long seed, PrintStream out) {
        // 1. data: 40 synthetic scenes -> 80 LLaVA records (a question and a caption each), PNGs, tokenizer.json
        DemoDataset.Files data = DemoDataset.generate(dir.resolve("data"), 40, 0, DemoModel.IMAGE_SIZE, seed);
        List<ConversationRecord> records = DataFiles.read(data.train());

        // 2. a tiny LLaVA over the data set's vocabulary (image token id 4 in its tokenizer)
        LlavaConfig config = DemoModel.config(data.vocabSize());
        LlavaModel model = LlavaModels.random(config, DataType.FLOAT, seed);

        // 3. what trains: LLaVA-1.5 stage 2 (projector + LLM; the vision tower is frozen)
        Map<String, Parameter> trainable = TrainableSelector.apply(model, Stage.FINETUNE.patterns());
        AdamW optimizer = new AdamW(trainable, 0.9, 0.999, 1e-8, 0.0);
        LrSchedule lr = LrSchedule.of(LrSchedule.Kind.COSINE, PEAK_LR, steps, 0.1);
        HybridLoss loss = new HybridLoss(ImageLossConfig.DEFAULT);                  // MSE, shifted, final norm, detached target
        ModeScheduler modes = new ModeScheduler(1, 1, ModePolicy.ALTERNATING, seed);  // VDEP, LLaVA, VDEP, ...
        double alpha = 1.0;

        ClipImageProcessor images = new ClipImageProcessor(ImageProcessorConfig.clip(DemoModel.IMAGE_SIZE), ImageAspect.PAD);
        EncodingConfig encoding = new EncodingConfig(config.imageTokenIndex(), config.imageSeqLength(), 512);
        DataLoaderConfig loaderConfig = DataLoaderConfig.of(BATCH_SIZE, encoding).withShuffle(true, seed);

        List<Double> textLosses = new ArrayList<>();
        List<Double> imageLosses = new ArrayList<>();
        List<String> modeNames = new ArrayList<>();
        double projectorGradNorm = Double.NaN;
        int visionGradients = -1;
        try (HfTokenizer tokenizer = HfTokenizer.load(data.tokenizer());
             LlavaDataLoader loader = new LlavaDataLoader(records, tokenizer, Templates.byName("vicuna_v1"), images, data.dir(),
                     loaderConfig, DataPosition.START)) {
            Batch held = loader.next();   // a fixed batch to measure the loss on, before and after
            double before = heldTextLoss(model, held);
            out.printf(Locale.ROOT, "text loss of a fixed batch before training: %.4f%n", before);

            for (int step = 1; step <= steps; step++) {
                Batch batch = loader.next();
                BatchMode mode = modes.modeFor(step, batch.size(), (long) (step - 1) * BATCH_SIZE);
                LossResult r;
                double total;
                // record(true): backward frees intermediate values as it passes them (all but the loss it starts from)
                try (Tape tape = Tape.record(true)) {
                    LlavaOutput output = model.forward(batch.inputs(), loss.decodeOptions(), true);
                    r = loss.compute(output, batch.labels(), batch.imageSample(), mode, alpha);
                    total = r.total().item();
                    tape.backward(r.total());   // gradients now in p.grad() of the trainable parameters
                }
                if (step == 1) {
                    // the projector trains; the frozen vision tower gets no gradient buffers at all
                    projectorGradNorm = GradientClipping.globalNorm(((Module) model.projector()).parameters());
                    visionGradients = (int) ((Module) model.visionTower()).parameters().stream().filter(p -> p.grad() != null).count();
                }
                double gradNorm = GradientClipping.clip(trainable.values(), 1.0);
                double rate = lr.at(step);
                optimizer.step(rate);
                model.zeroGrad();

                textLosses.add(r.textLoss());
                imageLosses.add(r.imageLoss());
                modeNames.add(mode.kind().label());
                out.printf(Locale.ROOT, "step %3d  %-5s  loss %.4f  text %.4f  image %s  grad norm %.3f  lr %.2e%n", step,
                        mode.kind().label(), total, r.textLoss(),
                        r.imageLoss() == null ? "  -   " : String.format(Locale.ROOT, "%.4f", r.imageLoss()), gradNorm, rate);
            }
            double after = heldTextLoss(model, held);
            out.printf(Locale.ROOT, "text loss of the fixed batch after %d steps: %.4f (before: %.4f)%n", steps, after, before);
            return new Result(textLosses, imageLosses, modeNames, projectorGradNorm, visionGradients, before, after);
        }
    }

    /** The text loss of a batch, computed without recording a tape. */
    static double heldTextLoss(LlavaModel model, Batch batch) {
        return Tape.noGrad(() -> HybridLoss.textLoss(model.forward(batch.inputs()).logits(), batch.labels())).item();
    }
}
