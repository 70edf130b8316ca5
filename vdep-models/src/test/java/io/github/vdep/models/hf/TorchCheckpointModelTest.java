package io.github.vdep.models.hf;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.github.vdep.core.llava.LlavaInputs;
import io.github.vdep.core.llava.LlavaModel;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A LLaVA built from PyTorch {@code .bin} checkpoints (a single-file CLIP and a two-shard F16
 * LLaMA with its index, as Vicuna ships) equals the one built from the same weights in
 * safetensors: every parameter and the logits, exactly.
 */
class TorchCheckpointModelTest {

    static final int IMAGE_TOKEN = 31;

    static LlavaModel build(String clip, String llama) {
        return LlavaCheckpoint.fromVisionAndLanguage(TorchCheckpointFileTest.DIR.resolve("tiny/" + clip),
                TorchCheckpointFileTest.DIR.resolve("tiny/" + llama), "mlp2x_gelu", -2, "default", IMAGE_TOKEN, 3, DataType.FLOAT).model();
    }

    /** One 16x16 image (4 patches) per sample. */
    static LlavaInputs batch() {
        int i = IMAGE_TOKEN;
        long[][] ids = {{1, i, i, i, i, 5, 6, 7}, {1, 3, i, i, i, i, 9, 0}};
        float[][] mask = {{1, 1, 1, 1, 1, 1, 1, 1}, {1, 1, 1, 1, 1, 1, 1, 0}};
        SplittableRandom rng = new SplittableRandom(9);
        float[] pixels = new float[2 * 3 * 16 * 16];
        for (int k = 0; k < pixels.length; k++) {
            pixels[k] = (float) (rng.nextDouble() * 2 - 1);
        }
        return new LlavaInputs(Nd4j.createFromArray(ids), Nd4j.createFromArray(mask), Nd4j.createFromArray(pixels).reshape(2, 3, 16, 16));
    }

    @Test
    void binCheckpointsGiveTheSameModelAsSafetensors() {
        LlavaModel fromBin = build("clip-bin", "llama-bin");
        LlavaModel fromSafetensors = build("clip-st", "llama-st");
        Map<String, ?> names = fromBin.namedParameters();
        assertEquals(fromSafetensors.namedParameters().keySet(), names.keySet());
        fromSafetensors.namedParameters().forEach((name, p) ->
                TensorAssertions.assertSameTensor(p.value(), fromBin.namedParameters().get(name).value()));
        INDArray expected = fromSafetensors.forward(batch()).logits().value();
        INDArray actual = fromBin.forward(batch()).logits().value();
        TensorAssertions.assertSameTensor(expected, actual);
        assertEquals(3, actual.rank());
    }
}
