package io.github.vdep.core.cuda;

import io.github.vdep.core.autograd.Parameter;
import io.github.vdep.core.autograd.Tape;
import io.github.vdep.core.autograd.Tensor;
import io.github.vdep.core.backend.DeviceBackend;
import io.github.vdep.core.device.Device;
import io.github.vdep.core.device.DeviceStorage;
import io.github.vdep.core.ops.RegressionLoss;
import io.github.vdep.core.ops.RopeTables;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Map;
import java.util.function.Consumer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.shape.Shape;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The primitives on one CUDA device, FP32: cuBLAS for the matrix products and vdep's kernels
 * ({@link CudaKernels}) for the rest, each with its backward pass recorded on the tape. Memory
 * comes from a {@link CudaAllocator} per device. Host integer data (ids, targets, rows, key
 * masks) is uploaded per call; rotary tables are uploaded once and cached.
 *
 * <p>Shape checks mirror the CPU primitives' and fail with the same kind of one-line message.
 */
public final class CudaBackend implements DeviceBackend {
    private static final Map<Integer, CudaAllocator> ALLOCATORS = new java.util.concurrent.ConcurrentHashMap<>();

    private final Device device;
    private final CudaApi api;
    private final CudaAllocator allocator;
    private final String description;
    /** Rotary tables on the device, by the host array's identity (the models keep theirs). */
    private final Map<INDArray, CudaStorage[]> ropeCache = new java.util.IdentityHashMap<>();
    private final java.util.ArrayDeque<INDArray> ropeOrder = new java.util.ArrayDeque<>();
    /** Weight (ones) and bias (zeros) of width d for the normalised image loss's layer norm, kept per width. */
    private final Map<Long, Tensor[]> unitNorms = new java.util.HashMap<>();

    CudaBackend(Device device) {
        this.device = device;
        this.api = CudaApi.jni();
        CudaRuntime.selectDevice(device.index());
        this.allocator = ALLOCATORS.computeIfAbsent(device.index(), i -> new CudaAllocator(DeviceMemory.cuda()));
        CudaRuntime.Device info = CudaRuntime.status().devices().get(device.index());
        this.description = device + " (" + info.name() + ", compute capability " + info.computeCapability() + ", vdep CUDA kernels)";
    }

    /** A backend on another implementation of the kernels (tests: a host emulation). */
    public CudaBackend(Device device, CudaApi api, CudaAllocator allocator, String description) {
        this.device = device;
        this.api = api;
        this.allocator = allocator;
        this.description = description;
    }

    /** The device's allocator (its current, peak and cached bytes). */
    public CudaAllocator allocator() {
        return allocator;
    }

    @Override
    public Device device() {
        return device;
    }

    @Override
    public String description() {
        return description;
    }

    // ---------------------------------------------------------------- memory

    private CudaStorage alloc(String what, DataType type, long... shape) {
        return new CudaStorage(allocator, device, shape, type, what);
    }

    private CudaStorage alloc(String what, long... shape) {
        return alloc(what, DataType.FLOAT, shape);
    }

    private static CudaStorage st(Tensor t) {
        return (CudaStorage) t.storage();
    }

    private static long addr(Tensor t) {
        return t == null ? 0L : st(t).address();
    }

    private static long addr(DeviceStorage s) {
        return s == null ? 0L : ((CudaStorage) s).address();
    }

    private static long n(long[] shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }

    private static String str(long[] shape) {
        return Arrays.toString(shape);
    }

    private static void require(boolean ok, java.util.function.Supplier<String> message) {
        if (!ok) {
            throw new IllegalArgumentException(message.get());
        }
    }

    /** FP32 only on the GPU: other element types fail in one line naming the operation. */
    private static void requireFloat(String op, Tensor... ts) {
        for (Tensor t : ts) {
            if (t != null && t.dataType() != DataType.FLOAT) {
                throw new IllegalArgumentException(op + ": " + t.dataType() + " tensors are not supported on CUDA (FLOAT only)");
            }
        }
    }

    /** Integers uploaded as a device int array (released by the caller after queuing its kernels). */
    private CudaStorage ints(String what, int[] data) {
        CudaStorage s = alloc(what, DataType.INT, data.length);
        if (data.length > 0) {
            ByteBuffer b = ByteBuffer.allocateDirect(data.length * Integer.BYTES).order(ByteOrder.nativeOrder());
            b.asIntBuffer().put(data);
            api.copyBufferToDevice(s.address(), b, 0, (long) data.length * Integer.BYTES);
        }
        return s;
    }

    /** A whole row-major host array of {@code type} with the same contents (itself when it is one). */
    private static INDArray hostWhole(INDArray a, DataType type) {
        INDArray c = a.dataType() == type ? a : a.castTo(type);
        boolean whole = c.ordering() == 'c' && c.offset() == 0 && Shape.hasDefaultStridesForShape(c) && c.data().length() == c.length();
        return whole ? c : c.dup('c');
    }

    @Override
    public DeviceStorage upload(INDArray host, DataType as) {
        if (as != DataType.FLOAT) {
            throw new IllegalArgumentException("upload to " + device + ": " + as + " tensors are not supported on CUDA (FLOAT only)");
        }
        long[] shape = host.shape();
        CudaStorage out = alloc("upload", shape);
        long n = n(shape);
        if (n == 0) {
            return out;
        }
        DataType from = host.dataType();
        if (from == DataType.HALF || from == DataType.BFLOAT16) {
            // the checkpoint's 16-bit values cross the bus as they are and become float on the device
            INDArray h = hostWhole(host, from);
            CudaStorage raw = alloc("upload (16-bit)", from, shape);
            try {
                api.copyToDevice(raw.address(), h.data().address(), n * 2);
                api.toFloat(from == DataType.HALF ? 0 : 1, raw.address(), out.address(), n);
            } finally {
                raw.release();
            }
            return out;
        }
        INDArray h = hostWhole(host, DataType.FLOAT);
        api.copyToDevice(out.address(), h.data().address(), n * Float.BYTES);
        return out;
    }

