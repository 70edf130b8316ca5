package io.github.vdep.core.ops;

import io.github.vdep.core.autograd.Buffers;
import io.github.vdep.core.autograd.Tape;
import io.github.vdep.core.autograd.Tensor;
import java.util.function.Consumer;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.transforms.custom.SoftMax;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Scaled dot-product multi-head attention with grouped KV heads, causal and/or key-padding
 * masks. Grouped-query attention needs no copies of K and V: the query heads of one KV group are
 * folded into the row dimension ([B, kvHeads, rep * T, d]), so one batched matmul serves them all.
 * With the native kernels, training (no probabilities sink) is FlashAttention-2 and never holds the
 * [B, H, T, S] probabilities; the sink and this ND4J fallback materialise them.
 */
final class AttentionOp {
    /** Added to masked logits; exp underflows to exactly 0 in float32 and float64. */
    static final double MASKED = -1e9;

    private AttentionOp() {
    }

    /**
     * @param q [B, H, T, d]
     * @param k [B, Hkv, S, d], S >= T; with S > T the queries are the last T positions (KV cache)
     * @param v [B, Hkv, S, d]
     * @param keyMask null, or [B, S] with 1 for real keys and 0 for padding
     * @param probsSink null, or receives the attention probabilities [B, H, T, S]
     */
    static Tensor apply(Tensor q, Tensor k, Tensor v, boolean causal, INDArray keyMask, double scale, Consumer<INDArray> probsSink) {
        requireShapes(q, k, v, keyMask, false);
        long b = q.size(0), h = q.size(1), t = q.size(2), d = q.size(3);
        long hkv = k.size(1), s = k.size(2);
        long rep = h / hkv;
        long m = rep * t;
        if (NativeKernels.usable(q.value(), k.value(), v.value())) {
            return applyNative(q, k, v, causal, keyMask, scale, probsSink, (int) rep, false);
        }
        INDArray qg = q.value().reshape('c', b, hkv, m, d);
        INDArray kv = k.value();
        INDArray vv = v.value();
        INDArray scores = Nd4j.matmul(qg, kv, false, true, false);
        scores.muli(scale);
        if (causal || keyMask != null) {
            INDArray mask = mask(causal, keyMask, b, rep, t, s, scores.dataType());
            if (keyMask != null) {
                // masked scores become exactly MASKED rather than MASKED + score: in double the
                // score would survive the addition, and a padded query that sees no key at all
                // would not get the uniform row a finite mask gives in float (and the native kernels give)
                INDArray allowed = mask.eq(0).castTo(scores.dataType());
                scores.muli(allowed);
                Buffers.release(allowed);
            }
            scores.addi(mask);
            if (keyMask != null) {
                Buffers.release(mask); // causal-only masks are cached
            }
        }
        // softmax in place: the scores are not needed afterwards
        INDArray probs2 = scores.reshape('c', b * hkv * m, s);
        if (keyMask != null) {
            // such a row is all MASKED, which ND4J's double softmax turns into NaN: with the row
            // maximum subtracted it is all 0, and uniform
            INDArray rowMax = probs2.max(true, 1);
            probs2.subiColumnVector(rowMax);
            Buffers.release(rowMax);
        }
        Nd4j.exec(new SoftMax(probs2, probs2, 1));
        INDArray probs = scores;
        if (probsSink != null) {
            probsSink.accept(probs.reshape('c', b, h, t, s));
        }
        INDArray y = Nd4j.matmul(probs, vv).reshape('c', b, h, t, d);
        boolean keepProbs = probsSink != null;
        if (!Tape.needsGrad(q, k, v)) {
            if (!keepProbs) {
                Buffers.release(probs);
            }
            return Tape.constantOwned(y);
        }
        return Tape.opOwned(y, g -> {
            INDArray gg = g.reshape('c', b, hkv, m, d);
            if (v.requiresGrad()) {
                v.accumulateGradOwned(Nd4j.matmul(probs, gg, true, false, false));
            }
            if (q.requiresGrad() || k.requiresGrad()) {
                INDArray dp = Nd4j.matmul(gg, vv, false, true, false);
                INDArray dp2 = dp.reshape('c', b * hkv * m, s);
                INDArray prod = dp2.mul(probs2);
                INDArray rowDot = prod.sum(true, 1);
                Buffers.release(prod);
                INDArray ds = dp2.subiColumnVector(rowDot).muli(probs2).muli(scale).reshape('c', b, hkv, m, s);
                Buffers.release(rowDot);
                if (!keepProbs) {
                    Buffers.release(probs);
                }
                if (q.requiresGrad()) {
                    q.accumulateGradOwned(Nd4j.matmul(ds, kv).reshape('c', b, h, t, d));
                }
                if (k.requiresGrad()) {
                    k.accumulateGradOwned(Nd4j.matmul(ds, qg, true, false, false));
                }
                Buffers.release(dp);
            } else if (!keepProbs) {
                Buffers.release(probs);
            }
        }, q, k, v);
    }

