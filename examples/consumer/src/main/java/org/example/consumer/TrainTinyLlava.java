package org.example.consumer;

import io.github.vdep.core.autograd.Parameter;
import io.github.vdep.core.autograd.Tape;
import io.github.vdep.core.autograd.Tensor;
import io.github.vdep.core.llava.LlavaInputs;
import io.github.vdep.core.llava.LlavaModel;
import io.github.vdep.core.llava.LlavaOutput;
import io.github.vdep.core.llava.VisionEncoder;
import io.github.vdep.core.nn.Linear;
import io.github.vdep.core.nn.Module;
import io.github.vdep.core.ops.F;
import io.github.vdep.core.ops.NativeKernels;
import io.github.vdep.models.llama.LlamaConfig;
import io.github.vdep.models.llama.LlamaForCausalLM;
import io.github.vdep.models.projector.MlpProjector;
import io.github.vdep.train.loss.BatchMode;
import io.github.vdep.train.loss.HybridLoss;
import io.github.vdep.train.loss.ImageLossConfig;
import io.github.vdep.train.loss.LossResult;
import io.github.vdep.train.optim.AdamW;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A user's program on vdep's artifacts: a tiny LLaVA whose vision encoder is this project's own
 * class, trained with VDEP (text loss plus the image-reconstruction loss in alternate steps) for
 * a few AdamW steps on a synthetic task: say the colour of a plain image. Exits 1 unless the text
 * loss falls below half its starting value.
 */
public final class TrainTinyLlava {
    static final int IMAGE_SIZE = 16;
    static final int PATCH = 4;
    static final int VOCAB = 32;
    static final int IMAGE_TOKEN = VOCAB - 1;
    static final int COLOURS = 4;
    static final int STEPS = 40;

    private TrainTinyLlava() {
    }

    /** The custom vision encoder: each PATCH x PATCH patch, flattened, through one linear layer and GELU. */
    static final class PatchEncoder extends Module implements VisionEncoder {
        private final Linear proj;
        private final int featureDim;

        PatchEncoder(int featureDim, long seed) {
            this.featureDim = featureDim;
            this.proj = registerModule("proj", new Linear(3L * PATCH * PATCH, featureDim, true, DataType.FLOAT));
            proj.initDefault(new SplittableRandom(seed));
        }

        @Override
        public Tensor encode(INDArray pixels) {
            long n = pixels.size(0);
            int grid = IMAGE_SIZE / PATCH;
            // [n, 3, gy, py, gx, px] -> [n, gy, gx, 3, py, px] -> one row per patch (input work, off the tape)
            INDArray patches = pixels.castTo(DataType.FLOAT).dup('c').reshape('c', n, 3, grid, PATCH, grid, PATCH)
                    .permute(0, 2, 4, 1, 3, 5).dup('c').reshape('c', n, (long) grid * grid, 3L * PATCH * PATCH);
            return F.gelu(proj.forward(Tensor.constant(patches)));
        }

        @Override
        public int featureDim() {
            return featureDim;
        }

        @Override
        public int numPatches() {
            return (IMAGE_SIZE / PATCH) * (IMAGE_SIZE / PATCH);
        }

        @Override
        public int imageSize() {
            return IMAGE_SIZE;
        }
    }

    public static void main(String[] args) {
        PatchEncoder encoder = new PatchEncoder(24, 1);
        MlpProjector projector = new MlpProjector("mlp2x_gelu", 24, 32, "gelu", DataType.FLOAT);
        projector.initialize(2);
        LlamaForCausalLM language = new LlamaForCausalLM(LlamaConfig.of(VOCAB, 32, 64, 2, 4, 2, 64), DataType.FLOAT);
        language.initialize(3, 0.02);
        LlavaModel model = new LlavaModel(encoder, projector, language, IMAGE_TOKEN);
        System.out.printf(Locale.ROOT, "tiny LLaVA with a custom vision encoder: %d parameters; native kernels %s%n",
                model.parameterCount(), NativeKernels.status());

        // one sample per colour: [BOS, image tokens, colour word], only the colour word supervised
        int t = 1 + encoder.numPatches() + 1;
        long[][] ids = new long[COLOURS][t];
        long[][] labels = new long[COLOURS][t];
        float[] pixels = new float[COLOURS * 3 * IMAGE_SIZE * IMAGE_SIZE];
        for (int c = 0; c < COLOURS; c++) {
            for (int i = 0; i < t; i++) {
                ids[c][i] = i == 0 ? 1 : i == t - 1 ? 3 + c : IMAGE_TOKEN;
                labels[c][i] = i == t - 1 ? 3 + c : -100;
            }
            for (int ch = 0; ch < 3; ch++) {
                float value = ((c >> Math.min(ch, 1)) & 1) == 1 ? 0.8f : -0.8f; // four distinct colours
                for (int p = 0; p < IMAGE_SIZE * IMAGE_SIZE; p++) {
                    pixels[((c * 3) + ch) * IMAGE_SIZE * IMAGE_SIZE + p] = ch == 2 ? -value : value;
                }
            }
        }
        LlavaInputs inputs = new LlavaInputs(Nd4j.createFromArray(ids), null,
                Nd4j.createFromArray(pixels).reshape(COLOURS, 3, IMAGE_SIZE, IMAGE_SIZE));
        INDArray labelArray = Nd4j.createFromArray(labels);
        int[] imageSample = {0, 1, 2, 3};

        Map<String, Parameter> trainable = new LinkedHashMap<>(model.namedParameters());
        AdamW optimizer = new AdamW(trainable, 0.9, 0.999, 1e-8, 0.0);
        HybridLoss loss = new HybridLoss(ImageLossConfig.DEFAULT);
        double first = Double.NaN;
        double last = Double.NaN;
        for (int step = 1; step <= STEPS; step++) {
            BatchMode mode = step % 2 == 1 ? BatchMode.vdep(COLOURS) : BatchMode.llava(COLOURS); // VDEP and LLaVA steps 1:1
            LossResult r;
            try (Tape tape = Tape.record()) {
                LlavaOutput out = model.forward(inputs, loss.decodeOptions(), true);
                r = loss.compute(out, labelArray, imageSample, mode, 1.0);
                tape.backward(r.total());
            }
            optimizer.step(1e-2);
            model.zeroGrad();
            if (step == 1) {
                first = r.textLoss();
            }
            last = r.textLoss();
            if (step == 1 || step % 10 == 0) {
                System.out.printf(Locale.ROOT, "step %2d %-5s text loss %.4f image loss %s%n", step, mode.kind().label(), r.textLoss(),
                        r.imageLoss() == null ? "-" : String.format(Locale.ROOT, "%.4f", r.imageLoss()));
            }
        }
        boolean learned = last < first / 2;
        System.out.printf(Locale.ROOT, "text loss %.4f -> %.4f after %d steps: %s%n", first, last, STEPS, learned ? "learned" : "DID NOT LEARN");
        System.exit(learned ? 0 : 1);
    }
}
