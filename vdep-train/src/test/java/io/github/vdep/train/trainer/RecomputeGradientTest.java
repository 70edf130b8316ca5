package io.github.vdep.train.trainer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.vdep.core.autograd.Parameter;
import io.github.vdep.core.autograd.Tape;
import io.github.vdep.core.backend.Backends;
import io.github.vdep.core.cuda.HostCudaApi;
import io.github.vdep.core.device.Device;
import io.github.vdep.core.llava.LlavaModel;
import io.github.vdep.core.llava.LlavaOutput;
import io.github.vdep.core.llava.Recompute;
import io.github.vdep.core.ops.NativeKernels;
import io.github.vdep.train.data.Batch;
import io.github.vdep.train.loss.BatchMode;
import io.github.vdep.train.loss.HybridLoss;
import io.github.vdep.train.loss.ImageLossConfig;
import io.github.vdep.train.loss.LossResult;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * {@code --recompute layers} (every LLaMA decoder layer and CLIP encoder layer recomputed in the
 * backward pass) gives bit-identical FP32 losses and gradients to keeping all activations, on the
 * tiny LLaVA, in VDEP and LLaVA mode, with the native kernels and with the ND4J path, and on the
 * emulated CUDA backend.
 */
class RecomputeGradientTest {
    /**
     * Parameters that get a gradient when everything trains: all but the vision tower's last layer
     * and post-layernorm, which LLaVA's feature layer -2 does not use.
     */
    private static final int ALL = 62;

    /** Loss value and every parameter gradient of one training micro-step, as the Trainer runs it. */
    private static Map<String, float[]> step(LlavaModel model, Recompute recompute, BatchMode mode, HybridLoss loss) {
        return step(model, recompute, mode, loss, new int[1]);
    }

    private static Map<String, float[]> step(LlavaModel model, Recompute recompute, BatchMode mode, HybridLoss loss, int[] tapeSize) {
        Batch batch = GoldenFixture.batch(0);
        model.setRecompute(recompute);
        model.zeroGrad();
        Map<String, float[]> out = new LinkedHashMap<>();
        try (Tape tape = Tape.record(true)) {
            LlavaOutput o = model.forward(batch.inputs(), loss.decodeOptions(), false);
            LossResult r = loss.compute(o, model.languageModel(), batch.labels(), batch.imageSample(), mode, 0.5, false);
            out.put("(loss)", new float[] {(float) r.total().item()});
            tapeSize[0] = tape.size();
            tape.backward(r.total());
        }
        for (Map.Entry<String, Parameter> e : model.namedParameters().entrySet()) {
            Parameter p = e.getValue();
            if (!p.hasGrad()) {
                continue;
            }
            INDArray g = p.onCpu() ? p.grad() : Backends.device(p.device()).download(p.deviceGrad());
            out.put(e.getKey(), g.dup('c').reshape(g.length()).toFloatVector());
        }
        model.zeroGrad();
        model.setRecompute(Recompute.NONE);
        return out;
    }

    private static void assertBitIdentical(LlavaModel model, BatchMode mode, HybridLoss loss, String what, int expectedGradients) {
        int[] plainSteps = new int[1];
        int[] recomputedSteps = new int[1];
        Map<String, float[]> plain = step(model, Recompute.NONE, mode, loss, plainSteps);
        Map<String, float[]> recomputed = step(model, Recompute.LAYERS, mode, loss, recomputedSteps);
        // each recomputed layer is one step on the tape instead of its primitives
        assertTrue(recomputedSteps[0] < plainSteps[0] - 20, what + ": " + recomputedSteps[0] + " recorded steps with recomputation, "
                + plainSteps[0] + " without");
        assertEquals(plain.keySet(), recomputed.keySet(), what);
        assertEquals(expectedGradients, plain.size() - 1, what + ": parameters with a gradient");
        if (expectedGradients == ALL) {
            assertTrue(plain.containsKey("vision_tower.vision_model.encoder.layers.0.self_attn.q_proj.weight"), what + ": CLIP layers train");
        }
        for (String name : plain.keySet()) {
            // assertArrayEquals on float[] compares bit patterns
            assertArrayEquals(plain.get(name), recomputed.get(name), what + ": " + name);
        }
    }