    /**
     * The same attention on token-major arrays, the projections' own layout: q [B, T, H, d], k and
     * v [B, S, Hkv, d], result [B, T, H, d]. Natively no head transposes are needed at all;
     * otherwise the heads are transposed around {@link #apply}.
     */
    static Tensor applyTokenMajor(Tensor q, Tensor k, Tensor v, boolean causal, INDArray keyMask, double scale, Consumer<INDArray> probsSink) {
        requireShapes(q, k, v, keyMask, true);
        if (NativeKernels.usable(q.value(), k.value(), v.value())) {
            return applyNative(q, k, v, causal, keyMask, scale, probsSink, (int) (q.size(2) / k.size(2)), true);
        }
        Tensor y = apply(ShapeOps.permute(q, 0, 2, 1, 3), ShapeOps.permute(k, 0, 2, 1, 3), ShapeOps.permute(v, 0, 2, 1, 3), causal, keyMask,
                scale, probsSink);
        return ShapeOps.permute(y, 0, 2, 1, 3);
    }

    /** q, k, v rank 4 fitting each other (heads on axis 1, or 2 when token-major), keyMask [B, S] or null. */
    private static void requireShapes(Tensor q, Tensor k, Tensor v, INDArray keyMask, boolean tokenMajor) {
        int headAxis = tokenMajor ? 2 : 1;
        int seqAxis = tokenMajor ? 1 : 2;
        Shapes.require(q.rank() == 4 && k.rank() == 4 && v.rank() == 4,
                () -> "attention: q, k, v must be " + (tokenMajor ? "[B, T, heads, headDim]" : "[B, heads, T, headDim]"));
        long b = q.size(0), h = q.size(headAxis), t = q.size(seqAxis), d = q.size(3);
        long hkv = k.size(headAxis), s = k.size(seqAxis);
        Shapes.require(k.size(0) == b && k.size(3) == d && java.util.Arrays.equals(k.shape(), v.shape()),
                () -> "attention: q " + Shapes.str(q.shape()) + ", k " + Shapes.str(k.shape()) + ", v " + Shapes.str(v.shape()) + " do not fit");
        Shapes.require(hkv > 0 && h % hkv == 0, () -> "attention: " + h + " query heads are not a multiple of " + hkv + " KV heads");
        Shapes.require(s >= t, () -> "attention: fewer keys (" + s + ") than queries (" + t + ")");
        Shapes.require(keyMask == null || (keyMask.rank() == 2 && keyMask.size(0) == b && keyMask.size(1) == s),
                () -> "attention: key mask must be [B, S] = [" + b + ", " + s + "]");
    }

    /**
     * Probabilities [B, H, T, S] of at least this many bytes go through FlashAttention-2; smaller
     * ones through the materialising kernels, which are faster there (tiny preset, 2-core EPYC:
     * median step 287 ms materialising against 325 ms flash) and hold little memory. At 32 MiB
     * (T = 512, 32 heads) the two took the same time; from T = 2048 flash is faster
     * (docs/performance.md, "Attention memory").
     */
    static final long FLASH_MIN_PROBABILITY_BYTES = 16L << 20;

