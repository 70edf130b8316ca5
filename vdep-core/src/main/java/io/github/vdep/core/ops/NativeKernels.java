package io.github.vdep.core.ops;

import java.io.IOException;
import java.io.InputStream;
import java.lang.ref.Reference;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Locale;
import java.util.stream.IntStream;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.event.Level;

/**
 * The native CPU kernels of {@code src/main/native/vdep_kernels.cpp}: attention (causal attention
 * skipping the masked products), cross-entropy, SwiGLU, quick-GELU, rotary embedding, RMSNorm and
 * LayerNorm rows, linear's bias rows and AdamW's update, each one vectorised pass instead of
 * several ND4J calls (see docs/performance.md). The Maven build compiles the library with g++ on Linux
 * x86-64 and puts it in the jar; it is used when it loads, the CPU has AVX2 and FMA, ND4J runs
 * on its CPU backend, and neither {@code -Dvdep.native=false} nor {@code VDEP_NATIVE_KERNELS=0}
 * turns it off. Otherwise every primitive keeps its ND4J implementation.
 *
 * <p>Callers hand over whole row-major arrays ({@link #usable}); the kernels read and write
 * their memory directly. Results do not depend on the thread count: work is split at whole rows,
 * groups or 8-element blocks. The primitives of {@link F} choose these kernels themselves; the
 * public methods are the optimizer's fused update and the switches.
 */
public final class NativeKernels {
    private static final Logger LOG = LoggerFactory.getLogger(NativeKernels.class);
    private static final String RESOURCE = "/native/linux-x86_64/libvdepkernels.so";
    /** Why the kernels are not used (null when they loaded); set once by {@link #load}. */
    private static String unavailableReason;
    private static final boolean AVAILABLE = load();
    private static volatile boolean enabled = AVAILABLE;

    private NativeKernels() {
    }

    /** Whether the library loaded and may be used on this machine. */
    public static boolean available() {
        return AVAILABLE;
    }

    /** Whether the kernels are in use. */
    public static boolean active() {
        return enabled;
    }

    /**
     * One line for {@code vdep info}: {@code loaded}, {@code loaded, turned off}, or
     * {@code not loaded: <why>}, for example the loader's error naming a missing glibc symbol version.
     */
    public static String status() {
        if (AVAILABLE) {
            return enabled ? "loaded" : "loaded, turned off";
        }
        return "not loaded: " + unavailableReason;
    }

    /**
     * Turns the kernels on or off for the whole process (to compare both paths); returns the
     * previous setting. On a machine without the library they stay off.
     */
    public static boolean setEnabled(boolean on) {
        boolean before = enabled;
        enabled = on && AVAILABLE;
        return before;
    }

    /** Whether the kernels are on and can take these arrays: same float or double type, whole, row-major. */
    static boolean usable(INDArray... arrays) {
        return enabled && RowKernels.applies(arrays); // the same condition as the Java row kernels'
    }

