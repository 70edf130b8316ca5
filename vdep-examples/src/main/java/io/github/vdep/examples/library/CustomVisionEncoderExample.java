package io.github.vdep.examples.library;

import io.github.vdep.core.autograd.Parameter;
import io.github.vdep.core.autograd.Tape;
import io.github.vdep.core.autograd.Tensor;
import io.github.vdep.core.llava.LlavaInputs;
import io.github.vdep.core.llava.LlavaModel;
import io.github.vdep.core.llava.LlavaOutput;
import io.github.vdep.core.llava.VisionEncoder;
import io.github.vdep.core.nn.Init;
import io.github.vdep.core.nn.Linear;
import io.github.vdep.core.nn.Module;
import io.github.vdep.core.ops.F;
import io.github.vdep.models.llama.LlamaConfig;
import io.github.vdep.models.llama.LlamaForCausalLM;
import io.github.vdep.models.projector.MlpProjector;
import java.util.SplittableRandom;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Plugs a custom vision encoder into a LLaVA model and runs one training step.
 *
 * <p>The encoder ({@link PooledPatchEncoder}) extends {@link Module}, so its parameters appear
 * under {@code vision_tower.} and train like the rest, and implements {@link VisionEncoder}, the
 * only contract {@link LlavaModel} needs: pixels [n, C, H, W] in, features
 * [n, numPatches, featureDim] out. The language model is frozen here (as in LLaVA's first stage),
 * yet the text loss still back-propagates through it into the projector and the encoder.
 *
 * <p>Run {@link #main} (optional argument: the seed), or call {@link #run(long)};
 * {@code CustomVisionEncoderExampleTest} does the latter.
 */
public final class CustomVisionEncoderExample {
    private static final Logger LOG = LoggerFactory.getLogger(CustomVisionEncoderExample.class);

    static final int IMAGE_SIZE = 32;
    static final int PATCH = 8;
    static final int POOL = 2;
    static final int FEATURE_DIM = 24;
    static final int VOCAB = 64;
    static final int IMAGE_TOKEN = VOCAB - 1;
    static final int HIDDEN = 32;
    static final double LEARNING_RATE = 0.05;

    private CustomVisionEncoderExample() {
    }

    /**
     * A small trainable vision encoder: the image is cut into PATCH x PATCH patches, each patch is
     * average-pooled over POOL x POOL pixel blocks and flattened, then a {@link Linear} layer and a
     * learned position embedding map it to a feature vector, followed by GELU.
     */
    public static final class PooledPatchEncoder extends Module implements VisionEncoder {
        private final int imageSize;
        private final int patch;
        private final int pool;
        private final int channels;
        private final int featureDim;
        private final DataType dtype;
        private final Linear proj;
        private final Parameter positionEmbedding;

        public PooledPatchEncoder(int imageSize, int patch, int pool, int channels, int featureDim, DataType dtype) {
            if (imageSize % patch != 0 || patch % pool != 0) {
                throw new IllegalArgumentException("image size " + imageSize + ", patch " + patch + " and pool " + pool + " do not divide");
            }
            this.imageSize = imageSize;
            this.patch = patch;
            this.pool = pool;
            this.channels = channels;
            this.featureDim = featureDim;
            this.dtype = dtype;
            int cells = patch / pool;
            // parameters are named like PyTorch's: vision_tower.proj.weight, vision_tower.position_embedding
            this.proj = registerModule("proj", new Linear((long) channels * cells * cells, featureDim, true, dtype));
            this.positionEmbedding = registerParameter("position_embedding", Nd4j.zeros(dtype, numPatches(), featureDim));
        }

        /** Seeded initialisation: PyTorch's Linear default and small normal position embeddings. */
        public void initialize(long seed) {
            SplittableRandom rng = new SplittableRandom(seed);
            proj.initDefault(rng);
            positionEmbedding.load(Init.normal(rng, 0.02, dtype, positionEmbedding.shape()));
        }

        public Linear proj() {
            return proj;
        }

        public Parameter positionEmbedding() {
            return positionEmbedding;
        }

        @Override
        public Tensor encode(INDArray pixelValues) {
            long n = pixelValues.size(0);
            int grid = imageSize / patch;
            int cells = patch / pool;
            // [n, C, H, W] -> [n, C, gridY, cellY, pool, gridX, cellX, pool]; average the two pool axes.
            // The pixels are an input, not a parameter, so this is plain ND4J work outside the tape.
            INDArray pooled = pixelValues.castTo(dtype).dup('c')
                    .reshape('c', n, channels, grid, cells, pool, grid, cells, pool)
                    .mean(4, 7);
            // -> [n, gridY, gridX, C, cellY, cellX] -> one row per patch
            INDArray patches = pooled.permute(0, 2, 4, 1, 3, 5).dup('c')
                    .reshape('c', n, (long) grid * grid, (long) channels * cells * cells);
            // From here on, differentiable primitives: their backward passes are recorded on the tape.
            Tensor h = proj.forward(Tensor.constant(patches));   // [n, patches, featureDim]
            h = F.add(h, positionEmbedding);                      // broadcast [patches, featureDim]
            return F.gelu(h);
        }

        @Override
        public int featureDim() {
            return featureDim;
        }

        @Override
        public int numPatches() {
            int grid = imageSize / patch;
            return grid * grid;
        }

        @Override
        public int imageSize() {
            return imageSize;
        }
    }

    /**
     * What one run produced.
     *
     * @param model the LLaVA model after the update
     * @param encoder its vision encoder (gradients of the step are still held)
     * @param loss the text loss before the update
     * @param lossAfterStep the text loss on the same batch after one SGD step
     */
    public record Result(LlavaModel model, PooledPatchEncoder encoder, double loss, double lossAfterStep) {
    }

    public static void main(String[] args) {
        Result r = run(args.length > 0 ? Long.parseLong(args[0]) : 7);
        LOG.info("done: loss {} -> {}", String.format("%.5f", r.loss()), String.format("%.5f", r.lossAfterStep()));
    }

    /** Builds the model, runs forward and backward on a random batch, takes one SGD step. */
    public static Result run(long seed) {
        DataType dtype = DataType.FLOAT;
        PooledPatchEncoder encoder = new PooledPatchEncoder(IMAGE_SIZE, PATCH, POOL, 3, FEATURE_DIM, dtype);
        encoder.initialize(seed);
        MlpProjector projector = new MlpProjector("mlp2x_gelu", FEATURE_DIM, HIDDEN, "gelu", dtype);
        projector.initialize(seed + 1);
        LlamaForCausalLM language = new LlamaForCausalLM(LlamaConfig.of(VOCAB, HIDDEN, 64, 2, 4, 2, 128), dtype);
        language.initialize(seed + 2, 0.02);
        LlavaModel model = new LlavaModel(encoder, projector, language, IMAGE_TOKEN);

        // Stage-1 style: freeze the language model; encoder and projector train.
        language.setTrainable(false);
        LOG.info("model: {} parameters, {} trainable (encoder {}, projector {})", model.parameterCount(),
                model.trainableParameterCount(), encoder.parameterCount(), projector.parameterCount());

        Batch batch = Batch.random(encoder.numPatches(), new SplittableRandom(seed + 3));
        double loss;
        try (Tape tape = Tape.record()) {
            Tensor l = textLoss(model.forward(batch.inputs()), batch.targets());
            loss = l.item();
            tape.backward(l);
        }
        LOG.info("loss {} (ln(vocab) = {}); |grad| encoder.proj.weight {}, projector.linear_1.weight {}",
                String.format("%.5f", loss), String.format("%.5f", Math.log(VOCAB)),
                String.format("%.3e", encoder.proj().weight().grad().norm2Number().doubleValue()),
                String.format("%.3e", projector.namedParameters().get("linear_1.weight").grad().norm2Number().doubleValue()));

        // Plain SGD on what has a gradient; a real training loop would use an optimizer.
        for (Parameter p : model.parameters()) {
            if (p.trainable() && p.grad() != null) {
                p.value().subi(p.grad().mul(LEARNING_RATE));
            }
        }
        double after = Tape.noGrad(() -> textLoss(model.forward(batch.inputs()), batch.targets())).item();
        LOG.info("after one SGD step (lr {}): loss {}", LEARNING_RATE, String.format("%.5f", after));
        return new Result(model, encoder, loss, after);
    }

    /** Next-token cross-entropy: logits at t against the token at t + 1, where that token is supervised. */
    static Tensor textLoss(LlavaOutput out, int[] targets) {
        return F.crossEntropy(out.logits(), targets);
    }

    /**
     * Two samples: [BOS, image tokens, 8 text tokens] and [BOS, 3 text, image tokens, 3 text, 2 padding];
     * only text tokens are supervised.
     */
    record Batch(LlavaInputs inputs, int[] targets) {
        static Batch random(int patches, SplittableRandom rng) {
            int t = patches + 9;
            long[][] ids = new long[2][t];
            float[][] mask = new float[2][t];
            boolean[][] supervised = new boolean[2][t];
            for (int b = 0; b < 2; b++) {
                int imageAt = b == 0 ? 1 : 4;
                int real = b == 0 ? t : t - 2;
                for (int i = 0; i < t; i++) {
                    boolean image = i >= imageAt && i < imageAt + patches;
                    ids[b][i] = i == 0 ? 1 : i >= real ? 0 : image ? IMAGE_TOKEN : 3 + rng.nextInt(VOCAB - 4);
                    mask[b][i] = i < real ? 1 : 0;
                    supervised[b][i] = i > 0 && i < real && !image;
                }
            }
            int[] targets = new int[2 * t];
            for (int b = 0; b < 2; b++) {
                for (int i = 0; i < t; i++) {
                    targets[b * t + i] = i + 1 < t && supervised[b][i + 1] ? (int) ids[b][i + 1] : F.IGNORE_INDEX;
                }
            }
            float[] pixels = new float[2 * 3 * IMAGE_SIZE * IMAGE_SIZE];
            for (int i = 0; i < pixels.length; i++) {
                pixels[i] = (float) (rng.nextDouble() * 2 - 1);
            }
            INDArray pixelValues = Nd4j.createFromArray(pixels).reshape(2, 3, IMAGE_SIZE, IMAGE_SIZE);
            return new Batch(new LlavaInputs(Nd4j.createFromArray(ids), Nd4j.createFromArray(mask), pixelValues), targets);
        }
    }
}