    @Test
    void everyGradientIsBitIdenticalOnTheCpu() {
        for (boolean nativeKernels : new boolean[] {true, false}) {
            boolean before = NativeKernels.setEnabled(nativeKernels);
            try {
                String path = nativeKernels ? "native kernels" : "ND4J";
                LlavaModel model = GoldenFixture.model();
                        HybridLoss loss = new HybridLoss(ImageLossConfig.DEFAULT);
                assertBitIdentical(model, BatchMode.vdep(2), loss, "VDEP, " + path, ALL);
                assertBitIdentical(model, BatchMode.llava(2), loss, "LLaVA, " + path, ALL);
                // the image loss on block 1's output: a layer's input is also read outside it
                HybridLoss hidden = new HybridLoss(new ImageLossConfig(ImageLossConfig.DEFAULT.distance(), true, 1, true));
                assertBitIdentical(model, BatchMode.vdep(2), hidden, "VDEP at block 1, " + path, ALL);
                // with the LM head and cross-entropy in chunks of 3 rows as well
                assertBitIdentical(model, BatchMode.vdep(2), new HybridLoss(ImageLossConfig.DEFAULT, 3), "VDEP, chunked head, " + path, ALL);
                // stage 1: only the projector trains; the gradient passes through the recomputed frozen LLM layers
                TrainableSelector.apply(model, Stage.PRETRAIN.patterns());
                assertBitIdentical(model, BatchMode.vdep(2), loss, "VDEP, projector only, " + path, 4);
            } finally {
                NativeKernels.setEnabled(before);
            }
        }
    }

    /** Two Trainer steps (VDEP then LLaVA mode, AdamW, clipping) with {@code TrainConfig.recompute}: the same metrics and weights, bit for bit. */
    @Test
    void trainerStepsWithRecomputationGiveTheSameWeights(@org.junit.jupiter.api.io.TempDir java.nio.file.Path out) throws Exception {
        Map<String, float[]> plain = new LinkedHashMap<>();
        Map<String, float[]> recomputed = new LinkedHashMap<>();
        java.util.List<StepMetrics> plainSteps = train(Recompute.NONE, out.resolve("none"), plain);
        java.util.List<StepMetrics> recomputedSteps = train(Recompute.LAYERS, out.resolve("layers"), recomputed);
        for (int i = 0; i < 2; i++) {
            assertEquals(plainSteps.get(i).loss(), recomputedSteps.get(i).loss(), 0.0, "loss, step " + (i + 1));
            assertEquals(plainSteps.get(i).gradNorm(), recomputedSteps.get(i).gradNorm(), 0.0, "gradient norm, step " + (i + 1));
        }
        assertEquals(plain.keySet(), recomputed.keySet());
        for (String name : plain.keySet()) {
            assertArrayEquals(plain.get(name), recomputed.get(name), name);
        }
        // metrics.jsonl reports each step's peak memory (the process's resident set on the CPU)
        com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
        java.util.List<String> lines = java.nio.file.Files.readAllLines(out.resolve("layers/metrics.jsonl"));
        assertEquals(2, lines.size());
        for (String line : lines) {
            com.fasterxml.jackson.databind.JsonNode m = json.readTree(line);
            if (System.getProperty("os.name").startsWith("Linux")) {
                assertEquals("process_rss", m.path("memory_measure").asText(), line);
                long peak = m.path("peak_memory_bytes").asLong(-1);
                assertTrue(peak > 32L << 20 && peak < 1L << 40, "peak_memory_bytes " + peak);
            }
        }
        assertEquals(plainSteps.get(1).memory().measure(), recomputedSteps.get(1).memory().measure());
    }

    private static java.util.List<StepMetrics> train(Recompute recompute, java.nio.file.Path out, Map<String, float[]> weights) throws Exception {
        LlavaModel model = GoldenFixture.model();
        TrainConfig.Builder b = TrainConfig.defaults(Stage.FINETUNE, 2, out).toBuilder();
        b.lr = 1e-3;
        b.batchSize = 2;
        b.recompute = recompute;
        java.util.List<StepMetrics> steps = new java.util.ArrayList<>();
        new Trainer(model, b.build(), GoldenFixture.repeating(), new TrainingListener() {
            @Override
            public void onStep(StepMetrics m) {
                steps.add(m);
            }
        }).run();
        model.namedParameters().forEach((name, p) -> weights.put(name, p.value().dup('c').reshape(p.value().length()).toFloatVector()));
        return steps;
    }

    @Test
    void everyGradientIsBitIdenticalOnTheEmulatedCudaBackend() {
        Backends.register(HostCudaApi.provider("emu", 256L << 20));
        LlavaModel model = GoldenFixture.model();
        model.to(new Device("emu", 0));
        HybridLoss loss = new HybridLoss(ImageLossConfig.DEFAULT);
        assertBitIdentical(model, BatchMode.vdep(2), loss, "VDEP, emulated CUDA", ALL);
        assertBitIdentical(model, BatchMode.llava(2), loss, "LLaVA, emulated CUDA", ALL);
    }
}
