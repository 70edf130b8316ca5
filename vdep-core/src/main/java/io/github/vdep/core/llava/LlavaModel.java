package io.github.vdep.core.llava;

import io.github.vdep.core.autograd.Tensor;
import io.github.vdep.core.nn.Module;
import io.github.vdep.core.ops.F;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A LLaVA-style model: vision encoder -> projector -> causal language model, with the projected
 * image features spliced into the token embeddings where image placeholder tokens stand (as
 * Hugging Face's LlavaForConditionalGeneration does). Parameter names follow the llava-hf
 * layout: {@code vision_tower.*}, {@code multi_modal_projector.*}, {@code language_model.*}.
 */
public class LlavaModel extends Module {
    private final VisionEncoder vision;
    private final Projector projector;
    private final CausalLanguageModel language;
    private final int imageTokenIndex;

    /**
     * @param vision the encoder; registered as {@code vision_tower} if it is a {@link Module}
     * @param projector registered as {@code multi_modal_projector} if it is a {@link Module}
     * @param language registered as {@code language_model} if it is a {@link Module}
     * @param imageTokenIndex the token id that marks image positions in {@code inputIds}
     */
    public LlavaModel(VisionEncoder vision, Projector projector, CausalLanguageModel language, int imageTokenIndex) {
        if (projector.inputDim() != vision.featureDim()) {
            throw new IllegalArgumentException("projector input width " + projector.inputDim()
                    + " does not match the vision feature width " + vision.featureDim());
        }
        if (projector.outputDim() != language.hiddenSize()) {
            throw new IllegalArgumentException("projector output width " + projector.outputDim()
                    + " does not match the language model's hidden size " + language.hiddenSize());
        }
        if (imageTokenIndex < 0 || imageTokenIndex >= language.vocabSize()) {
            throw new IllegalArgumentException("image token index " + imageTokenIndex + " is outside the vocabulary [0, " + language.vocabSize() + ")");
        }
        this.vision = vision;
        this.projector = projector;
        this.language = language;
        this.imageTokenIndex = imageTokenIndex;
        if (vision instanceof Module m) {
            registerModule("vision_tower", m);
        }
        if (projector instanceof Module m) {
            registerModule("multi_modal_projector", m);
        }
        if (language instanceof Module m) {
            registerModule("language_model", m);
        }
    }

    public VisionEncoder visionTower() {
        return vision;
    }

    public Projector projector() {
        return projector;
    }

    public CausalLanguageModel languageModel() {
        return language;
    }

    public int imageTokenIndex() {
        return imageTokenIndex;
    }

    /**
     * Activation recomputation in the backward pass for the language model's decoder layers and,
     * where the encoder supports it, the vision tower's layers (Hugging Face's
     * {@code gradient_checkpointing_enable()}).
     *
     * @throws UnsupportedOperationException if the language model does not support {@code mode}
     */
    public void setRecompute(Recompute mode) {
        language.setRecompute(mode);
        vision.setRecompute(mode);
    }

    /** Forward pass with logits and final hidden states. */
    public LlavaOutput forward(LlavaInputs inputs) {
        return forward(inputs, DecodeOptions.DEFAULT, true);
    }

    /**
     * Forward pass.
     *
     * @param computeLogits false to skip the LM head (e.g. when only hidden states are needed)
     */
    public LlavaOutput forward(LlavaInputs inputs, DecodeOptions options, boolean computeLogits) {
        Spliced s = splice(inputs);
        DecoderOutput out = language.decode(s.embeds(), inputs.attentionMask(), options);
        Tensor logits = computeLogits ? language.logits(out.hidden()) : null;
        return new LlavaOutput(logits, out.hidden(), s.imageFeatures(), s.imageRows(), out.layerOutputs());
    }

    /**
     * The decoder's input embeddings [B, T, hidden]: token embeddings with the projected image
     * features spliced in at the image positions, exactly as {@link #forward} feeds them to the
     * language model (used by generation, which runs the decoder itself with a KV cache).
     */
    public Tensor embedInputs(LlavaInputs inputs) {
        return splice(inputs).embeds();
    }

    private record Spliced(Tensor embeds, Tensor imageFeatures, int[][] imageRows) {
    }

    private Spliced splice(LlavaInputs inputs) {
        int b = inputs.batchSize();
        int t = inputs.length();
        Tensor embeds = language.embedTokens(inputs.inputIds());
        int[][] imageRows = imageRows(inputs);
        Tensor imageFeatures = null;
        if (imageRows.length > 0) {
            Tensor features = vision.encode(inputs.pixelValues());
            imageFeatures = projector.project(features);
            long h = language.hiddenSize();
            int[] flat = java.util.Arrays.stream(imageRows).flatMapToInt(java.util.Arrays::stream).toArray();
            Tensor rows = F.reshape(imageFeatures, flat.length, h);
            embeds = F.reshape(F.replaceRows(F.reshape(embeds, (long) b * t, h), flat, rows), b, t, h);
        }
        return new Spliced(embeds, imageFeatures, imageRows);
    }

    /** Finds each image's placeholder positions; the count must match the images given. */
    private int[][] imageRows(LlavaInputs inputs) {
        long[] ids = inputs.inputIds().dup('c').reshape(inputs.inputIds().length()).toLongVector();
        int total = 0;
        for (long id : ids) {
            if (id == imageTokenIndex) {
                total++;
            }
        }
        int numImages = inputs.pixelValues() == null ? 0 : (int) inputs.pixelValues().size(0);
        int n = vision.numPatches();
        if (total != (long) numImages * n) {
            throw new IllegalArgumentException("input_ids hold " + total + " image tokens (id " + imageTokenIndex + ") but "
                    + numImages + " image(s) give " + ((long) numImages * n) + " features (" + n + " per image)");
        }
        int[][] rows = new int[numImages][n];
        int k = 0;
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] == imageTokenIndex) {
                rows[k / n][k % n] = i;
                k++;
            }
        }
        return rows;
    }
}
