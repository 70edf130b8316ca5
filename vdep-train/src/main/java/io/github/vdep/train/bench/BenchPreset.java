package io.github.vdep.train.bench;

import io.github.vdep.models.clip.ClipVisionConfig;
import io.github.vdep.models.llama.LlamaConfig;
import io.github.vdep.models.llava.LlavaConfig;
import java.util.Locale;

/**
 * The model and batch shape a benchmark runs: a CLIP-style ViT (quick_gelu, pre-LN), an
 * {@code mlp2x_gelu} projector and a LLaMA (RMSNorm, RoPE, GQA, SwiGLU, untied LM head), with
 * LLaVA-1.5's feature selection (penultimate vision layer, CLS dropped). Each sample is
 * {@code BOS, numPatches image positions, text}; every sample has one image.
 *
 * <p>The PyTorch peer ({@code bench/torch_bench.py}) defines the same presets; keep them in step.
 *
 * @param name the preset name ({@code tiny}, {@code small}, {@code base}, {@code llava-7b}, or anything for a custom shape)
 * @param imageSize square input resolution in pixels
 * @param patchSize patch edge in pixels
 * @param visionWidth ViT hidden size
 * @param visionLayers ViT layers (the last one is not computed: feature layer -2)
 * @param visionHeads ViT attention heads
 * @param visionMlp ViT MLP width
 * @param hidden LLM hidden size (also the projector's width)
 * @param layers LLM decoder layers
 * @param heads LLM query heads
 * @param kvHeads LLM key/value heads
 * @param intermediate LLM SwiGLU width
 * @param vocab LLM vocabulary (the image placeholder is its last id)
 * @param batch samples per step
 * @param seqLen positions per sample: 1 + patches + text
 */
public record BenchPreset(String name, int imageSize, int patchSize, int visionWidth, int visionLayers, int visionHeads, int visionMlp,
        int hidden, int layers, int heads, int kvHeads, int intermediate, int vocab, int batch, int seqLen) {

    /** 64x64 images, 64 patches; 128 positions (BOS, 64 image, 63 text); batch 8. */
    public static final BenchPreset TINY = new BenchPreset("tiny", 64, 8, 128, 4, 4, 512, 256, 4, 8, 4, 688, 4096, 8, 128);

    /** 224x224 images, 196 patches; 256 positions (BOS, 196 image, 59 text); batch 4. */
    public static final BenchPreset SMALL = new BenchPreset("small", 224, 16, 384, 6, 6, 1536, 768, 8, 12, 4, 2048, 8192, 4, 256);

    /**
     * TinyLLaVA-like: CLIP ViT-L/14 at 336 px (24 layers, width 1024, MLP 4096, 16 heads, 576
     * patches), mlp2x_gelu, a TinyLlama-shaped LLaMA (hidden 2048, 22 layers, 32 heads, 4 KV
     * heads, intermediate 5632, vocabulary 32000); 2048 positions (BOS, 576 image, 1471 text);
     * batch 4.
     */
    public static final BenchPreset BASE = new BenchPreset("base", 336, 14, 1024, 24, 16, 4096, 2048, 22, 32, 4, 5632, 32000, 4, 2048);

    /**
     * LLaVA-1.5-7B: the same tower, LLaMA-7B (hidden 4096, 32 layers, 32 heads, intermediate
     * 11008, vocabulary 32000); 2048 positions; batch 1 ({@code --batch-size} to change it).
     */
    public static final BenchPreset LLAVA_7B = new BenchPreset("llava-7b", 336, 14, 1024, 24, 16, 4096, 4096, 32, 32, 32, 11008, 32000, 1, 2048);

    /** Vision feature layer: LLaVA-1.5's penultimate layer. */
    public static final int FEATURE_LAYER = -2;

    /** Id of the image placeholder token (the last vocabulary id). */
    public int imageTokenId() {
        return vocab - 1;
    }

    public BenchPreset {
        if (imageSize % patchSize != 0) {
            throw new IllegalArgumentException("image size " + imageSize + " is not a multiple of patch size " + patchSize);
        }
        if (visionWidth % visionHeads != 0 || hidden % heads != 0 || heads % kvHeads != 0) {
            throw new IllegalArgumentException("head counts do not divide the widths");
        }
        if (visionLayers < 2) {
            throw new IllegalArgumentException("the vision tower needs at least 2 layers (features come from the penultimate one)");
        }
        int patches = (imageSize / patchSize) * (imageSize / patchSize);
        if (seqLen < patches + 2) {
            throw new IllegalArgumentException("sequence length " + seqLen + " leaves no text after BOS and " + patches + " image positions");
        }
        if (vocab < 8) {
            throw new IllegalArgumentException("vocabulary too small");
        }
    }

    /** tiny, small, base or llava-7b. */
    public static BenchPreset named(String name) {
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "tiny" -> TINY;
            case "small" -> SMALL;
            case "base" -> BASE;
            case "llava-7b" -> LLAVA_7B;
            default -> throw new IllegalArgumentException("unknown preset '" + name + "' (tiny, small, base or llava-7b)");
        };
    }

    /** The same shape with another batch size. */
    public BenchPreset withBatch(int newBatch) {
        if (newBatch < 1) {
            throw new IllegalArgumentException("batch size must be >= 1: " + newBatch);
        }
        return new BenchPreset(name, imageSize, patchSize, visionWidth, visionLayers, visionHeads, visionMlp, hidden, layers, heads, kvHeads,
                intermediate, vocab, newBatch, seqLen);
    }

    /** Patches per image (= image positions per sample). */
    public int numPatches() {
        int grid = imageSize / patchSize;
        return grid * grid;
    }

    /** Text positions per sample after BOS and the image. */
    public int textLength() {
        return seqLen - 1 - numPatches();
    }

    /** Vision encoder layers actually run (feature layer -2 skips the last). */
    public int visionLayersComputed() {
        return visionLayers + 1 + FEATURE_LAYER;
    }

    /** Tokens (positions) per step. */
    public long tokensPerStep() {
        return (long) batch * seqLen;
    }

    public LlavaConfig llavaConfig() {
        ClipVisionConfig vision = ClipVisionConfig.of(visionWidth, visionMlp, visionLayers, visionHeads, imageSize, patchSize);
        LlamaConfig text = LlamaConfig.of(vocab, hidden, intermediate, layers, heads, kvHeads, Math.max(2048, seqLen));
        return LlavaConfig.of(text, vision, imageTokenId());
    }
}
