package io.github.vdep.core.ops;

import io.github.vdep.core.autograd.Buffers;
import io.github.vdep.core.autograd.Tape;
import io.github.vdep.core.autograd.Tensor;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.INDArrayIndex;

/**
 * Rotary position embedding in Hugging Face's rotate-half convention:
 * y = x cos + rotate_half(x) sin, rotate_half(x) = [-x2, x1] over the two halves of the head dim.
 */
final class RotaryOp {
    private RotaryOp() {
    }

    /** x [B, heads, T, headDim]; cos and sin [T, headDim] (see {@link RopeTables}). */
    static Tensor apply(Tensor x, INDArray cos, INDArray sin) {
        requireTables(x, cos, sin, 2);
        long d = x.size(3);
        INDArray v = x.value();
        if (NativeKernels.usable(v, cos, sin)) {
            return applyNative(x, cos, sin, 1);
        }
        INDArray rotated = rotateHalf(v, d, false).muli(sin);
        INDArray y = v.mul(cos).addi(rotated);
        Buffers.release(rotated);
        return Tape.opOwned(y, g -> {
            INDArray gs = g.mul(sin);
            INDArray back = rotateHalf(gs, d, true);
            Buffers.release(gs);
            x.accumulateGradOwned(g.mul(cos).addi(back));
            Buffers.release(back);
        }, x);
    }

    /** x [B, T, heads, headDim] (token-major, the projection's own layout); cos and sin [T, headDim]. */
    static Tensor applyTokenMajor(Tensor x, INDArray cos, INDArray sin) {
        requireTables(x, cos, sin, 1);
        if (NativeKernels.usable(x.value(), cos, sin)) {
            return applyNative(x, cos, sin, (int) x.size(2));
        }
        return ShapeOps.permute(apply(ShapeOps.permute(x, 0, 2, 1, 3), cos, sin), 0, 2, 1, 3);
    }

    /** x rank 4 with positions along {@code seqAxis}, an even head dim last; cos and sin [T, headDim]. */
    private static void requireTables(Tensor x, INDArray cos, INDArray sin, int seqAxis) {
        Shapes.require(x.rank() == 4 && cos.rank() == 2 && cos.size(0) == x.size(seqAxis) && cos.size(1) == x.size(3)
                && java.util.Arrays.equals(cos.shape(), sin.shape()),
                () -> "rope: input " + Shapes.str(x.shape()) + " needs cos/sin of shape [T, headDim], got " + Shapes.str(cos.shape()));
        Shapes.require(x.size(3) % 2 == 0, () -> "rope: head dim " + x.size(3) + " is odd");
    }

    /** One native pass each way; {@code hp} rows share a position (1 heads-major, H token-major). */
    private static Tensor applyNative(Tensor x, INDArray cos, INDArray sin, int hp) {
        INDArray v = x.value();
        int t = (int) cos.size(0);
        int d = (int) cos.size(1);
        INDArray y = Buffers.allocate(v.dataType(), v.shape());
        NativeKernels.rope(v, cos, sin, y, t, hp, d, false);
        return Tape.opOwned(y, g -> {
            INDArray dx = Buffers.allocate(v.dataType(), v.shape());
            Shapes.withWhole(g, gg -> NativeKernels.rope(gg, cos, sin, dx, t, hp, d, true));
            x.accumulateGradOwned(dx);
        }, x);
    }

    /** [-x2, x1], or its transpose [x2, -x1] for the backward pass. */
    private static INDArray rotateHalf(INDArray x, long d, boolean transpose) {
        INDArrayIndex[] first = ShapeOps.indices(4, 3, 0, d / 2);
        INDArrayIndex[] second = ShapeOps.indices(4, 3, d / 2, d);
        INDArray x1 = x.get(first);
        INDArray x2 = x.get(second);
        INDArray a = transpose ? x2.dup('c') : x2.neg();
        INDArray b = transpose ? x1.neg() : x1.dup('c');
        INDArray out = Nd4j.concat(3, a, b);
        Buffers.release(a, b);
        return out;
    }
}
