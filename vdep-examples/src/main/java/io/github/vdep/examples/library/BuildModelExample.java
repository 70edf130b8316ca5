package io.github.vdep.examples.library;

import io.github.vdep.core.llava.LlavaInputs;
import io.github.vdep.core.llava.LlavaModel;
import io.github.vdep.core.llava.LlavaOutput;
import io.github.vdep.models.clip.ClipVisionConfig;
import io.github.vdep.models.hf.LlavaCheckpoint;
import io.github.vdep.models.llama.LlamaConfig;
import io.github.vdep.models.llava.LlavaConfig;
import io.github.vdep.models.llava.LlavaModels;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.SplittableRandom;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * Builds a LLaVA model from code: configs, a seeded random model, one forward pass with an image,
 * the logits and the greedy next token; then saves it as a llava-hf directory, loads it back and
 * checks that the reloaded model gives the same logits.
 *
 * <p>It also computes, by arithmetic from the configs, the parameter counts of LLaVA-1.5-7B and
 * -13B (without building them: they would need tens of GB). {@code BuildModelExampleTest} checks
 * that arithmetic against the real parameter count of a built model.
 *
 * <p>Run {@link #main} (optional argument: the directory to save to), or call
 * {@link #run(Path, long, PrintStream)}.
 */
public final class BuildModelExample {
    /** Word ids of the tiny model: 0 pad, 1 BOS, 2 EOS, ..., the last id is the image token. */
    static final int VOCAB = 100;
    static final int IMAGE_TOKEN = VOCAB - 1;
    static final int BOS = 1;

    private BuildModelExample() {
    }

    /**
     * A tiny LLaVA-1.5-shaped config: a 2-layer CLIP tower on 32x32 images with 8x8 patches (16
     * image tokens), an mlp2x_gelu projector, a 2-layer LLaMA with grouped-query attention.
     */
    public static LlavaConfig tinyConfig() {
        ClipVisionConfig vision = ClipVisionConfig.of(32, 64, 2, 4, 32, 8); // hidden, mlp, layers, heads, image, patch
        LlamaConfig text = LlamaConfig.of(VOCAB, 64, 128, 2, 4, 2, 256);     // vocab, hidden, mlp, layers, heads, kv heads, max positions
        return LlavaConfig.of(text, vision, IMAGE_TOKEN);                    // mlp2x_gelu, feature layer -2, CLS dropped
    }

    /**
     * The config of llava-hf/llava-1.5-7b-hf ({@code hidden} 4096, 32 layers) or -13b-hf (5120,
     * 40 layers): CLIP ViT-L/14 at 336 px, Vicuna v1.5 with llava-hf's padded vocabulary of 32064
     * and image token 32000.
     */
    public static LlavaConfig llava15(boolean thirteenB) {
        LlamaConfig text = thirteenB
                ? LlamaConfig.of(32064, 5120, 13824, 40, 40, 40, 4096)
                : LlamaConfig.of(32064, 4096, 11008, 32, 32, 32, 4096);
        return LlavaConfig.of(text, ClipVisionConfig.vitLarge336(), 32000);
    }

    /** Parameter counts of the three parts, by arithmetic over a config. */
    public record ParameterCounts(long vision, long projector, long language) {
        public long total() {
            return vision + projector + language;
        }
    }

    /**
     * Counts the parameters {@link LlavaModels#create} would allocate for {@code c}, without
     * allocating them. Only {@code mlpNx_gelu}/{@code linear} projectors with biases, no attention
     * biases in the LLM, as LLaVA-1.5.
     */
    public static ParameterCounts parameterCounts(LlavaConfig c) {
        ClipVisionConfig v = c.visionConfig();
        long d = v.hiddenSize();
        long patchEmbedding = d * v.numChannels() * v.patchSize() * v.patchSize();
        long embeddings = d /* class */ + patchEmbedding + (long) (v.numPatches() + 1) * d /* positions */;
        long clipLayer = 4 * (d * d + d) /* q, k, v, out */ + 2 * 2 * d /* two LayerNorms */
                + (d * v.intermediateSize() + v.intermediateSize()) + (v.intermediateSize() * d + d);
        long vision = embeddings + 2 * d /* pre_layrnorm */ + v.numHiddenLayers() * clipLayer + 2 * d /* post_layernorm */;

        LlamaConfig t = c.textConfig();
        long h = t.hiddenSize();
        long heads = (long) t.numAttentionHeads() * t.headDim();
        long kv = (long) t.numKeyValueHeads() * t.headDim();
        long attention = h * heads /* q */ + 2 * h * kv /* k, v */ + heads * h /* o */;
        long mlp = 3 * h * t.intermediateSize();
        long llamaLayer = attention + mlp + 2 * h /* two RMSNorms */;
        long embed = (long) t.vocabSize() * h;
        long language = embed + t.numHiddenLayers() * llamaLayer + h /* final norm */ + (t.tieWordEmbeddings() ? 0 : embed);

        String type = c.projectorType();
        int linears = type.equals("linear") ? 1 : Integer.parseInt(type.substring(3, type.indexOf('x')));
        long projector = (d * h + h) + (linears - 1) * (h * h + h);
        return new ParameterCounts(vision, projector, language);
    }

    /**
     * What one run produced.
     *
     * @param logits [1, T, vocab] logits of the prompt
     * @param nextToken the greedy next token after the prompt
     * @param reloadMaxAbsDiff the largest |difference| between the logits before saving and after reloading
     */
    public record Result(LlavaConfig config, LlavaModel model, LlavaInputs inputs, INDArray logits, int nextToken,
            double reloadMaxAbsDiff, Path savedTo) {
    }

    public static void main(String[] args) throws IOException {
        Path dir = args.length > 0 ? Path.of(args[0]) : Files.createTempDirectory("vdep-build-model");
        run(dir, 42, System.out);
    }

    /** Builds, runs, saves to {@code dir}, reloads and compares; prints what it does to {@code out}. */
    public static Result run(Path dir, long seed, PrintStream out) throws IOException {
        // 1. a config and a seeded random model (tower from seed, projector seed + 1, LLM seed + 2)
        LlavaConfig config = tinyConfig();
        LlavaModel model = LlavaModels.random(config, DataType.FLOAT, seed);
        out.printf(Locale.ROOT, "built: %d parameters (%s)%n", model.parameterCount(), parameterCounts(config));

        // 2. inputs with the image placeholder already expanded: BOS, one image token per patch, then text
        int patches = config.imageSeqLength();          // 16 = (32 / 8)^2
        long[] ids = new long[1 + patches + 4];
        ids[0] = BOS;
        Arrays.fill(ids, 1, 1 + patches, IMAGE_TOKEN);
        SplittableRandom rng = new SplittableRandom(seed);
        for (int i = 1 + patches; i < ids.length; i++) {
            ids[i] = 3 + rng.nextInt(VOCAB - 4);
        }
        INDArray inputIds = Nd4j.createFromArray(new long[][] {ids});                      // [1, T]
        float[] values = new float[3 * 32 * 32];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) (rng.nextDouble() * 4 - 2);                               // seeded, like normalised pixels
        }
        INDArray pixels = Nd4j.createFromArray(values).reshape(1, 3, 32, 32);              // [1, 3, 32, 32], already "preprocessed"
        LlavaInputs inputs = new LlavaInputs(inputIds, null, pixels);                       // null mask: no padding

        // 3. forward: logits [B, T, vocab], final-norm hidden states [B, T, H], projected image features [images, N, H]
        LlavaOutput output = model.forward(inputs);
        INDArray logits = output.logits().value();
        int t = ids.length;
        int next = Nd4j.argMax(logits.get(NDArrayIndex.point(0), NDArrayIndex.point(t - 1), NDArrayIndex.all())).getInt(0);
        out.printf(Locale.ROOT, "logits %s, hidden %s, image features %s; greedy next token %d%n", Arrays.toString(logits.shape()),
                Arrays.toString(output.hidden().shape()), Arrays.toString(output.imageFeatures().shape()), next);

        // 4. save as a llava-hf directory and load it back
        LlavaCheckpoint.save(model, config, dir);
        LlavaCheckpoint.Loaded loaded = LlavaCheckpoint.load(dir);
        INDArray reloaded = loaded.model().forward(inputs).logits().value();
        double diff = reloaded.sub(logits).amaxNumber().doubleValue();
        out.printf(Locale.ROOT, "saved to %s and reloaded: max |logit difference| %.3g%n", dir, diff);

        // 5. LLaVA-1.5's sizes, by arithmetic only
        for (boolean big : new boolean[] {false, true}) {
            ParameterCounts p = parameterCounts(llava15(big));
            out.printf(Locale.ROOT, "LLaVA-1.5-%s: vision %,d + projector %,d + language %,d = %,d parameters%n", big ? "13B" : "7B",
                    p.vision(), p.projector(), p.language(), p.total());
        }
        return new Result(config, model, inputs, logits, next, diff, dir);
    }
}