    @Override
    public INDArray download(DeviceStorage storage) {
        CudaStorage s = (CudaStorage) storage;
        if (s.dataType() != DataType.FLOAT) {
            throw new IllegalArgumentException("download: " + s + " is not FLOAT");
        }
        INDArray host = Nd4j.createUninitialized(DataType.FLOAT, s.shape());
        if (host.length() > 0) {
            api.copyToHost(host.data().address(), s.address(), s.bytes());
        }
        return host;
    }

    @Override
    public DeviceStorage full(long[] shape, DataType type, double value) {
        if (type != DataType.FLOAT) {
            throw new IllegalArgumentException("full: " + type + " tensors are not supported on CUDA (FLOAT only)");
        }
        CudaStorage s = alloc("full", shape);
        api.fill(s.address(), (float) value, n(shape));
        return s;
    }

    private CudaStorage zeros(String what, long... shape) {
        CudaStorage s = alloc(what, shape);
        api.memset(s.address(), 0, s.bytes());
        return s;
    }

    @Override
    public DeviceStorage copy(DeviceStorage source) {
        return copyAs((CudaStorage) source, source.shape(), "copy");
    }

    private CudaStorage copyAs(CudaStorage src, long[] shape, String what) {
        CudaStorage out = alloc(what, src.dataType(), shape);
        if (src.bytes() > 0) {
            api.copyOnDevice(out.address(), src.address(), src.bytes());
        }
        return out;
    }

    @Override
    public void addInPlace(DeviceStorage dst, DeviceStorage src) {
        require(Arrays.equals(dst.shape(), src.shape()), () -> "addInPlace: " + str(dst.shape()) + " and " + str(src.shape()) + " differ");
        api.accumulate(addr(dst), addr(src), dst.length());
    }

    @Override
    public long bytesInUse() {
        return allocator.currentBytes();
    }

    @Override
    public long peakBytes() {
        return allocator.peakBytes();
    }

    @Override
    public long totalBytes() {
        return allocator.deviceTotalBytes();
    }

    @Override
    public void resetPeakMemory() {
        allocator.resetPeak();
    }

    // ---------------------------------------------------------------- linear algebra

    @Override
    public Tensor linear(Tensor x, Tensor w, Tensor b) {
        requireFloat("linear", x, w, b);
        long in = x.size(x.rank() - 1);
        require(w.rank() == 2 && w.size(1) == in, () -> "linear: input " + str(x.shape()) + " does not match weight " + str(w.shape()) + " ([out, in])");
        long out = w.size(0);
        require(b == null || (b.rank() == 1 && b.size(0) == out), () -> "linear: bias " + (b == null ? "" : str(b.shape())) + " does not match weight " + str(w.shape()));
        int rows = Math.toIntExact(n(x.shape()) / Math.max(1, in));
        int inI = (int) in, outI = (int) out;
        long[] outShape = x.shape();
        outShape[outShape.length - 1] = out;
        CudaStorage y = alloc("linear output", outShape);
        api.gemm(false, true, rows, outI, inI, 1f, addr(x), inI, addr(w), inI, 0f, y.address(), outI);
        if (b != null) {
            api.addBroadcast(y.address(), addr(b), y.address(), (long) rows * out, new long[] {rows, out}, new long[] {0, 1});
        }
        return Tape.op(y, g -> {
            long ga = addr(g);
            if (x.requiresGrad()) {
                CudaStorage dx = alloc("linear input gradient", x.shape());
                api.gemm(false, false, rows, inI, outI, 1f, ga, outI, addr(w), inI, 0f, dx.address(), inI);
                x.accumulateGradOwned(dx);
            }
            if (w.requiresGrad()) {
                CudaStorage dw = alloc("linear weight gradient", w.shape());
                api.gemm(true, false, outI, inI, rows, 1f, ga, outI, addr(x), inI, 0f, dw.address(), inI);
                w.accumulateGradOwned(dw);
            }
            if (b != null && b.requiresGrad()) {
                CudaStorage db = alloc("linear bias gradient", b.shape());
                api.columnSum(ga, rows, outI, db.address(), false);
                b.accumulateGradOwned(db);
            }
        }, x, w, b);
    }

    // ---------------------------------------------------------------- rows

    @Override
    public Tensor embedding(Tensor table, INDArray ids) {
        requireFloat("embedding", table);
        long vocab = table.size(0);
        int dim = (int) table.size(1);
        int[] idx = indices(ids);
        for (int i = 0; i < idx.length; i++) {
            if (idx[i] < 0 || idx[i] >= vocab) {
                throw new IllegalArgumentException("embedding: token id " + idx[i] + " at flat position " + i + " is outside the vocabulary [0, " + vocab + ")");
            }
        }
        long[] shape = Arrays.copyOf(ids.shape(), ids.rank() + 1);
        shape[ids.rank()] = dim;
        CudaStorage y = alloc("embedding output", shape);
        CudaStorage dIdx = ints("token ids", idx);
        try {
            api.gatherRows(addr(table), dim, dIdx.address(), idx.length, y.address());
        } finally {
            dIdx.release();
        }
        return Tape.op(y, g -> {
            if (table.requiresGrad()) {
                CudaStorage dt = zeros("embedding gradient", table.shape());
                scatterAdd(addr(g), dim, idx, dt.address());
                table.accumulateGradOwned(dt);
            }
        }, table);
    }

