package io.github.vdep.train.loss;

import io.github.vdep.core.autograd.Tape;
import io.github.vdep.core.autograd.Tensor;
import io.github.vdep.core.autograd.ValueScope;
import io.github.vdep.core.llava.CausalLanguageModel;
import io.github.vdep.core.llava.DecodeOptions;
import io.github.vdep.core.llava.LlavaOutput;
import io.github.vdep.core.ops.ChunkedCrossEntropy;
import io.github.vdep.core.ops.F;
import java.util.Set;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * VDEP's objective: causal-LM cross-entropy on text, plus (in VDEP mode) alpha times a
 * regression loss that makes the LLM's hidden states at image positions predict the projector's
 * own embeddings.
 *
 * <p>Text loss: logits at t against the label at t+1, labels -100 ignored, mean over the
 * supervised tokens of the batch (as Hugging Face's LlamaForCausalLM). Image loss (defaults): for
 * an image at positions p..p+N-1 with projected embeddings v_1..v_N, the final-norm hidden
 * state at p+i-2 predicts v_i; MSE averaged over all image elements; v detached. A pair whose
 * predicting position would fall before the start of its sequence is dropped.
 */
public final class HybridLoss {
    private final ImageLossConfig config;
    private final int lmHeadChunkRows;

    /** With the LM head and text cross-entropy in chunks of {@link ChunkedCrossEntropy#DEFAULT_CHUNK_ROWS} rows. */
    public HybridLoss(ImageLossConfig config) {
        this(config, ChunkedCrossEntropy.DEFAULT_CHUNK_ROWS);
    }

    /**
     * @param lmHeadChunkRows when the loss applies the LM head itself (no logits in the output), the
     *     rows per chunk of the LM head and cross-entropy ({@link ChunkedCrossEntropy}); 0 = all at once
     */
    public HybridLoss(ImageLossConfig config, int lmHeadChunkRows) {
        if (lmHeadChunkRows < 0) {
            throw new IllegalArgumentException("--lm-head-chunk must be >= 0 (0 = unchunked), got " + lmHeadChunkRows);
        }
        this.config = config;
        this.lmHeadChunkRows = lmHeadChunkRows;
    }

    /** Rows per chunk of the LM head and cross-entropy in training (0 = unchunked). */
    public int lmHeadChunkRows() {
        return lmHeadChunkRows;
    }

    public ImageLossConfig config() {
        return config;
    }

    /** What the model must return for this loss (the block output when a hidden layer is chosen). */
    public DecodeOptions decodeOptions() {
        return config.hiddenLayer() == 0 ? DecodeOptions.DEFAULT : new DecodeOptions(Set.of(config.hiddenLayer()), null);
    }

    /**
     * @param out the model's output for the batch (logits required)
     * @param labels [B, T] labels, -100 where unsupervised
     * @param imageSample the sample index of each image
     * @param mode which samples carry the image loss
     * @param alpha the image loss weight
     */
    public LossResult compute(LlavaOutput out, INDArray labels, int[] imageSample, BatchMode mode, double alpha) {
        return compute(out, labels, imageSample, mode, alpha, false);
    }

    /**
     * As {@link #compute(LlavaOutput, INDArray, int[], BatchMode, double)}; with {@code monitor}, a
     * batch without VDEP samples still reports the image loss over all its images, without
     * adding it to the total (to compare runs, e.g. a LLaVA-only baseline, on the same curve).
     */
    public LossResult compute(LlavaOutput out, INDArray labels, int[] imageSample, BatchMode mode, double alpha, boolean monitor) {
        return compute(out, null, labels, imageSample, mode, alpha, monitor);
    }

    /**
     * As {@link #compute(LlavaOutput, INDArray, int[], BatchMode, double, boolean)} for an output
     * computed without logits ({@code LlavaModel.forward(inputs, options, false)}): the LM head of
     * {@code lm} is applied only at the positions whose next token is supervised (see
     * {@link #textLoss(Tensor, CausalLanguageModel, INDArray)}). The loss and the gradients are
     * those of the full logits; the LM head and the softmax skip the unsupervised positions,
     * which in LLaVA data are most of them (the image, the prompt, the padding).
     *
     * @param lm the language model whose LM head to apply, or null to use {@code out.logits()}
     */
    public LossResult compute(LlavaOutput out, CausalLanguageModel lm, INDArray labels, int[] imageSample, BatchMode mode, double alpha,
            boolean monitor) {
        return compute(out, lm, labels, imageSample, mode, alpha, monitor, LossNormalizer.WHOLE);
    }

    /**
     * As {@link #compute(LlavaOutput, CausalLanguageModel, INDArray, int[], BatchMode, double, boolean)}
     * for a batch that is a shard of a larger one: the text and image terms of the total are
     * weighted by {@code normalizer} (called exactly once per call, whatever the batch holds, since
     * a data-parallel normalizer is a collective operation). The reported losses stay this batch's
     * own means; the weights are in the result.
     */
    public LossResult compute(LlavaOutput out, CausalLanguageModel lm, INDArray labels, int[] imageSample, BatchMode mode, double alpha,
            boolean monitor, LossNormalizer normalizer) {
        int[] targets = shiftedTargets(labels);
        Tensor text = lm != null && out.logits() == null ? textLossAtTargets(out.hidden(), lm, targets, lmHeadChunkRows)
                : F.crossEntropy(out.logits(), targets);
        long supervised = countSupervised(targets);
        boolean train = mode.anyVdep();
        int[][] pairs = null;
        if ((train || monitor) && out.imageFeatures() != null) {
            int t = (int) labels.size(1);
            boolean[] samples = train ? mode.vdepSamples() : BatchMode.vdep(mode.vdepSamples().length).vdepSamples();
            pairs = imagePairs(out.imageRows(), imageSample, samples, t);
        }
        int pairCount = pairs == null ? 0 : pairs[0].length;
        double[] w = normalizer.weights(supervised, pairCount);
        Tensor weightedText = w[0] == 1 ? text : F.scale(text, w[0]);
        if (pairCount == 0) {
            return new LossResult(weightedText, text.item(), null, supervised, 0, null, w[0], w[1]);
        }
        Tensor[] predAndTarget = imagePredictionAndTarget(out, pairs[0], pairs[1]);
        Tensor image = config.distance().apply(predAndTarget[0], predAndTarget[1]);
        double targetRms = rms(predAndTarget[1]);
        Tensor total = !train || alpha == 0 ? weightedText : F.add(weightedText, F.scale(image, alpha * w[1]));
        return new LossResult(total, text.item(), image.item(), supervised, train ? pairCount : 0, targetRms, w[0], w[1]);
    }

    /** The root mean square of a tensor's elements (a metric: no gradient, temporaries freed), on its device. */
    private static double rms(Tensor t) {
        long n = 1;
        for (long d : t.shape()) {
            n *= d;
        }
        try (ValueScope scope = ValueScope.open()) {
            double sumOfSquares = Tape.noGrad(() -> F.sum(F.mul(t, t))).item();
            return Math.sqrt(sumOfSquares / n);
        }
    }

    /**
     * The image loss alone (unweighted, as a tensor to back-propagate), over the images of the
     * samples {@code mode} marks VDEP; null when there are none (or no image pairs). For a
     * caller that needs the two losses' gradients separately, e.g. to balance them.
     */
    public Tensor imageLoss(LlavaOutput out, INDArray labels, int[] imageSample, BatchMode mode) {
        if (out.imageFeatures() == null || !mode.anyVdep()) {
            return null;
        }
        int[][] pairs = imagePairs(out.imageRows(), imageSample, mode.vdepSamples(), (int) labels.size(1));
        if (pairs[0].length == 0) {
            return null;
        }
        Tensor[] predAndTarget = imagePredictionAndTarget(out, pairs[0], pairs[1]);
        return config.distance().apply(predAndTarget[0], predAndTarget[1]);
    }

    /** Shifted cross-entropy: logits at t against labels at t+1. */
    public static Tensor textLoss(Tensor logits, INDArray labels) {
        return F.crossEntropy(logits, shiftedTargets(labels));
    }

    /**
     * The same loss from final hidden states [B, T, H]: the LM head runs only on the rows whose
     * shifted target is supervised. Rows with an ignored target add nothing to the loss or to any
     * gradient, so skipping them changes neither (up to float summation order).
     */
    public static Tensor textLoss(Tensor hidden, CausalLanguageModel lm, INDArray labels) {
        return textLossAtTargets(hidden, lm, shiftedTargets(labels), 0);
    }

    /**
     * As {@link #textLoss(Tensor, CausalLanguageModel, INDArray)} with the LM head and the
     * cross-entropy in chunks of {@code chunkRows} supervised rows ({@link ChunkedCrossEntropy}), so
     * the logits of all of them never exist at once; 0 = unchunked.
     */
    public static Tensor textLoss(Tensor hidden, CausalLanguageModel lm, INDArray labels, int chunkRows) {
        return textLossAtTargets(hidden, lm, shiftedTargets(labels), chunkRows);
    }

    private static Tensor textLossAtTargets(Tensor hidden, CausalLanguageModel lm, int[] targets, int chunkRows) {
        int k = countSupervised(targets);
        // no supervised token: one ignored row keeps the graph (and gives the 0 loss crossEntropy defines)
        int[] rows = new int[Math.max(1, k)];
        int[] kept = new int[rows.length];
        kept[0] = F.IGNORE_INDEX;
        for (int i = 0, j = 0; i < targets.length; i++) {
            if (targets[i] != F.IGNORE_INDEX) {
                rows[j] = i;
                kept[j++] = targets[i];
            }
        }
        Tensor states = F.gatherRows(F.reshape(hidden, -1, hidden.size(hidden.rank() - 1)), rows);
        return ChunkedCrossEntropy.apply(states, lm::logits, kept, chunkRows);
    }

    /** Targets for the logits at each flattened position: the label at t+1, ignored at the last position. */
    private static int[] shiftedTargets(INDArray labels) {
        long[] flat = labels.dup('c').reshape(labels.length()).toLongVector();
        int t = (int) labels.size(1);
        int[] targets = new int[flat.length];
        for (int i = 0; i < flat.length; i++) {
            targets[i] = (i % t == t - 1) ? F.IGNORE_INDEX : (int) flat[i + 1];
        }
        return targets;
    }

    /**
     * The (prediction row, target row) pairs: prediction rows index the flattened [B*T] hidden
     * states, target rows the flattened [numImages*N] image embeddings.
     */
    int[][] imagePairs(int[][] imageRows, int[] imageSample, boolean[] vdepSamples, int seqLen) {
        int n = imageRows.length == 0 ? 0 : imageRows[0].length;
        int offset = config.shift() ? 1 : 0;
        int[] pred = new int[imageRows.length * n];
        int[] target = new int[imageRows.length * n];
        int k = 0;
        for (int img = 0; img < imageRows.length; img++) {
            if (!vdepSamples[imageSample[img]]) {
                continue;
            }
            for (int i = 0; i < n; i++) {
                int row = imageRows[img][i];
                if (row % seqLen < offset) {
                    continue; // the image starts the sequence: nothing precedes v_1
                }
                pred[k] = row - offset;
                target[k] = img * n + i;
                k++;
            }
        }
        return new int[][] {java.util.Arrays.copyOf(pred, k), java.util.Arrays.copyOf(target, k)};
    }

    /** The gathered (prediction, target) rows, each [pairs, hidden]. */
    private Tensor[] imagePredictionAndTarget(LlavaOutput out, int[] predRows, int[] targetRows) {
        Tensor states = config.hiddenLayer() == 0 ? out.hidden() : out.layerOutputs().get(config.hiddenLayer());
        if (states == null) {
            throw new IllegalStateException("the model output lacks block " + config.hiddenLayer() + "; run it with decodeOptions()");
        }
        long h = states.size(2);
        Tensor pred = F.gatherRows(F.reshape(states, -1, h), predRows);
        Tensor features = F.reshape(out.imageFeatures(), -1, h);
        if (config.detachTarget()) {
            features = F.detach(features);
        }
        Tensor target = F.gatherRows(features, targetRows);
        return new Tensor[] {pred, target};
    }

    /** Supervised text targets: the shifted targets that are not ignored. */
    private static int countSupervised(int[] targets) {
        int n = 0;
        for (int target : targets) {
            if (target != F.IGNORE_INDEX) {
                n++;
            }
        }
        return n;
    }
}