    /**
     * Loads the library once per process. A library that should load here and does not is one
     * WARN line with the reason; a choice (turned off, a CPU without AVX2) is INFO, a platform
     * without kernels DEBUG.
     */
    private static boolean load() {
        String off = System.getProperty("vdep.native", System.getenv("VDEP_NATIVE_KERNELS"));
        if (off != null && (off.equals("0") || off.equalsIgnoreCase("false"))) {
            return unavailable(Level.INFO, "turned off by " + (System.getProperty("vdep.native") != null ? "-Dvdep.native=" : "VDEP_NATIVE_KERNELS=") + off);
        }
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        String arch = System.getProperty("os.arch", "");
        if (!os.contains("linux") || !(arch.equals("amd64") || arch.equals("x86_64"))) {
            return unavailable(Level.DEBUG, "built for Linux x86-64 only, this is " + os + " " + arch);
        }
        String backend = Nd4j.getBackend().getClass().getName();
        if (!backend.contains(".cpu.")) {
            return unavailable(Level.DEBUG, "ND4J backend " + backend + " is not the CPU one");
        }
        try (InputStream in = NativeKernels.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                return unavailable(Level.WARN, "not built (no g++ at build time?)");
            }
            Path file = Files.createTempFile("libvdepkernels", ".so");
            file.toFile().deleteOnExit();
            Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
            System.load(file.toAbsolutePath().toString());
            if (!cpuSupported()) {
                return unavailable(Level.INFO, "the CPU lacks AVX2/FMA");
            }
            LOG.debug("native kernels loaded");
            return true;
        } catch (IOException | UnsatisfiedLinkError e) {
            // e.g. "...: /lib64/libm.so.6: version `GLIBC_2.29' not found": one line, no stack trace
            String message = String.valueOf(e.getMessage()).replaceAll("\\s+", " ");
            return unavailable(Level.WARN, "failed to load: " + message);
        }
    }

    private static boolean unavailable(Level level, String reason) {
        unavailableReason = reason;
        LOG.atLevel(level).log("native kernels not used: {}; using ND4J's{}", reason, level == Level.WARN ? " (slower)" : "");
        return false;
    }

    private static int code(INDArray a) {
        return a.dataType() == DataType.FLOAT ? 0 : 1;
    }

    private static long addr(INDArray a) {
        return a == null ? 0L : a.data().address();
    }

    /** Threads for work of {@code units} pieces of which each task should get at least {@code minPerTask}. */
    private static int tasks(long units, long minPerTask) {
        int threads = Math.max(1, Math.min(Nd4j.getEnvironment().maxThreads(), Runtime.getRuntime().availableProcessors()));
        return (int) Math.max(1, Math.min(threads, units / Math.max(1, minPerTask)));
    }

    /** Runs body over [0, units) split into {@code tasks} contiguous ranges. */
    private static void forRanges(long units, int tasks, RangeBody body) {
        if (tasks == 1) {
            body.run(0, units);
            return;
        }
        IntStream.range(0, tasks).parallel().forEach(t -> body.run(units * t / tasks, units * (t + 1) / tasks));
    }

    @FunctionalInterface
    private interface RangeBody {
        void run(long from, long to);
    }

    // ---------------------------------------------------------------- attention

    /**
     * q [B, H, T, d] (H = Hkv * rep), k and v [B, Hkv, S, d], keyMask null or float [B, S];
     * writes probs [B, Hkv, rep * T, S] and y [B, H, T, d]. With {@code tokenMajor} q, y are
     * [B, T, H, d] and k, v [B, S, Hkv, d] instead (probs keep their layout). {@code band}
     * (causal, and every query sees at least one key: {@link #causalBand}) skips the products the
     * causal mask makes zero, about half of them; the results are the same.
     */
    static void attentionForward(INDArray q, INDArray k, INDArray v, INDArray keyMask, INDArray probs, INDArray y,
                                 int b, int hkv, int rep, int t, int s, int d, boolean causal, boolean band, double scale, boolean tokenMajor) {
        int groups = b * hkv;
        forRanges(groups, tasks(groups, 1), (g0, g1) -> attentionForward(code(q), addr(q), addr(k), addr(v), addr(keyMask),
                addr(probs), addr(y), b, hkv, rep, t, s, d, causal, band, scale, tokenMajor, (int) g0, (int) g1));
        Reference.reachabilityFence(new Object[] {q, k, v, keyMask, probs, y});
    }

    /**
     * Whether causal attention of T queries over S keys may skip the masked products: every query
     * row then has a visible key (a row without one is uniform over all S keys, so nothing in it is 0).
     */
    static boolean causalBand(boolean causal, INDArray keyMask, int b, int t, int s) {
        if (!causal || s < t) {
            return false;
        }
        if (keyMask == null) {
            return true;
        }
        float[] keys = keyMask.reshape(keyMask.length()).toFloatVector(); // [B, S], row-major
        for (int bi = 0; bi < b; bi++) {
            boolean seen = false;
            // the first query sees keys 0 .. S - T
            for (int j = 0; j <= s - t && !seen; j++) {
                seen = keys[bi * s + j] != 0f;
            }
            if (!seen) {
                return false;
            }
        }
        return true;
    }

    /** The backward of {@link #attentionForward} with the same {@code band}; dq, dk, dv (each may be null) are written whole. */
    static void attentionBackward(INDArray q, INDArray k, INDArray v, INDArray probs, INDArray dy, INDArray dq, INDArray dk,
                                  INDArray dv, int b, int hkv, int rep, int t, int s, int d, boolean band, double scale, boolean tokenMajor) {
        int groups = b * hkv;
        forRanges(groups, tasks(groups, 1), (g0, g1) -> attentionBackward(code(q), addr(q), addr(k), addr(v), addr(probs),
                addr(dy), addr(dq), addr(dk), addr(dv), b, hkv, rep, t, s, d, band, scale, tokenMajor, (int) g0, (int) g1));
        Reference.reachabilityFence(new Object[] {q, k, v, probs, dy, dq, dk, dv});
    }

    /**
     * FlashAttention-2's forward (training): the shapes of {@link #attentionForward}, but instead of
     * the probabilities only each query row's log-sum-exp of its scaled, masked scores is written,
     * lse [B, Hkv, rep * T] = [B, H, T] in q's type (+inf marks a row with no visible key, which is
     * uniform over all S keys). Memory is O(B H T), not O(B H T S).
     */
    static void flashAttentionForward(INDArray q, INDArray k, INDArray v, INDArray keyMask, INDArray lse, INDArray y,
                                      int b, int hkv, int rep, int t, int s, int d, boolean causal, double scale, boolean tokenMajor) {
        int groups = b * hkv;
        forRanges(groups, tasks(groups, 1), (g0, g1) -> flashAttentionForward(code(q), addr(q), addr(k), addr(v), addr(keyMask),
                addr(lse), addr(y), b, hkv, rep, t, s, d, causal, scale, tokenMajor, (int) g0, (int) g1));
        Reference.reachabilityFence(new Object[] {q, k, v, keyMask, lse, y});
    }

    /**
     * The backward of {@link #flashAttentionForward} from its output y and lse: the probabilities
     * are recomputed block by block; dq, dk, dv (each may be null) are written whole.
     */
    static void flashAttentionBackward(INDArray q, INDArray k, INDArray v, INDArray keyMask, INDArray y, INDArray lse, INDArray dy,
                                       INDArray dq, INDArray dk, INDArray dv, int b, int hkv, int rep, int t, int s, int d, boolean causal,
                                       double scale, boolean tokenMajor) {
        int groups = b * hkv;
        forRanges(groups, tasks(groups, 1), (g0, g1) -> flashAttentionBackward(code(q), addr(q), addr(k), addr(v), addr(keyMask),
                addr(y), addr(lse), addr(dy), addr(dq), addr(dk), addr(dv), b, hkv, rep, t, s, d, causal, scale, tokenMajor, (int) g0,
                (int) g1));
        Reference.reachabilityFence(new Object[] {q, k, v, keyMask, y, lse, dy, dq, dk, dv});
    }

    // ---------------------------------------------------------------- cross-entropy

    /** Per-row log-sum-exp of x [N, V] (accumulated in the input's precision, logged in double). */
    static double[] logSumExpRows(INDArray x) {
        int n = (int) x.size(0);
        int vocab = (int) x.size(1);
        // written through a native buffer: each task fills its own rows
        INDArray lse = Nd4j.createUninitialized(DataType.DOUBLE, n);
        forRanges(n, tasks(n, 8), (r0, r1) -> logSumExpRows(code(x), addr(x), vocab, addr(lse), (int) r0, (int) r1));
        Reference.reachabilityFence(x);
        double[] out = lse.toDoubleVector();
        lse.close();
        return out;
    }

    /** grad [N, V] = (softmax(x) - onehot(targets)) * rowScale per row (rows with scale 0: zeros). */
    static void crossEntropyGradRows(INDArray x, double[] lse, double[] rowScale, int[] targets, INDArray grad) {
        int n = (int) x.size(0);
        int vocab = (int) x.size(1);
        forRanges(n, tasks(n, 8), (r0, r1) -> crossEntropyGradRows(code(x), addr(x), vocab, lse, rowScale, targets, addr(grad),
                (int) r0, (int) r1));
        Reference.reachabilityFence(new Object[] {x, grad});
    }

    // ---------------------------------------------------------------- RMSNorm and LayerNorm
    // One range of rows [from, to) each: RowKernels splits the rows over its threads, and in the
    // backward sums the double partials of the parameter gradients per 32-row chunk, as its Java
    // loops do. The forward's statistics arrays belong to the calling task.

    /** y = x r w over rows [from, to); stats[i - from] = r of row i. */
    static void rmsForwardRows(INDArray x, INDArray w, INDArray y, double eps, double[] stats, int from, int to) {
        rmsForwardRows(code(x), addr(x), addr(w), addr(y), (int) x.size(1), eps, stats, from, to);
        Reference.reachabilityFence(new Object[] {x, w, y});
    }

    /** dx (may be null) for rows [from, to) and their sum of g xhat into dw (may be null). */
    static void rmsBackwardRows(INDArray g, INDArray x, INDArray w, double[] r, INDArray dx, double[] dw, int from, int to) {
        rmsBackwardRows(code(x), addr(g), addr(x), addr(w), r, addr(dx), dw, (int) x.size(1), from, to);
        Reference.reachabilityFence(new Object[] {g, x, w, dx});
    }

    /** y = (x - mean) rstd w + b over rows [from, to); mean[i - from] and rstd[i - from] of row i. */
    static void layerForwardRows(INDArray x, INDArray w, INDArray b, INDArray y, double eps, double[] mean, double[] rstd, int from, int to) {
        layerForwardRows(code(x), addr(x), addr(w), addr(b), addr(y), (int) x.size(1), eps, mean, rstd, from, to);
        Reference.reachabilityFence(new Object[] {x, w, b, y});
    }

    /** dx (may be null) for rows [from, to), and their sums of g xhat into dw and of g into db (each may be null); mean and rstd of all rows. */
    static void layerBackwardRows(INDArray g, INDArray x, INDArray w, double[] mean, double[] rstd, INDArray dx, double[] dw, double[] db,
                                  int from, int to) {
        layerBackwardRows(code(x), addr(g), addr(x), addr(w), mean, rstd, addr(dx), dw, db, (int) x.size(1), from, to);
        Reference.reachabilityFence(new Object[] {g, x, w, dx});
    }

    /** Every row of y [N, C] set to row [C] (a bias that a gemm with beta = 1 then adds onto). */
    static void fillRows(INDArray row, INDArray y) {
        fillRows(code(y), addr(row), addr(y), y.size(0), (int) y.size(1));
        Reference.reachabilityFence(new Object[] {row, y});
    }

    // ---------------------------------------------------------------- elementwise

    private static final long MIN_BLOCKS_PER_TASK = 4096; // 32k elements

    /** Splits [0, n) at multiples of 8 elements, the kernels' block size. */
    private static void forBlocks(long n, RangeBody body) {
        long blocks = (n + 7) / 8;
        forRanges(blocks, tasks(blocks, MIN_BLOCKS_PER_TASK), (b0, b1) -> body.run(b0 * 8, Math.min(n, b1 * 8)));
    }

    /** y = silu(g) * u. */
    static void swigluForward(INDArray g, INDArray u, INDArray y) {
        forBlocks(g.length(), (n0, n1) -> swigluForward(code(g), addr(g), addr(u), addr(y), n0, n1));
        Reference.reachabilityFence(new Object[] {g, u, y});
    }

    /** dg, du (either may be null) from dy. */
    static void swigluBackward(INDArray g, INDArray u, INDArray dy, INDArray dg, INDArray du) {
        forBlocks(g.length(), (n0, n1) -> swigluBackward(code(g), addr(g), addr(u), addr(dy), addr(dg), addr(du), n0, n1));
        Reference.reachabilityFence(new Object[] {g, u, dy, dg, du});
    }

    /** y = x sigmoid(1.702 x). */
    static void quickGeluForward(INDArray x, INDArray y) {
        forBlocks(x.length(), (n0, n1) -> quickGeluForward(code(x), addr(x), addr(y), n0, n1));
        Reference.reachabilityFence(new Object[] {x, y});
    }

    /** dx from dy. */
    static void quickGeluBackward(INDArray x, INDArray dy, INDArray dx) {
        forBlocks(x.length(), (n0, n1) -> quickGeluBackward(code(x), addr(x), addr(dy), addr(dx), n0, n1));
        Reference.reachabilityFence(new Object[] {x, dy, dx});
    }

    /**
     * Rotary embedding of x [rows, d] with row r at position (r / hp) % T of cos and sin [T, d]
     * (hp = 1 for [B, H, T, d], H for [B, T, H, d]); with {@code transpose} the backward (x is
     * then the incoming gradient).
     */
    static void rope(INDArray x, INDArray cos, INDArray sin, INDArray y, int t, int hp, int d, boolean transpose) {
        long rows = x.length() / d;
        forRanges(rows, tasks(rows * d, 32768), (r0, r1) -> ropeRows(code(x), addr(x), addr(cos), addr(sin), addr(y), t, hp, d, transpose, r0, r1));
        Reference.reachabilityFence(new Object[] {x, cos, sin, y});
    }

    // ---------------------------------------------------------------- optimizer

    /**
     * AdamW's update of w, m, v from g in one pass (torch.optim.AdamW's order of operations:
     * m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2; w -= stepSize m / (sqrt(v) / bc2Sqrt + eps)).
     * Returns false, doing nothing, unless the kernels are on and the four arrays are whole,
     * row-major, of one float or double type and one length.
     */
    public static boolean adamWUpdate(INDArray w, INDArray g, INDArray m, INDArray v, double beta1, double beta2, double eps,
                                      double stepSize, double bc2Sqrt) {
        if (!usable(w, g, m, v) || g.length() != w.length() || m.length() != w.length() || v.length() != w.length()) {
            return false;
        }
        forBlocks(w.length(), (n0, n1) -> adamWUpdate(code(w), addr(w), addr(g), addr(m), addr(v), beta1, beta2, eps, stepSize, bc2Sqrt, n0, n1));
        Reference.reachabilityFence(new Object[] {w, g, m, v});
        return true;
    }

    // ---------------------------------------------------------------- JNI (vdep_kernels.cpp)

    private static native boolean cpuSupported();

    private static native void attentionForward(int dtype, long q, long k, long v, long keyMask, long probs, long y,
                                                int b, int hkv, int rep, int t, int s, int d, boolean causal, boolean band, double scale,
                                                boolean tokenMajor, int g0, int g1);

    private static native void attentionBackward(int dtype, long q, long k, long v, long probs, long dy, long dq, long dk, long dv,
                                                 int b, int hkv, int rep, int t, int s, int d, boolean band, double scale, boolean tokenMajor,
                                                 int g0, int g1);

    private static native void flashAttentionForward(int dtype, long q, long k, long v, long keyMask, long lse, long y,
                                                     int b, int hkv, int rep, int t, int s, int d, boolean causal, double scale,
                                                     boolean tokenMajor, int g0, int g1);

    private static native void flashAttentionBackward(int dtype, long q, long k, long v, long keyMask, long y, long lse, long dy,
                                                      long dq, long dk, long dv, int b, int hkv, int rep, int t, int s, int d,
                                                      boolean causal, double scale, boolean tokenMajor, int g0, int g1);

    private static native void logSumExpRows(int dtype, long x, int vocab, long lse, int r0, int r1);

    private static native void crossEntropyGradRows(int dtype, long x, int vocab, double[] lse, double[] rowScale, int[] targets,
                                                    long grad, int r0, int r1);

    private static native void swigluForward(int dtype, long g, long u, long y, long n0, long n1);

    private static native void swigluBackward(int dtype, long g, long u, long dy, long dg, long du, long n0, long n1);

    private static native void quickGeluForward(int dtype, long x, long y, long n0, long n1);

    private static native void quickGeluBackward(int dtype, long x, long dy, long dx, long n0, long n1);

    private static native void rmsForwardRows(int dtype, long x, long w, long y, int c, double eps, double[] stats, long r0, long r1);

    private static native void rmsBackwardRows(int dtype, long g, long x, long w, double[] r, long dx, double[] dw, int c, long r0, long r1);

    private static native void layerForwardRows(int dtype, long x, long w, long b, long y, int c, double eps, double[] mean, double[] rstd,
                                                long r0, long r1);

    private static native void layerBackwardRows(int dtype, long g, long x, long w, double[] mean, double[] rstd, long dx, double[] dw,
                                                 double[] db, int c, long r0, long r1);

    private static native void fillRows(int dtype, long src, long dst, long rows, int c);

    private static native void adamWUpdate(int dtype, long w, long g, long m, long v, double beta1, double beta2, double eps,
                                           double step, double bc2sqrt, long n0, long n1);

    private static native void ropeRows(int dtype, long x, long cos, long sin, long y, int t, int hp, int d, boolean transpose, long r0, long r1);
}