    /** dst[rows[i]] += src[i] (rows of c floats), reproducibly (see {@link RowGroups}). */
    private void scatterAdd(long src, int c, int[] rows, long dst) {
        if (rows.length == 0) {
            return;
        }
        RowGroups groups = RowGroups.of(rows);
        CudaStorage r = ints("scatter rows", groups.rows());
        CudaStorage o = ints("scatter offsets", groups.offsets());
        CudaStorage p = ints("scatter positions", groups.positions());
        try {
            api.scatterAddRows(src, c, r.address(), o.address(), p.address(), groups.distinct(), dst);
        } finally {
            r.release();
            o.release();
            p.release();
        }
    }

    private static int[] indices(INDArray ids) {
        long[] longs = ids.dup('c').reshape(ids.length()).toLongVector();
        int[] out = new int[longs.length];
        for (int i = 0; i < longs.length; i++) {
            out[i] = Math.toIntExact(longs[i]);
        }
        return out;
    }

    private static void checkRows(String op, int[] rows, long n) {
        for (int r : rows) {
            if (r < 0 || r >= n) {
                throw new IllegalArgumentException(op + ": row " + r + " is outside [0, " + n + ")");
            }
        }
    }

    @Override
    public Tensor gatherRows(Tensor x, int[] rows) {
        requireFloat("gatherRows", x);
        require(x.rank() == 2, () -> "gatherRows: needs a matrix, got " + str(x.shape()));
        checkRows("gatherRows", rows, x.size(0));
        int c = (int) x.size(1);
        CudaStorage y = alloc("gathered rows", rows.length, c);
        CudaStorage idx = ints("row indices", rows);
        try {
            api.gatherRows(addr(x), c, idx.address(), rows.length, y.address());
        } finally {
            idx.release();
        }
        return Tape.op(y, g -> {
            if (x.requiresGrad()) {
                CudaStorage dx = zeros("gatherRows gradient", x.shape());
                scatterAdd(addr(g), c, rows, dx.address());
                x.accumulateGradOwned(dx);
            }
        }, x);
    }

    @Override
    public Tensor replaceRows(Tensor base, int[] rows, Tensor src) {
        requireFloat("replaceRows", base, src);
        require(base.rank() == 2 && src.rank() == 2 && base.size(1) == src.size(1),
                () -> "replaceRows: base " + str(base.shape()) + " and rows " + str(src.shape()) + " must be matrices of equal width");
        require(src.size(0) == rows.length, () -> "replaceRows: " + rows.length + " row positions for " + src.size(0) + " rows");
        checkRows("replaceRows", rows, base.size(0));
        boolean[] seen = new boolean[(int) base.size(0)];
        for (int r : rows) {
            require(!seen[r], () -> "replaceRows: row " + r + " is replaced twice");
            seen[r] = true;
        }
        int c = (int) base.size(1);
        CudaStorage y = copyAs(st(base), base.shape(), "replaceRows output");
        CudaStorage idx = ints("row indices", rows);
        try {
            api.scatterRows(addr(src), c, idx.address(), rows.length, y.address());
        } finally {
            idx.release();
        }
        return Tape.op(y, g -> {
            CudaStorage gi = ints("row indices", rows);
            try {
                if (base.requiresGrad()) {
                    CudaStorage db = copyAs((CudaStorage) g, base.shape(), "replaceRows base gradient");
                    api.zeroRows(db.address(), c, gi.address(), rows.length);
                    base.accumulateGradOwned(db);
                }
                if (src.requiresGrad()) {
                    CudaStorage ds = alloc("replaceRows rows gradient", src.shape());
                    api.gatherRows(addr(g), c, gi.address(), rows.length, ds.address());
                    src.accumulateGradOwned(ds);
                }
            } finally {
                gi.release();
            }
        }, base, src);
    }

    // ---------------------------------------------------------------- norms

    @Override
    public Tensor rmsNorm(Tensor x, Tensor w, double eps) {
        requireFloat("rmsNorm", x, w);
        long c = x.size(x.rank() - 1);
        require(w.rank() == 1 && w.size(0) == c, () -> "rmsNorm: weight " + str(w.shape()) + " does not match input " + str(x.shape()));
        int rows = Math.toIntExact(n(x.shape()) / c);
        CudaStorage y = alloc("rmsNorm output", x.shape());
        CudaStorage rstd = alloc("rmsNorm statistics", DataType.DOUBLE, rows);
        api.rmsForward(addr(x), addr(w), y.address(), rstd.address(), rows, (int) c, eps);
        if (!Tape.needsGrad(x, w)) {
            rstd.release();
            return Tape.constantOwned(y);
        }
        return Tape.op(y, g -> {
            CudaStorage dx = x.requiresGrad() ? alloc("rmsNorm input gradient", x.shape()) : null;
            CudaStorage dw = w.requiresGrad() ? alloc("rmsNorm weight gradient", w.shape()) : null;
            api.rmsBackward(addr(g), addr(x), addr(w), rstd.address(), addr(dx), addr(dw), rows, (int) c, false);
            rstd.release();
            if (dw != null) {
                w.accumulateGradOwned(dw);
            }
            if (dx != null) {
                x.accumulateGradOwned(dx);
            }
        }, x, w);
    }

