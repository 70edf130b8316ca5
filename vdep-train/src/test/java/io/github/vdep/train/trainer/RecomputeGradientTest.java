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
        Batch batch = GoldenFixture.batch(0);
        model.setRecompute(recompute);
        model.zeroGrad();
        Map<String, float[]> out = new LinkedHashMap<>();
        try (Tape tape = Tape.record(true)) {
            LlavaOutput o = model.forward(batch.inputs(), loss.decodeOptions(), false);
            LossResult r = loss.compute(o, model.languageModel(), batch.labels(), batch.imageSample(), mode, 0.5, false);
            out.put("(loss)", new float[] {(float) r.total().item()});
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
        Map<String, float[]> plain = step(model, Recompute.NONE, mode, loss);
        Map<String, float[]> recomputed = step(model, Recompute.LAYERS, mode, loss);
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
