package io.github.vdep.train.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.vdep.core.backend.Backends;
import io.github.vdep.core.cuda.HostCudaApi;
import io.github.vdep.core.device.Device;
import io.github.vdep.core.device.Precision;
import io.github.vdep.core.device.PrecisionUnsupportedException;
import io.github.vdep.models.llava.LlavaConfig;
import io.github.vdep.models.llava.ParameterCounts;
import io.github.vdep.train.trainer.MemoryEstimate;
import io.github.vdep.train.trainer.MemoryLimit;
import io.github.vdep.train.trainer.Stage;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The base and llava-7b presets against issue 12's shapes and the published parameter counts of
 * the models they copy, and the one-line refusals of a preset that cannot fit or a precision that
 * cannot run. Nothing large is allocated.
 */
class BenchPresetTest {
    /** CLIP ViT-L/14-336's vision model (HF CLIPVisionModel, openai/clip-vit-large-patch14-336), by hand below. */
    static final long CLIP_L14_336 = 303_507_456L;
    /** LLaMA-7B (LlamaForCausalLM, vocabulary 32000): 6,738,415,616, as Meta and Hugging Face report it. */
    static final long LLAMA_7B = 6_738_415_616L;
    /** TinyLlama-1.1B (hidden 2048, 22 layers, 32/4 heads, 5632, vocabulary 32000): 1,100,048,384. */
    static final long TINYLLAMA_1_1B = 1_100_048_384L;

    /** The ViT count from first principles, independent of ParameterCounts. */
    @Test
    void clipL14At336HasThePublishedShape() {
        long w = 1024;
        long mlp = 4096;
        long patches = (336 / 14) * (336 / 14);
        assertEquals(576, patches);
        long embeddings = w /* class */ + w * 3 * 14 * 14 /* conv, no bias */ + (patches + 1) * w /* positions */;
        long layer = 4 * (w * w + w) + (w * mlp + mlp) + (mlp * w + w) + 2 * (2 * w);
        long count = embeddings + 2 * w /* pre_layrnorm */ + 24 * layer + 2 * w /* post_layernorm */;
        assertEquals(CLIP_L14_336, count);
    }

    @Test
    void basePresetIsTinyLlavaShaped() {
        BenchPreset p = BenchPreset.named("base");
        assertEquals(576, p.numPatches());
        assertEquals(2048, p.seqLen());
        assertEquals(2048 - 1 - 576, p.textLength());
        assertEquals(23, p.visionLayersComputed());
        LlavaConfig c = p.llavaConfig();
        assertEquals(16, c.visionConfig().numAttentionHeads());
        assertEquals(4096, c.visionConfig().intermediateSize());
        assertEquals(32, c.textConfig().numAttentionHeads());
        assertEquals(4, c.textConfig().numKeyValueHeads());
        assertEquals(64, c.textConfig().headDim());
        assertEquals("mlp2x_gelu", c.projectorType());
        ParameterCounts n = ParameterCounts.of(c);
        assertEquals(CLIP_L14_336, n.visionTower());
        assertEquals(1024L * 2048 + 2048 + 2048L * 2048 + 2048, n.projector());
        assertEquals(TINYLLAMA_1_1B, n.languageModel());
    }

    @Test
    void llava7bPresetIsLlava15Shaped() {
        BenchPreset p = BenchPreset.named("LLaVA-7B");
        assertEquals(576, p.numPatches());
        assertEquals(2048, p.seqLen());
        LlavaConfig c = p.llavaConfig();
        assertEquals(32, c.textConfig().numKeyValueHeads());
        assertEquals(128, c.textConfig().headDim());
        assertEquals(11008, c.textConfig().intermediateSize());
        ParameterCounts n = ParameterCounts.of(c);
        assertEquals(CLIP_L14_336, n.visionTower());
        assertEquals(20_979_712L, n.projector()); // LLaVA-1.5-7B's mm_projector: 1024x4096 + 4096x4096 with biases
        assertEquals(LLAMA_7B, n.languageModel());
    }