    @Override
    public Tensor layerNorm(Tensor x, Tensor w, Tensor b, double eps) {
        requireFloat("layerNorm", x, w, b);
        long c = x.size(x.rank() - 1);
        require(w.rank() == 1 && w.size(0) == c && b.rank() == 1 && b.size(0) == c,
                () -> "layerNorm: weight " + str(w.shape()) + " / bias " + str(b.shape()) + " do not match input " + str(x.shape()));
        int rows = Math.toIntExact(n(x.shape()) / c);
        CudaStorage y = alloc("layerNorm output", x.shape());
        CudaStorage mean = alloc("layerNorm statistics", DataType.DOUBLE, rows);
        CudaStorage rstd = alloc("layerNorm statistics", DataType.DOUBLE, rows);
        api.layerForward(addr(x), addr(w), addr(b), y.address(), mean.address(), rstd.address(), rows, (int) c, eps);
        if (!Tape.needsGrad(x, w, b)) {
            mean.release();
            rstd.release();
            return Tape.constantOwned(y);
        }
        return Tape.op(y, g -> {
            CudaStorage dx = x.requiresGrad() ? alloc("layerNorm input gradient", x.shape()) : null;
            CudaStorage dw = w.requiresGrad() ? alloc("layerNorm weight gradient", w.shape()) : null;
            CudaStorage db = b.requiresGrad() ? alloc("layerNorm bias gradient", b.shape()) : null;
            api.layerBackward(addr(g), addr(x), addr(w), mean.address(), rstd.address(), addr(dx), addr(dw), addr(db), rows, (int) c, false);
            mean.release();
            rstd.release();
            if (dw != null) {
                w.accumulateGradOwned(dw);
            }
            if (db != null) {
                b.accumulateGradOwned(db);
            }
            if (dx != null) {
                x.accumulateGradOwned(dx);
            }
        }, x, w, b);
    }

    // ---------------------------------------------------------------- rotary embedding

    @Override
    public Tensor rope(Tensor x, RopeTables tables) {
        return rope(x, tables, 2, 1);
    }

    @Override
    public Tensor ropeTokenMajor(Tensor x, RopeTables tables) {
        return rope(x, tables, 1, (int) x.size(2));
    }

    private Tensor rope(Tensor x, RopeTables tables, int seqAxis, int hp) {
        requireFloat("rope", x);
        INDArray cos = tables.cos(), sin = tables.sin();
        require(x.rank() == 4 && cos.rank() == 2 && cos.size(0) == x.size(seqAxis) && cos.size(1) == x.size(3) && Arrays.equals(cos.shape(), sin.shape()),
                () -> "rope: input " + str(x.shape()) + " needs cos/sin of shape [T, headDim], got " + str(cos.shape()));
        require(x.size(3) % 2 == 0, () -> "rope: head dim " + x.size(3) + " is odd");
        CudaStorage[] t = ropeTables(cos, sin);
        int d = (int) x.size(3), len = (int) cos.size(0);
        long rows = n(x.shape()) / d;
        CudaStorage y = alloc("rope output", x.shape());
        api.rope(addr(x), t[0].address(), t[1].address(), y.address(), rows, len, hp, d, false);
        return Tape.op(y, g -> {
            if (x.requiresGrad()) {
                CudaStorage dx = alloc("rope gradient", x.shape());
                api.rope(addr(g), t[0].address(), t[1].address(), dx.address(), rows, len, hp, d, true);
                x.accumulateGradOwned(dx);
            }
        }, x);
    }

    /** The tables on the device, uploaded once per host array (the 16 most recent kept). */
    private synchronized CudaStorage[] ropeTables(INDArray cos, INDArray sin) {
        CudaStorage[] t = ropeCache.get(cos);
        if (t != null) {
            return t;
        }
        if (ropeOrder.size() >= 16) {
            INDArray old = ropeOrder.removeFirst();
            for (CudaStorage s : ropeCache.remove(old)) {
                s.release();
            }
        }
        t = new CudaStorage[] {(CudaStorage) upload(cos, DataType.FLOAT), (CudaStorage) upload(sin, DataType.FLOAT)};
        ropeCache.put(cos, t);
        ropeOrder.addLast(cos);
        return t;
    }

    // ---------------------------------------------------------------- attention

    @Override
    public Tensor attention(Tensor q, Tensor k, Tensor v, boolean causal, INDArray keyMask, double scale, Consumer<INDArray> probs) {
        return attention(q, k, v, causal, keyMask, scale, probs, false);
    }

    @Override
    public Tensor attentionTokenMajor(Tensor q, Tensor k, Tensor v, boolean causal, INDArray keyMask, double scale, Consumer<INDArray> probs) {
        return attention(q, k, v, causal, keyMask, scale, probs, true);
    }