    /**
     * The same computation as one native call per direction (see {@link NativeKernels}). Without a
     * probabilities sink, and with probabilities of at least {@link #FLASH_MIN_PROBABILITY_BYTES},
     * it is FlashAttention-2 ({@link #applyFlash}); otherwise the path that materialises them (the
     * sink, for attention maps, needs them).
     */
    private static Tensor applyNative(Tensor q, Tensor k, Tensor v, boolean causal, INDArray keyMask, double scale,
                                      Consumer<INDArray> probsSink, int rep, boolean tokenMajor) {
        long probabilityBytes = q.size(0) * q.size(tokenMajor ? 2 : 1) * q.size(tokenMajor ? 1 : 2) * k.size(tokenMajor ? 1 : 2)
                * q.value().dataType().width();
        return probsSink == null && probabilityBytes >= FLASH_MIN_PROBABILITY_BYTES ? applyFlash(q, k, v, causal, keyMask, scale, rep, tokenMajor)
                : applyMaterialised(q, k, v, causal, keyMask, scale, probsSink, rep, tokenMajor);
    }

    /**
     * FlashAttention-2 natively: the forward keeps only the output and each query row's
     * log-sum-exp [B, H, T] for the backward, which recomputes the probabilities block by block,
     * so training holds O(B H T) for attention instead of the O(B H T S) probabilities.
     */
    static Tensor applyFlash(Tensor q, Tensor k, Tensor v, boolean causal, INDArray keyMask, double scale, int rep, boolean tokenMajor) {
        INDArray qv = q.value(), kv = k.value(), vv = v.value();
        int b = (int) q.size(0), d = (int) q.size(3);
        int h = (int) q.size(tokenMajor ? 2 : 1), t = (int) q.size(tokenMajor ? 1 : 2);
        int hkv = (int) k.size(tokenMajor ? 2 : 1), s = (int) k.size(tokenMajor ? 1 : 2);
        org.nd4j.linalg.api.buffer.DataType type = qv.dataType();
        INDArray mask = keyMask == null ? null : keyMask.castTo(org.nd4j.linalg.api.buffer.DataType.FLOAT).dup('c');
        INDArray lse = Buffers.allocate(type, b, h, t);
        INDArray y = Buffers.allocate(type, qv.shape());
        NativeKernels.flashAttentionForward(qv, kv, vv, mask, lse, y, b, hkv, rep, t, s, d, causal, scale, tokenMajor);
        if (!Tape.needsGrad(q, k, v)) {
            Buffers.release(lse);
            if (mask != null) {
                mask.close();
            }
            return Tape.constantOwned(y);
        }
        return Tape.opOwned(y, g -> {
            INDArray dq = q.requiresGrad() ? Buffers.allocate(type, qv.shape()) : null;
            INDArray dk = k.requiresGrad() ? Buffers.allocate(type, kv.shape()) : null;
            INDArray dv = v.requiresGrad() ? Buffers.allocate(type, vv.shape()) : null;
            Shapes.withWhole(g, gg -> NativeKernels.flashAttentionBackward(qv, kv, vv, mask, y, lse, gg, dq, dk, dv, b, hkv, rep, t, s, d,
                    causal, scale, tokenMajor));
            Buffers.release(lse);
            if (mask != null) {
                mask.close();
            }
            if (dv != null) {
                v.accumulateGradOwned(dv);
            }
            if (dq != null) {
                q.accumulateGradOwned(dq);
            }
            if (dk != null) {
                k.accumulateGradOwned(dk);
            }
        }, q, k, v);
    }

