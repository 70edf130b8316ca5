package io.github.vdep.train.trainer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.vdep.core.autograd.Parameter;
import io.github.vdep.core.autograd.Tape;
import io.github.vdep.core.backend.Backends;
import io.github.vdep.core.cuda.HostCudaApi;
import io.github.vdep.core.device.Device;
import io.github.vdep.core.llava.LlavaModel;
import io.github.vdep.core.llava.LlavaOutput;
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
 * The training loss with the LM head and cross-entropy in chunks of 3 supervised rows against all
 * logits at once, on the tiny LLaVA: the loss and every gradient agree to float32 rounding (the
 * chunk losses and the head weight's gradient are sums split by chunk), on the CPU with either
 * kernels and on the emulated CUDA backend.
 */
class ChunkedLmHeadTest {

    private static Map<String, INDArray> step(LlavaModel model, HybridLoss loss, BatchMode mode) {
        Batch batch = GoldenFixture.batch(0);
        model.zeroGrad();
        Map<String, INDArray> out = new LinkedHashMap<>();
        try (Tape tape = Tape.record(true)) {
            LlavaOutput o = model.forward(batch.inputs(), loss.decodeOptions(), false);
            LossResult r = loss.compute(o, model.languageModel(), batch.labels(), batch.imageSample(), mode, 0.5, false);
            out.put("(loss)", org.nd4j.linalg.factory.Nd4j.scalar(r.total().item()));
            tape.backward(r.total());
        }
        for (Map.Entry<String, Parameter> e : model.namedParameters().entrySet()) {
            Parameter p = e.getValue();
            if (p.hasGrad()) {
                out.put(e.getKey(), (p.onCpu() ? p.grad() : Backends.device(p.device()).download(p.deviceGrad())).dup());
            }
        }
        model.zeroGrad();
        return out;
    }

    private static void assertChunkedMatches(LlavaModel model, String what) {
        for (BatchMode mode : new BatchMode[] {BatchMode.vdep(2), BatchMode.llava(2)}) {
            Map<String, INDArray> full = step(model, new HybridLoss(ImageLossConfig.DEFAULT, 0), mode);
            Map<String, INDArray> chunked = step(model, new HybridLoss(ImageLossConfig.DEFAULT, 3), mode);
            String where = what + (mode.anyVdep() ? ", VDEP" : ", LLaVA");
            assertEquals(full.keySet(), chunked.keySet(), where);
            double l = full.get("(loss)").getDouble(0);
            assertEquals(l, chunked.get("(loss)").getDouble(0), 1e-6 * l, where + ": loss");
            for (String name : full.keySet()) {
                INDArray a = full.get(name);
                INDArray b = chunked.get(name);
                double scale = a.norm2Number().doubleValue();
                double err = a.sub(b).norm2Number().doubleValue();
                // float32 summation tolerance; the absolute floor covers gradients that are exactly zero
                // in exact arithmetic (attention key biases), whose float values are rounding noise
                assertTrue(err <= 1e-5 * scale + 1e-6, where + ": " + name + ": L2 error " + err + " against norm " + scale);
            }
            assertTrue(full.containsKey("language_model.lm_head.weight"), where);
        }
    }

    @Test
    void chunkedHeadMatchesAllLogitsOnTheCpu() {
        for (boolean nativeKernels : new boolean[] {true, false}) {
            boolean before = NativeKernels.setEnabled(nativeKernels);
            try {
                assertChunkedMatches(GoldenFixture.model(), nativeKernels ? "native kernels" : "ND4J");
            } finally {
                NativeKernels.setEnabled(before);
            }
        }
    }

    @Test
    void chunkedHeadMatchesAllLogitsOnTheEmulatedCudaBackend() {
        Backends.register(HostCudaApi.provider("emu", 256L << 20));
        LlavaModel model = GoldenFixture.model();
        model.to(new Device("emu", 0));
        assertChunkedMatches(model, "emulated CUDA");
    }
}
