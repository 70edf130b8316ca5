package io.github.vdep.core.ops;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Cos/sin tables for rotary embeddings, computed the way Hugging Face's LlamaRotaryEmbedding does
 * (inverse frequencies and angles rounded to float32, then cos/sin), so long positions agree with
 * PyTorch to float32 rounding rather than drifting.
 *
 * @param cos [length, headDim]
 * @param sin [length, headDim]
 */
public record RopeTables(INDArray cos, INDArray sin) {

    /** Tables for positions {@code offset .. offset + length - 1}. */
    public static RopeTables compute(int headDim, double theta, int offset, int length, DataType dtype) {
        int half = headDim / 2;
        float[] invFreq = new float[half];
        for (int i = 0; i < half; i++) {
            float exponent = (float) (2 * i) / headDim;
            invFreq[i] = (float) (1.0 / (float) Math.pow(theta, exponent));
        }
        double[] cos = new double[length * headDim];
        double[] sin = new double[length * headDim];
        for (int t = 0; t < length; t++) {
            for (int i = 0; i < half; i++) {
                float angle = (float) (offset + t) * invFreq[i];
                double c = Math.cos(angle);
                double s = Math.sin(angle);
                int base = t * headDim;
                cos[base + i] = c;
                cos[base + half + i] = c;
                sin[base + i] = s;
                sin[base + half + i] = s;
            }
        }
        return new RopeTables(Nd4j.createFromArray(cos).reshape(length, headDim).castTo(dtype),
                Nd4j.createFromArray(sin).reshape(length, headDim).castTo(dtype));
    }
}