    private Tensor attention(Tensor q, Tensor k, Tensor v, boolean causal, INDArray keyMask, double scale, Consumer<INDArray> probsSink,
            boolean tokenMajor) {
        requireFloat("attention", q, k, v);
        int headAxis = tokenMajor ? 2 : 1, seqAxis = tokenMajor ? 1 : 2;
        require(q.rank() == 4 && k.rank() == 4 && v.rank() == 4,
                () -> "attention: q, k, v must be " + (tokenMajor ? "[B, T, heads, headDim]" : "[B, heads, T, headDim]"));
        int b = (int) q.size(0), h = (int) q.size(headAxis), t = (int) q.size(seqAxis), d = (int) q.size(3);
        int hkv = (int) k.size(headAxis), s = (int) k.size(seqAxis);
        require(k.size(0) == b && k.size(3) == d && Arrays.equals(k.shape(), v.shape()),
                () -> "attention: q " + str(q.shape()) + ", k " + str(k.shape()) + ", v " + str(v.shape()) + " do not fit");
        require(hkv > 0 && h % hkv == 0, () -> "attention: " + h + " query heads are not a multiple of " + hkv + " KV heads");
        require(s >= t, () -> "attention: fewer keys (" + s + ") than queries (" + t + ")");
        require(keyMask == null || (keyMask.rank() == 2 && keyMask.size(0) == b && keyMask.size(1) == s),
                () -> "attention: key mask must be [B, S] = [" + b + ", " + s + "]");
        int rep = h / hkv;
        CudaStorage mask = keyMask == null ? null : keyMask(keyMask);
        // FlashAttention-2: only the output and each row's log-sum-exp [B, H, T] are kept for the backward
        CudaStorage lse = alloc("attention log-sum-exp", b, h, t);
        CudaStorage y = alloc("attention output", q.shape());
        api.flashAttentionForward(addr(q), addr(k), addr(v), addr(mask), lse.address(), y.address(), b, hkv, rep, t, s, d, causal, scale, tokenMajor);
        if (probsSink != null) {
            // the attention-maps path: the probabilities [B, H, T, S] recomputed from the log-sum-exp
            CudaStorage probs = alloc("attention probabilities", b, h, t, s);
            api.attentionProbabilities(addr(q), addr(k), addr(mask), lse.address(), probs.address(), b, hkv, rep, t, s, d, causal, scale, tokenMajor);
            probsSink.accept(download(probs));
            probs.release();
        }
        if (!Tape.needsGrad(q, k, v)) {
            lse.release();
            return Tape.constantOwned(y);
        }
        // the device mask is a cache another call may replace before this backward: looked up again there
        INDArray hostMask = keyMask == null ? null : keyMask.dup();
        return Tape.op(y, g -> {
            CudaStorage backwardMask = hostMask == null ? null : keyMask(hostMask);
            CudaStorage dq = q.requiresGrad() ? alloc("attention q gradient", q.shape()) : null;
            CudaStorage dk = k.requiresGrad() ? alloc("attention k gradient", k.shape()) : null;
            CudaStorage dv = v.requiresGrad() ? alloc("attention v gradient", v.shape()) : null;
            CudaStorage rows = alloc("attention backward row sums", b, h, t);
            api.flashAttentionBackward(addr(q), addr(k), addr(v), addr(backwardMask), y.address(), lse.address(), addr(g), addr(dq), addr(dk), addr(dv),
                    rows.address(), b, hkv, rep, t, s, d, causal, scale, tokenMajor);
            rows.release();
            lse.release();
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

    /** The key mask on the device: every layer of a step gets the same one, so it is uploaded once and reused while its values do not change. */
    private long[] maskShape;
    private float[] maskValues;
    private CudaStorage mask;

    private synchronized CudaStorage keyMask(INDArray host) {
        float[] values = host.castTo(DataType.FLOAT).dup('c').data().asFloat();
        if (mask != null && Arrays.equals(maskShape, host.shape()) && Arrays.equals(maskValues, values)) {
            return mask;
        }
        if (mask != null) {
            mask.release();
        }
        mask = (CudaStorage) upload(host, DataType.FLOAT);
        maskShape = host.shape();
        maskValues = values;
        return mask;
    }

    // ---------------------------------------------------------------- activations

    /** The elementwise kernels of one activation. */
    private interface Unary {
        void forward(long x, long y, long n);
    }

    private interface UnaryBackward {
        void backward(long x, long dy, long dx, long n);
    }

    private Tensor unary(String op, Tensor x, Unary f, UnaryBackward b) {
        requireFloat(op, x);
        long n = n(x.shape());
        CudaStorage y = alloc(op + " output", x.shape());
        f.forward(addr(x), y.address(), n);
        return Tape.op(y, g -> {
            if (x.requiresGrad()) {
                CudaStorage dx = alloc(op + " gradient", x.shape());
                b.backward(addr(x), addr(g), dx.address(), n);
                x.accumulateGradOwned(dx);
            }
        }, x);
    }

    @Override
    public Tensor gelu(Tensor x) {
        return unary("gelu", x, api::geluForward, api::geluBackward);
    }

    @Override
    public Tensor quickGelu(Tensor x) {
        return unary("quickGelu", x, api::quickGeluForward, api::quickGeluBackward);
    }

    @Override
    public Tensor silu(Tensor x) {
        return unary("silu", x, api::siluForward, api::siluBackward);
    }

    @Override
    public Tensor swiglu(Tensor gate, Tensor up) {
        requireFloat("swiglu", gate, up);
        require(Arrays.equals(gate.shape(), up.shape()), () -> "swiglu: gate " + str(gate.shape()) + " and up " + str(up.shape()) + " differ");
        long n = n(gate.shape());
        CudaStorage y = alloc("swiglu output", gate.shape());
        api.swigluForward(addr(gate), addr(up), y.address(), n);
        return Tape.op(y, g -> {
            CudaStorage dg = gate.requiresGrad() ? alloc("swiglu gate gradient", gate.shape()) : null;
            CudaStorage du = up.requiresGrad() ? alloc("swiglu up gradient", up.shape()) : null;
            api.swigluBackward(addr(gate), addr(up), addr(g), addr(dg), addr(du), n);
            if (du != null) {
                up.accumulateGradOwned(du);
            }
            if (dg != null) {
                gate.accumulateGradOwned(dg);
            }
        }, gate, up);
    }

    // ---------------------------------------------------------------- arithmetic

    @Override
    public Tensor add(Tensor a, Tensor b) {
        requireFloat("add", a, b);
        long[] as = a.shape(), bs = b.shape();
        long n = n(as);
        CudaStorage y = alloc("add output", as);
        if (Arrays.equals(as, bs)) {
            api.add(addr(a), addr(b), y.address(), n);
        } else {
            long[] strides = broadcastStrides(as, bs);
            api.addBroadcast(addr(a), addr(b), y.address(), n, as, strides);
        }
        return Tape.op(y, g -> {
            a.accumulateGrad(g);
            if (b.requiresGrad()) {
                if (Arrays.equals(as, bs)) {
                    b.accumulateGrad(g);
                } else {
                    b.accumulateGradOwned(reduceTo((CudaStorage) g, as, bs));
                }
            }
        }, a, b);
    }

    /** b's element strides aligned to a's dimensions, 0 where b broadcasts (numpy rules). */
    private static long[] broadcastStrides(long[] a, long[] b) {
        require(b.length <= a.length, () -> "add: " + str(b) + " does not broadcast to " + str(a));
        require(a.length <= 8, () -> "add: more than 8 dimensions in " + str(a));
        int off = a.length - b.length;
        long[] strides = new long[a.length];
        long s = 1;
        for (int i = b.length - 1; i >= 0; i--) {
            long bi = b[i];
            require(bi == a[off + i] || bi == 1, () -> "add: " + str(b) + " does not broadcast to " + str(a));
            strides[off + i] = bi == 1 ? 0 : s;
            s *= bi;
        }
        return strides;
    }

    /** The gradient g (shape a) summed down to b's shape. */
    private CudaStorage reduceTo(CudaStorage g, long[] a, long[] b) {
        int off = a.length - b.length;
        long[] gStrides = new long[a.length];
        long s = 1;
        for (int i = a.length - 1; i >= 0; i--) {
            gStrides[i] = s;
            s *= a[i];
        }
        java.util.List<long[]> kept = new java.util.ArrayList<>(), reduced = new java.util.ArrayList<>();
        for (int i = 0; i < a.length; i++) {
            boolean isReduced = i < off || (b[i - off] == 1 && a[i] != 1);
            (isReduced ? reduced : kept).add(new long[] {a[i], gStrides[i]});
        }
        CudaStorage out = alloc("add bias gradient", b);
        api.reduceTo(g.address(), out.address(), n(b), column(kept, 0), column(kept, 1), column(reduced, 0), column(reduced, 1), false);
        return out;
    }

    private static long[] column(java.util.List<long[]> rows, int c) {
        long[] out = new long[rows.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = rows.get(i)[c];
        }
        return out;
    }

    @Override
    public Tensor mul(Tensor a, Tensor b) {
        requireFloat("mul", a, b);
        require(Arrays.equals(a.shape(), b.shape()), () -> "mul: shapes " + str(a.shape()) + " and " + str(b.shape()) + " differ");
        long n = n(a.shape());
        CudaStorage y = alloc("mul output", a.shape());
        api.mul(addr(a), addr(b), y.address(), n);
        return Tape.op(y, g -> {
            if (a.requiresGrad()) {
                CudaStorage da = alloc("mul gradient", a.shape());
                api.mul(addr(g), addr(b), da.address(), n);
                a.accumulateGradOwned(da);
            }
            if (b.requiresGrad()) {
                CudaStorage db = alloc("mul gradient", b.shape());
                api.mul(addr(g), addr(a), db.address(), n);
                b.accumulateGradOwned(db);
            }
        }, a, b);
    }

    @Override
    public Tensor scale(Tensor x, double s) {
        requireFloat("scale", x);
        long n = n(x.shape());
        CudaStorage y = alloc("scale output", x.shape());
        api.scale(addr(x), (float) s, y.address(), n);
        return Tape.op(y, g -> {
            if (x.requiresGrad()) {
                CudaStorage dx = alloc("scale gradient", x.shape());
                api.scale(addr(g), (float) s, dx.address(), n);
                x.accumulateGradOwned(dx);
            }
        }, x);
    }

    @Override
    public Tensor sum(Tensor x) {
        requireFloat("sum", x);
        long n = n(x.shape());
        CudaStorage y = alloc("sum", 1);
        api.sum(addr(x), n, 1.0, y.address());
        return Tape.op(y, g -> {
            if (x.requiresGrad()) {
                CudaStorage dx = alloc("sum gradient", x.shape());
                api.fillFromScalar(dx.address(), addr(g), 1f, n);
                x.accumulateGradOwned(dx);
            }
        }, x);
    }

    // ---------------------------------------------------------------- shapes

    @Override
    public Tensor reshape(Tensor x, long... shape) {
        long[] s = resolve(shape, n(x.shape()), x.shape());
        long[] from = x.shape();
        // a copy: storages never share memory (simple ownership; see the seam contract)
        CudaStorage y = copyAs(st(x), s, "reshape");
        return Tape.op(y, g -> {
            if (x.requiresGrad()) {
                x.accumulateGradOwned(copyAs((CudaStorage) g, from, "reshape gradient"));
            }
        }, x);
    }

    private static long[] resolve(long[] shape, long length, long[] from) {
        long[] s = shape.clone();
        int unknown = -1;
        long known = 1;
        for (int i = 0; i < s.length; i++) {
            if (s[i] == -1) {
                int u = unknown;
                require(u < 0, () -> "reshape: more than one -1 in " + str(shape));
                unknown = i;
            } else {
                known *= s[i];
            }
        }
        if (unknown >= 0) {
            long k = known;
            require(k > 0 && length % k == 0, () -> "reshape: cannot view " + str(from) + " as " + str(shape));
            s[unknown] = length / known;
            known *= s[unknown];
        }
        long k = known;
        require(k == length, () -> "reshape: cannot view " + str(from) + " as " + str(shape));
        return s;
    }

    @Override
    public Tensor permute(Tensor x, int... dims) {
        requireFloat("permute", x);
        require(dims.length == x.rank(), () -> "permute: " + dims.length + " dims for a rank-" + x.rank() + " tensor");
        require(dims.length <= 8, () -> "permute: more than 8 dimensions");
        long[] in = x.shape();
        int[] inverse = new int[dims.length];
        for (int i = 0; i < dims.length; i++) {
            inverse[dims[i]] = i;
        }
        CudaStorage y = permuted(st(x), in, dims, "permute output");
        long[] outShape = y.shape();
        return Tape.op(y, g -> {
            if (x.requiresGrad()) {
                x.accumulateGradOwned(permuted((CudaStorage) g, outShape, inverse, "permute gradient"));
            }
        }, x);
    }

    private CudaStorage permuted(CudaStorage x, long[] in, int[] dims, String what) {
        long[] inStrides = new long[in.length];
        long s = 1;
        for (int i = in.length - 1; i >= 0; i--) {
            inStrides[i] = s;
            s *= in[i];
        }
        long[] out = new long[dims.length];
        long[] strides = new long[dims.length];
        for (int i = 0; i < dims.length; i++) {
            out[i] = in[dims[i]];
            strides[i] = inStrides[dims[i]];
        }
        CudaStorage y = alloc(what, out);
        api.permute(x.address(), y.address(), n(out), out, strides);
        return y;
    }

    /** [outer, axis, inner] sizes of a shape around an axis. */
    private static long[] around(long[] shape, int axis) {
        long outer = 1, inner = 1;
        for (int i = 0; i < axis; i++) {
            outer *= shape[i];
        }
        for (int i = axis + 1; i < shape.length; i++) {
            inner *= shape[i];
        }
        return new long[] {outer, shape[axis], inner};
    }

    @Override
    public Tensor slice(Tensor x, int axis, long from, long to) {
        requireFloat("slice", x);
        int ax = axis < 0 ? axis + x.rank() : axis;
        require(ax >= 0 && ax < x.rank() && 0 <= from && from < to && to <= x.size(ax),
                () -> "slice: [" + from + ", " + to + ") on axis " + axis + " of " + str(x.shape()));
        long[] shape = x.shape();
        long[] oai = around(shape, ax);
        long rows = to - from;
        shape[ax] = rows;
        CudaStorage y = alloc("slice output", shape);
        api.copyBlock(addr(x), y.address(), oai[0], rows, oai[2], oai[1], from, rows, 0);
        return Tape.op(y, g -> {
            if (x.requiresGrad()) {
                CudaStorage dx = zeros("slice gradient", x.shape());
                api.copyBlock(addr(g), dx.address(), oai[0], rows, oai[2], rows, 0, oai[1], from);
                x.accumulateGradOwned(dx);
            }
        }, x);
    }

    @Override
    public Tensor concat(int axis, Tensor... xs) {
        require(xs.length > 0, () -> "concat: nothing to concatenate");
        requireFloat("concat", xs);
        int ax = axis < 0 ? axis + xs[0].rank() : axis;
        long[] shape = xs[0].shape();
        long total = 0;
        for (Tensor t : xs) {
            long[] s = t.shape();
            require(s.length == shape.length, () -> "concat: ranks differ");
            for (int i = 0; i < s.length; i++) {
                int ii = i;
                require(i == ax || s[i] == shape[i], () -> "concat: shapes " + str(xs[0].shape()) + " and " + str(s) + " differ off axis " + ax + " (dim " + ii + ")");
            }
            total += s[ax];
        }
        shape[ax] = total;
        final long totalRows = total;
        long[] oai = around(shape, ax);
        CudaStorage y = alloc("concat output", shape);
        long offset = 0;
        for (Tensor t : xs) {
            long len = t.size(ax);
            api.copyBlock(addr(t), y.address(), oai[0], len, oai[2], len, 0, total, offset);
            offset += len;
        }
        return Tape.op(y, g -> {
            long off = 0;
            for (Tensor t : xs) {
                long len = t.size(ax);
                if (t.requiresGrad()) {
                    CudaStorage dt = alloc("concat gradient", t.shape());
                    api.copyBlock(addr(g), dt.address(), oai[0], len, oai[2], totalRows, off, len, 0);
                    t.accumulateGradOwned(dt);
                }
                off += len;
            }
        }, xs);
    }

    @Override
    public Tensor detach(Tensor x) {
        return Tape.constantOwned(copyAs(st(x), x.shape(), "detach"));
    }

    // ---------------------------------------------------------------- losses

    @Override
    public Tensor crossEntropy(Tensor logits, int[] targets, int ignoreIndex, double normalizer) {
        requireFloat("crossEntropy", logits);
        long vocab = logits.size(logits.rank() - 1);
        long n = n(logits.shape()) / vocab;
        require(targets.length == n, () -> "crossEntropy: " + targets.length + " targets for " + n + " rows of logits " + str(logits.shape()));
        int count = 0;
        for (int i = 0; i < n; i++) {
            if (targets[i] == ignoreIndex) {
                continue;
            }
            if (targets[i] < 0 || targets[i] >= vocab) {
                throw new IllegalArgumentException("crossEntropy: target " + targets[i] + " at row " + i + " is outside [0, " + vocab + ")");
            }
            count++;
        }
        double norm = normalizer > 0 ? normalizer : count;
        double invNorm = count == 0 ? 0.0 : 1.0 / norm;
        int rows = (int) n, v = (int) vocab;
        CudaStorage loss = alloc("cross-entropy", 1);
        CudaStorage dTargets = ints("targets", targets);
        CudaStorage lse = alloc("cross-entropy log-sum-exp", rows);
        CudaStorage rowLoss = alloc("cross-entropy rows", rows);
        api.crossEntropyForward(addr(logits), rows, v, dTargets.address(), ignoreIndex, lse.address(), rowLoss.address(), invNorm, loss.address());
        rowLoss.release();
        if (!Tape.needsGrad(logits)) {
            lse.release();
            dTargets.release();
            return Tape.constantOwned(loss);
        }
        final int supervised = count;
        return Tape.op(loss, g -> {
            if (supervised > 0) {
                CudaStorage grad = alloc("cross-entropy gradient", logits.shape());
                api.crossEntropyBackward(addr(logits), rows, v, dTargets.address(), ignoreIndex, lse.address(), addr(g), invNorm, grad.address());
                logits.accumulateGradOwned(grad);
            }
            lse.release();
            dTargets.release();
        }, logits);
    }

    @Override
    public Tensor regressionLoss(RegressionLoss kind, Tensor pred, Tensor target) {
        requireFloat(kind.optionName() + " loss", pred, target);
        require(Arrays.equals(pred.shape(), target.shape()),
                () -> kind.optionName() + " loss: prediction " + str(pred.shape()) + " and target " + str(target.shape()) + " differ");
        long n = n(pred.shape());
        CudaStorage loss = alloc(kind.optionName() + " loss", 1);
        if (kind == RegressionLoss.COSINE) {
            long d = pred.size(pred.rank() - 1);
            long rows = n / d;
            CudaStorage cos = alloc("cosine rows", rows);
            api.cosineForward(addr(pred), addr(target), rows, d, cos.address(), loss.address());
            cos.release();
            return Tape.op(loss, g -> {
                CudaStorage dp = pred.requiresGrad() ? alloc("cosine gradient", pred.shape()) : null;
                CudaStorage dt = target.requiresGrad() ? alloc("cosine gradient", target.shape()) : null;
                api.cosineBackward(addr(pred), addr(target), rows, d, addr(g), addr(dp), addr(dt));
                if (dt != null) {
                    target.accumulateGradOwned(dt);
                }
                if (dp != null) {
                    pred.accumulateGradOwned(dp);
                }
            }, pred, target);
        }
        if (kind == RegressionLoss.MSE_RELATIVE) {
            // MSE over the target's mean square, a detached constant (RegressionLoss.MSE_RELATIVE)
            CudaStorage zero = zeros("mse_relative divisor", target.shape());
            api.regressionForward(0, addr(target), zero.address(), n, loss.address());
            double meanSquare = Math.max(RegressionLoss.RELATIVE_FLOOR, Tensor.constant(loss).item());
            zero.release();
            loss.release();
            return scale(regressionLoss(RegressionLoss.MSE, pred, target), 1.0 / meanSquare);
        }
        if (kind == RegressionLoss.MSE_NORMALIZED) {
            // MAE's norm_pix_loss (unbiased variance) as a layer norm (biased variance), rescaled:
            // (t - mean) / sqrt(var_u + eps) = sqrt(c) (t - mean) / sqrt(var_b + c eps), c = (d - 1) / d
            loss.release();
            long d = target.size(target.rank() - 1);
            double c = (d - 1.0) / d;
            Tensor[] unit = unitNorms.computeIfAbsent(d, w -> new Tensor[] {
                Tensor.constant(full(new long[] {w}, DataType.FLOAT, 1.0)), Tensor.constant(full(new long[] {w}, DataType.FLOAT, 0.0))});
            Tensor normalized = scale(layerNorm(target, unit[0], unit[1], c * RegressionLoss.NORMALIZED_EPS), Math.sqrt(c));
            return regressionLoss(RegressionLoss.MSE, pred, normalized);
        }
        int code = switch (kind) {
            case MSE -> 0;
            case L1 -> 1;
            case SMOOTH_L1 -> 2;
            default -> throw new IllegalStateException(kind.toString());
        };
        api.regressionForward(code, addr(pred), addr(target), n, loss.address());
        return Tape.op(loss, g -> {
            CudaStorage dp = pred.requiresGrad() ? alloc(kind.optionName() + " gradient", pred.shape()) : null;
            CudaStorage dt = target.requiresGrad() ? alloc(kind.optionName() + " gradient", target.shape()) : null;
            api.regressionBackward(code, addr(pred), addr(target), n, addr(g), addr(dp), addr(dt));
            if (dt != null) {
                target.accumulateGradOwned(dt);
            }
            if (dp != null) {
                pred.accumulateGradOwned(dp);
            }
        }, pred, target);
    }

    // ---------------------------------------------------------------- optimizers

    @Override
    public Tensor zerosLike(Tensor like) {
        requireFloat("zerosLike", like);
        return Tensor.constant(zeros("optimizer state", like.shape()));
    }

    @Override
    public void adamW(Parameter p, Tensor m, Tensor v, double beta1, double beta2, double eps, double lr, double weightDecay, long step) {
        DeviceStorage g = p.deviceGrad();
        if (g == null) {
            return;
        }
        double bc1 = 1.0 - Math.pow(beta1, step);
        double bc2 = 1.0 - Math.pow(beta2, step);
        double decay = weightDecay != 0 ? 1.0 - lr * weightDecay : 1.0;
        api.adamW(addr(p), addr(g), addr(m), addr(v), n(p.shape()), beta1, beta2, eps, lr / bc1, Math.sqrt(bc2), decay);
    }

    @Override
    public void sgd(Parameter p, double lr, double weightDecay) {
        DeviceStorage g = p.deviceGrad();
        if (g == null) {
            return;
        }
        api.sgd(addr(p), addr(g), n(p.shape()), lr, weightDecay != 0 ? 1.0 - lr * weightDecay : 1.0);
    }

    @Override
    public double gradSquaredSum(Parameter p) {
        DeviceStorage g = p.deviceGrad();
        if (g == null) {
            return 0;
        }
        CudaStorage out = alloc("gradient norm", DataType.DOUBLE, 1);
        try {
            api.sumSquares(addr(g), g.length(), out.address(), false);
            ByteBuffer b = ByteBuffer.allocateDirect(Double.BYTES).order(ByteOrder.nativeOrder());
            api.copyDeviceToBuffer(b, 0, out.address(), Double.BYTES);
            return b.getDouble(0);
        } finally {
            out.release();
        }
    }

    @Override
    public void scaleGrad(Parameter p, double factor) {
        DeviceStorage g = p.deviceGrad();
        if (g != null) {
            api.scale(addr(g), (float) factor, addr(g), g.length());
        }
    }
}