    /** The native path that materialises the probabilities [B, H, T, S] (for the sink) and keeps them for the backward. */
    static Tensor applyMaterialised(Tensor q, Tensor k, Tensor v, boolean causal, INDArray keyMask, double scale,
                                      Consumer<INDArray> probsSink, int rep, boolean tokenMajor) {
        INDArray qv = q.value(), kv = k.value(), vv = v.value();
        int b = (int) q.size(0), d = (int) q.size(3);
        int h = (int) q.size(tokenMajor ? 2 : 1), t = (int) q.size(tokenMajor ? 1 : 2);
        int hkv = (int) k.size(tokenMajor ? 2 : 1), s = (int) k.size(tokenMajor ? 1 : 2);
        org.nd4j.linalg.api.buffer.DataType type = qv.dataType();
        INDArray mask = keyMask == null ? null : keyMask.castTo(org.nd4j.linalg.api.buffer.DataType.FLOAT).dup('c');
        INDArray probs = Buffers.allocate(type, b, hkv, (long) rep * t, s);
        INDArray y = Buffers.allocate(type, qv.shape());
        boolean band = NativeKernels.causalBand(causal, mask, b, t, s);
        NativeKernels.attentionForward(qv, kv, vv, mask, probs, y, b, hkv, rep, t, s, d, causal, band, scale, tokenMajor);
        if (mask != null) {
            mask.close();
        }
        boolean keepProbs = probsSink != null;
        if (keepProbs) {
            probsSink.accept(probs.reshape('c', b, h, t, s));
        }
        if (!Tape.needsGrad(q, k, v)) {
            if (!keepProbs) {
                Buffers.release(probs);
            }
            return Tape.constantOwned(y);
        }
        return Tape.opOwned(y, g -> {
            INDArray dq = q.requiresGrad() ? Buffers.allocate(type, qv.shape()) : null;
            INDArray dk = k.requiresGrad() ? Buffers.allocate(type, kv.shape()) : null;
            INDArray dv = v.requiresGrad() ? Buffers.allocate(type, vv.shape()) : null;
            Shapes.withWhole(g, gg -> NativeKernels.attentionBackward(qv, kv, vv, probs, gg, dq, dk, dv, b, hkv, rep, t, s, d, band, scale, tokenMajor));
            if (!keepProbs) {
                Buffers.release(probs);
            }
            if (dv != null) {
                v.accumulateGradOwned(dv);
            }
            if (dq != null) {
                q.accumulateGradOwned(dq);
            }
            if (dk != null) {
                k.accumulateGradOwned(dk);
            }
        }, q, k, v);
    }

    /** Causal masks by (rep, T, S, dtype): the same for every layer and step. */
    private static final java.util.Map<String, INDArray> CAUSAL_MASKS = new java.util.concurrent.ConcurrentHashMap<>();

    /** Additive mask [B or 1, 1, rep*T, S]: 0 where a query may attend, MASKED elsewhere. */
    private static INDArray mask(boolean causal, INDArray keyMask, long b, long rep, long t, long s, org.nd4j.linalg.api.buffer.DataType dtype) {
        if (keyMask == null) {
            String key = rep + "x" + t + "x" + s + dtype;
            INDArray cached = CAUSAL_MASKS.get(key);
            if (cached == null) {
                if (CAUSAL_MASKS.size() > 32) {
                    CAUSAL_MASKS.clear(); // bounded: decoding with a growing cache makes one per length
                }
                cached = buildMask(true, null, b, rep, t, s, dtype);
                CAUSAL_MASKS.put(key, cached);
            }
            return cached;
        }
        return buildMask(causal, keyMask, b, rep, t, s, dtype);
    }

    private static INDArray buildMask(boolean causal, INDArray keyMask, long b, long rep, long t, long s, org.nd4j.linalg.api.buffer.DataType dtype) {
        int mb = keyMask == null ? 1 : (int) b;
        int m = (int) (rep * t);
        float[] data = new float[(int) (mb * (long) m * s)];
        long offset = s - t;
        float[] keys = keyMask == null ? null : keyMask.castTo(org.nd4j.linalg.api.buffer.DataType.FLOAT).dup('c').reshape(b * s).toFloatVector();
        for (int bi = 0; bi < mb; bi++) {
            for (int row = 0; row < m; row++) {
                long pos = offset + row % t;
                int base = (int) ((bi * (long) m + row) * s);
                for (int j = 0; j < s; j++) {
                    boolean allowed = (!causal || j <= pos) && (keys == null || keys[(int) (bi * s + j)] != 0f);
                    data[base + j] = allowed ? 0f : (float) MASKED;
                }
            }
        }
        return Nd4j.createFromArray(data).reshape(mb, 1, m, s).castTo(dtype);
    }
}