    @Test
    void batchOverrideAndUnknownNames() {
        assertEquals(16, BenchPreset.LLAVA_7B.withBatch(16).batch());
        assertEquals(16L * 2048, BenchPreset.LLAVA_7B.withBatch(16).tokensPerStep());
        assertThrows(IllegalArgumentException.class, () -> BenchPreset.BASE.withBatch(0));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> BenchPreset.named("huge"));
        assertEquals("unknown preset 'huge' (tiny, small, base or llava-7b)", e.getMessage());
    }

    /** Weights of all parts; gradients and two AdamW moments of the projector (pretrain) or projector + LLM (finetune); float32. */
    @Test
    void memoryEstimateCountsWeightsGradientsAndAdamWStateOfTheTrainedParts() {
        long all = CLIP_L14_336 + 20_979_712L + LLAMA_7B;
        MemoryEstimate pre = StepBenchmark.memoryEstimate(options(BenchPreset.LLAVA_7B, Stage.PRETRAIN, Device.CPU));
        assertEquals(4 * all, pre.weightBytes());
        assertEquals(4 * 20_979_712L, pre.gradientBytes());
        assertEquals(8 * 20_979_712L, pre.optimizerBytes());
        MemoryEstimate fine = StepBenchmark.memoryEstimate(options(BenchPreset.LLAVA_7B, Stage.FINETUNE, Device.CPU));
        assertEquals(4 * (20_979_712L + LLAMA_7B), fine.gradientBytes());
        assertEquals(16 * all - 12 * CLIP_L14_336, fine.totalBytes());

        MemoryEstimate.InsufficientMemoryException refused = assertThrows(MemoryEstimate.InsufficientMemoryException.class,
                () -> fine.check(List.of(new MemoryLimit("memory of a 80 GiB card", 80L << 30))));
        assertEquals("not enough memory for this run: it needs at least 101.85 GiB (weights 26.31 GiB, gradients 25.18 GiB, adamw state"
                + " 50.36 GiB; activations not counted) but the memory of a 80 GiB card leaves 80.00 GiB", refused.getMessage());
    }

    /** On a device with too little memory (an emulated 64 MiB card) the preset is refused before anything is built. */
    @Test
    void aPresetThatDoesNotFitIsRefusedInOneLineBeforeAnythingIsAllocated() {
        Backends.register(HostCudaApi.provider("emusmall", 64L << 20));
        StepBenchmark.Options o = options(BenchPreset.SMALL, Stage.FINETUNE, new Device("emusmall", 0));
        MemoryEstimate.InsufficientMemoryException e = assertThrows(MemoryEstimate.InsufficientMemoryException.class, () -> new StepBenchmark(o));
        assertTrue(e.getMessage().startsWith("not enough memory for this run: it needs at least ") && e.getMessage().contains("emusmall:0"),
                e.getMessage());
        assertTrue(!e.getMessage().contains("\n"));
    }

    @Test
    void bf16IsRefusedOnTheCpuAndOnTheCudaBackend() {
        StepBenchmark.Options cpu = new StepBenchmark.Options(StepBenchmarkTest.MICRO, Objective.VDEP, Stage.PRETRAIN, 0, 1, 0, 0, Device.CPU,
                Precision.BF16, io.github.vdep.core.llava.Recompute.NONE, 0);
        assertThrows(PrecisionUnsupportedException.class, () -> new StepBenchmark(cpu));
        Backends.register(HostCudaApi.provider("emubf16", 64L << 20));
        StepBenchmark.Options cuda = new StepBenchmark.Options(StepBenchmarkTest.MICRO, Objective.VDEP, Stage.PRETRAIN, 0, 1, 0, 0,
                new Device("emubf16", 0), Precision.BF16, io.github.vdep.core.llava.Recompute.NONE, 0);
        PrecisionUnsupportedException e = assertThrows(PrecisionUnsupportedException.class, () -> new StepBenchmark(cuda));
        assertEquals("--precision bf16 on emubf16:0: the CUDA BF16 kernels are not built yet; pass --precision fp32", e.getMessage());
        assertEquals("fp32", StepBenchmark.run(new StepBenchmark.Options(StepBenchmarkTest.MICRO, Objective.VDEP, Stage.PRETRAIN, 0, 1, 0, 0))
                .toMap().get("precision"));
    }

    static StepBenchmark.Options options(BenchPreset p, Stage stage, Device device) {
        return new StepBenchmark.Options(p, Objective.VDEP, stage, 0, 1, 0, 0, device);
    }
}
