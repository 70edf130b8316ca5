package io.github.vdep.core.ops;

import io.github.vdep.core.autograd.Tensor;
import io.github.vdep.core.backend.Backends;
import java.util.function.Consumer;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The differentiable primitives (like {@code torch.nn.functional}). Each has a hand-written
 * backward, checked against finite differences in double precision. They work in the dtype of
 * their inputs; outputs are contiguous row-major arrays.
 *
 * <p>Each is the single dispatch point of its operation: it takes the backend of its inputs'
 * device ({@link Backends#of}, the CPU one for ND4J arrays) and fails in one line, naming the
 * primitive and the devices, if the inputs are on different devices.
 */
public final class F {
    /** Label value that the cross-entropy ignores (Hugging Face's convention). */
    public static final int IGNORE_INDEX = -100;

    private F() {
    }

    /**
     * Whether attention, cross-entropy, SwiGLU, quick-GELU and rotary embedding run on vdep's
     * native CPU kernels in this process (built with the jar on Linux x86-64, see
     * docs/performance.md); otherwise they use ND4J operations. For reports only: the choice is
     * made inside each primitive, never by its callers.
     */
    public static boolean nativeKernels() {
        return NativeKernels.active();
    }

    /** y = x W^T + b; x [..., in], w [out, in], b [out] or null. */
    public static Tensor linear(Tensor x, Tensor w, Tensor b) {
        return Backends.of("linear", x, w, b).linear(x, w, b);
    }

    /** Rows of {@code table} [V, C] for integer {@code ids} of any shape: [...ids, C]. */
    public static Tensor embedding(Tensor table, INDArray ids) {
        return Backends.of("embedding", table).embedding(table, ids);
    }

    /** Root-mean-square norm over the last dimension with weight [C]. */
    public static Tensor rmsNorm(Tensor x, Tensor weight, double eps) {
        return Backends.of("rmsNorm", x, weight).rmsNorm(x, weight, eps);
    }

    /** Layer norm over the last dimension with weight and bias [C]. */
    public static Tensor layerNorm(Tensor x, Tensor weight, Tensor bias, double eps) {
        return Backends.of("layerNorm", x, weight, bias).layerNorm(x, weight, bias, eps);
    }

    /** Rotary embedding of x [B, heads, T, headDim] with tables [T, headDim] (rotate-half). */
    public static Tensor rope(Tensor x, RopeTables tables) {
        return Backends.of("rope", x).rope(x, tables);
    }

    /**
     * Rotary embedding of token-major x [B, T, heads, headDim] (a projection's output reshaped,
     * no head transpose) with tables [T, headDim].
     */
    public static Tensor ropeTokenMajor(Tensor x, RopeTables tables) {
        return Backends.of("ropeTokenMajor", x).ropeTokenMajor(x, tables);
    }

    /**
     * {@link #attention(Tensor, Tensor, Tensor, boolean, INDArray, double, Consumer)} on
     * token-major arrays, the projections' own layout: q [B, T, H, d], k and v [B, S, Hkv, d],
     * result [B, T, H, d] (reshape it to [B, T, H * d] for the output projection). With the
     * native kernels this needs no head transposes; the probabilities handed to {@code probs}
     * are [B, H, T, S] as in the heads-major form.
     */
    public static Tensor attentionTokenMajor(Tensor q, Tensor k, Tensor v, boolean causal, INDArray keyMask, double scale, Consumer<INDArray> probs) {
        return Backends.of("attentionTokenMajor", q, k, v).attentionTokenMajor(q, k, v, causal, keyMask, scale, probs);
    }

    /**
     * Multi-head attention softmax(q k^T * scale + mask) v with grouped KV heads.
     *
     * @param q [B, H, T, d]
     * @param k [B, Hkv, S, d] (H a multiple of Hkv; S >= T, queries being the last T positions)
     * @param v [B, Hkv, S, d]
     * @param causal whether query t may only see keys at positions <= t
     * @param keyMask null, or [B, S] with 0 at padding keys
     */
    public static Tensor attention(Tensor q, Tensor k, Tensor v, boolean causal, INDArray keyMask, double scale) {
        return Backends.of("attention", q, k, v).attention(q, k, v, causal, keyMask, scale, null);
    }

    /** As {@link #attention(Tensor, Tensor, Tensor, boolean, INDArray, double)}, also handing the probabilities [B, H, T, S] to {@code probs}. */
    public static Tensor attention(Tensor q, Tensor k, Tensor v, boolean causal, INDArray keyMask, double scale, Consumer<INDArray> probs) {
        return Backends.of("attention", q, k, v).attention(q, k, v, causal, keyMask, scale, probs);
    }

    /** Exact (erf) GELU. */
    public static Tensor gelu(Tensor x) {
        return Backends.of("gelu", x).gelu(x);
    }

    /** x * sigmoid(1.702 x), CLIP's activation. */
    public static Tensor quickGelu(Tensor x) {
        return Backends.of("quickGelu", x).quickGelu(x);
    }

    /** x * sigmoid(x). */
    public static Tensor silu(Tensor x) {
        return Backends.of("silu", x).silu(x);
    }

    /** silu(gate) * up, LLaMA's MLP gate, as one primitive. */
    public static Tensor swiglu(Tensor gate, Tensor up) {
        return Backends.of("swiglu", gate, up).swiglu(gate, up);
    }

    /** a + b, b broadcast to a's shape if needed. */
    public static Tensor add(Tensor a, Tensor b) {
        return Backends.of("add", a, b).add(a, b);
    }

    /** Elementwise product of equal shapes. */
    public static Tensor mul(Tensor a, Tensor b) {
        return Backends.of("mul", a, b).mul(a, b);
    }

    /** s * x. */
    public static Tensor scale(Tensor x, double s) {
        return Backends.of("scale", x).scale(x, s);
    }

    /** Sum of all elements, shape [1]. */
    public static Tensor sum(Tensor x) {
        return Backends.of("sum", x).sum(x);
    }

    /** Reshape (one dimension may be -1). */
    public static Tensor reshape(Tensor x, long... shape) {
        return Backends.of("reshape", x).reshape(x, shape);
    }

    /** Permutes dimensions (materialised row-major). */
    public static Tensor permute(Tensor x, int... dims) {
        return Backends.of("permute", x).permute(x, dims);
    }

    /** x[from:to] along axis (negative axes count from the end). */
    public static Tensor slice(Tensor x, int axis, long from, long to) {
        return Backends.of("slice", x).slice(x, axis, from, to);
    }

    /** Concatenation along axis. */
    public static Tensor concat(int axis, Tensor... xs) {
        return Backends.of("concat", xs).concat(axis, xs);
    }

    /** Rows {@code rows} of a matrix [N, C]: [rows.length, C]. */
    public static Tensor gatherRows(Tensor x, int[] rows) {
        return Backends.of("gatherRows", x).gatherRows(x, rows);
    }

    /** A copy of {@code base} [N, C] whose rows {@code rows[i]} are {@code src[i]}. */
    public static Tensor replaceRows(Tensor base, int[] rows, Tensor src) {
        return Backends.of("replaceRows", base, src).replaceRows(base, rows, src);
    }

    /** The same value with no gradient path (PyTorch's {@code detach}). */
    public static Tensor detach(Tensor x) {
        return Backends.of("detach", x).detach(x);
    }

    /** Mean cross-entropy over rows whose target is not {@link #IGNORE_INDEX}. */
    public static Tensor crossEntropy(Tensor logits, int[] targets) {
        return Backends.of("crossEntropy", logits).crossEntropy(logits, targets, IGNORE_INDEX, 0);
    }

    /**
     * Cross-entropy summed over supervised rows and divided by {@code normalizer} (e.g. the
     * supervised-token count of a whole accumulated batch); {@code normalizer <= 0} means the count.
     */
    public static Tensor crossEntropy(Tensor logits, int[] targets, int ignoreIndex, double normalizer) {
        return Backends.of("crossEntropy", logits).crossEntropy(logits, targets, ignoreIndex, normalizer);
    }

    /** Mean squared error (scalar). */
    public static Tensor mse(Tensor pred, Tensor target) {
        return RegressionLoss.MSE.apply(pred, target);
    }
}
