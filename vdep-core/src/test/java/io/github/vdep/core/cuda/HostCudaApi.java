package io.github.vdep.core.cuda;

import io.github.vdep.core.backend.BackendProvider;
import io.github.vdep.core.backend.DeviceBackend;
import io.github.vdep.core.device.Device;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Pointer;

/**
 * A host emulation of the CUDA layer, for running {@link CudaBackend}'s Java logic without a GPU:
 * "device memory" is a direct buffer (its addresses are real host addresses, so copies are
 * memcpy), and each kernel is a plain loop transcribing the .cu source it stands for (the same
 * arguments, the same float/double choices). It checks the backend's shapes, strides, argument
 * order and gradient bookkeeping; it says nothing about the CUDA code itself, which only a GPU run
 * ({@code vdep selfcheck --device cuda}) checks.
 */
public final class HostCudaApi implements CudaApi, DeviceMemory {
    private final ByteBuffer heap;
    private final long base;
    private long next;

    public HostCudaApi(long bytes) {
        heap = ByteBuffer.allocateDirect(Math.toIntExact(bytes)).order(ByteOrder.nativeOrder());
        base = new BytePointer(heap).address();
        next = (base + 255) / 256 * 256;
    }

    /** A provider for device type {@code type} (e.g. "emu") whose backends run on this emulation. */
    public static BackendProvider provider(String type, long heapBytes) {
        return new BackendProvider() {
            @Override
            public String deviceType() {
                return type;
            }

            @Override
            public DeviceBackend open(Device device) {
                HostCudaApi api = new HostCudaApi(heapBytes);
                return new CudaBackend(device, api, new CudaAllocator(api), device + " (host emulation of the CUDA kernels)");
            }

            @Override
            public List<String> describe() {
                return List.of(type + ": host emulation of vdep's CUDA kernels (tests)");
            }
        };
    }

    // ---------------------------------------------------------------- memory

    @Override
    public synchronized long allocate(long bytes) {
        long a = next;
        if (a + bytes > base + heap.capacity()) {
            return 0;
        }
        next = (a + bytes + 255) / 256 * 256;
        return a;
    }

    @Override
    public void free(long address) {
        // a bump allocator: the caching allocator only frees when the device is full
    }

    @Override
    public long totalBytes() {
        return heap.capacity();
    }

    private int off(long address) {
        long o = address - base;
        if (o < 0 || o >= heap.capacity()) {
            throw new IllegalStateException("emulated device address out of range: " + Long.toHexString(address));
        }
        return (int) o;
    }

    private float f(long a, long i) {
        return heap.getFloat(off(a) + (int) (i * 4));
    }

    private void f(long a, long i, float v) {
        heap.putFloat(off(a) + (int) (i * 4), v);
    }

    private double d(long a, long i) {
        return heap.getDouble(off(a) + (int) (i * 8));
    }

    private void d(long a, long i, double v) {
        heap.putDouble(off(a) + (int) (i * 8), v);
    }

    private int in(long a, long i) {
        return heap.getInt(off(a) + (int) (i * 4));
    }

    private static Pointer at(long where) {
        // (a parameter named "address" would be shadowed by Pointer's own field here)
        return new Pointer() {
            {
                this.address = where;
            }
        };
    }

    @Override
    public void copyToDevice(long dst, long hostSrc, long bytes) {
        off(dst);
        Pointer.memcpy(at(dst), at(hostSrc), bytes);
    }

    @Override
    public void copyToHost(long hostDst, long src, long bytes) {
        off(src);
        Pointer.memcpy(at(hostDst), at(src), bytes);
    }

    @Override
    public void copyOnDevice(long dst, long src, long bytes) {
        off(dst);
        off(src);
        Pointer.memmove(at(dst), at(src), bytes);
    }

    @Override
    public void copyBufferToDevice(long dst, ByteBuffer buffer, long offset, long bytes) {
        for (long i = 0; i < bytes; i++) {
            heap.put(off(dst) + (int) i, buffer.get((int) (offset + i)));
        }
    }

    @Override
    public void copyDeviceToBuffer(ByteBuffer buffer, long offset, long src, long bytes) {
        for (long i = 0; i < bytes; i++) {
            buffer.put((int) (offset + i), heap.get(off(src) + (int) i));
        }
    }

    @Override
    public void memset(long dst, int value, long bytes) {
        for (long i = 0; i < bytes; i++) {
            heap.put(off(dst) + (int) i, (byte) value);
        }
    }

    // ---------------------------------------------------------------- runtime.cu: gemm

    @Override
    public void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha, long a, int lda, long b, int ldb, float beta, long c, int ldc) {
        gemmStridedBatched(transA, transB, m, n, k, alpha, a, lda, 0, b, ldb, 0, beta, c, ldc, 0, 1);
    }

    @Override
    public void gemmStridedBatched(boolean transA, boolean transB, int m, int n, int k, float alpha, long a, int lda, long strideA, long b, int ldb,
            long strideB, float beta, long c, int ldc, long strideC, int batch) {
        for (int g = 0; g < batch; g++) {
            long A = a + g * strideA * 4, B = b + g * strideB * 4, C = c + g * strideC * 4;
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double s = 0;
                    for (int p = 0; p < k; p++) {
                        float av = transA ? f(A, (long) p * lda + i) : f(A, (long) i * lda + p);
                        float bv = transB ? f(B, (long) j * ldb + p) : f(B, (long) p * ldb + j);
                        s += (double) av * bv;
                    }
                    long ci = (long) i * ldc + j;
                    float prev = beta == 0f ? 0f : f(C, ci) * beta; // cuBLAS does not read C when beta is 0
                    f(C, ci, (float) (alpha * s) + prev);
                }
            }
        }
    }

    // ---------------------------------------------------------------- elementwise.cu

    private static float sigmoid(float x) {
        return 1.0f / (1.0f + (float) Math.exp(-x));
    }

    private static final float K = 1.702f;

    @Override
    public void geluForward(long x, long y, long n) {
        for (long i = 0; i < n; i++) {
            float v = f(x, i);
            f(y, i, (float) (v * 0.5 * (1 + erf(v / Math.sqrt(2)))));
        }
    }

    @Override
    public void geluBackward(long x, long dy, long dx, long n) {
        for (long i = 0; i < n; i++) {
            double v = f(x, i);
            double cdf = 0.5 * (1 + erf(v / Math.sqrt(2)));
            double pdf = Math.exp(-0.5 * v * v) / Math.sqrt(2 * Math.PI);
            f(dx, i, (float) ((pdf * v + cdf) * f(dy, i)));
        }
    }

    /** erf to double precision (Abramowitz-Stegun 7.1.26 is too coarse; a series/continued fraction split). */
    static double erf(double x) {
        double ax = Math.abs(x);
        double r;
        if (ax < 2.5) {
            double sum = 0, term = ax;
            for (int k = 0; k < 60; k++) {
                sum += term / (2 * k + 1);
                term *= -ax * ax / (k + 1);
            }
            r = 2 / Math.sqrt(Math.PI) * sum;
        } else {
            // continued fraction for erfc
            double t = 0;
            for (int k = 60; k >= 1; k--) {
                t = k / 2.0 / (ax + t);
            }
            r = 1 - Math.exp(-ax * ax) / Math.sqrt(Math.PI) / (ax + t);
        }
        return x < 0 ? -r : r;
    }

    @Override
    public void quickGeluForward(long x, long y, long n) {
        for (long i = 0; i < n; i++) {
            f(y, i, f(x, i) * sigmoid(K * f(x, i)));
        }
    }

    @Override
    public void quickGeluBackward(long x, long dy, long dx, long n) {
        for (long i = 0; i < n; i++) {
            float s = sigmoid(K * f(x, i));
            f(dx, i, f(dy, i) * (s + K * f(x, i) * s * (1 - s)));
        }
    }

    @Override
    public void siluForward(long x, long y, long n) {
        for (long i = 0; i < n; i++) {
            f(y, i, f(x, i) * sigmoid(f(x, i)));
        }
    }

    @Override
    public void siluBackward(long x, long dy, long dx, long n) {
        for (long i = 0; i < n; i++) {
            float s = sigmoid(f(x, i));
            f(dx, i, f(dy, i) * s * (1 + f(x, i) * (1 - s)));
        }
    }

    @Override
    public void swigluForward(long g, long u, long y, long n) {
        for (long i = 0; i < n; i++) {
            f(y, i, f(g, i) * sigmoid(f(g, i)) * f(u, i));
        }
    }

    @Override
    public void swigluBackward(long g, long u, long dy, long dg, long du, long n) {
        for (long i = 0; i < n; i++) {
            float s = sigmoid(f(g, i));
            if (du != 0) {
                f(du, i, f(dy, i) * f(g, i) * s);
            }
            if (dg != 0) {
                f(dg, i, f(dy, i) * f(u, i) * s * (1 + f(g, i) * (1 - s)));
            }
        }
    }

    @Override
    public void add(long a, long b, long y, long n) {
        for (long i = 0; i < n; i++) {
            f(y, i, f(a, i) + f(b, i));
        }
    }

    @Override
    public void mul(long a, long b, long y, long n) {
        for (long i = 0; i < n; i++) {
            f(y, i, f(a, i) * f(b, i));
        }
    }

    @Override
    public void scale(long x, float s, long y, long n) {
        for (long i = 0; i < n; i++) {
            f(y, i, f(x, i) * s);
        }
    }

    @Override
    public void accumulate(long dst, long src, long n) {
        for (long i = 0; i < n; i++) {
            f(dst, i, f(dst, i) + f(src, i));
        }
    }

    @Override
    public void fill(long dst, float value, long n) {
        for (long i = 0; i < n; i++) {
            f(dst, i, value);
        }
    }

    @Override
    public void fillFromScalar(long dst, long src, float scale, long n) {
        float v = f(src, 0) * scale;
        for (long i = 0; i < n; i++) {
            f(dst, i, v);
        }
    }

    /** The offset of flat index i decomposed over sizes (row-major) with strides. */
    private static long offset(long i, long[] sizes, long[] strides) {
        long rest = i, off = 0;
        for (int k = sizes.length - 1; k >= 0; k--) {
            off += (rest % sizes[k]) * strides[k];
            rest /= sizes[k];
        }
        return off;
    }

    @Override
    public void addBroadcast(long a, long b, long y, long n, long[] sizes, long[] bStrides) {
        if (sizes.length > 8) {
            throw new CudaException("addBroadcast: more than 8 dimensions");
        }
        for (long i = 0; i < n; i++) {
            f(y, i, f(a, i) + f(b, offset(i, sizes, bStrides)));
        }
    }

    @Override
    public void reduceTo(long g, long out, long m, long[] keptSizes, long[] keptStrides, long[] reducedSizes, long[] reducedStrides, boolean accumulate) {
        long count = 1;
        for (long s : reducedSizes) {
            count *= s;
        }
        for (long j = 0; j < m; j++) {
            long base = offset(j, keptSizes, keptStrides);
            double s = 0;
            for (long c = 0; c < count; c++) {
                s += f(g, base + offset(c, reducedSizes, reducedStrides));
            }
            f(out, j, accumulate ? f(out, j) + (float) s : (float) s);
        }
    }

    @Override
    public void permute(long x, long y, long n, long[] sizes, long[] strides) {
        for (long i = 0; i < n; i++) {
            f(y, i, f(x, offset(i, sizes, strides)));
        }
    }

    @Override
    public void copyBlock(long src, long dst, long outer, long rows, long inner, long srcRows, long srcFrom, long dstRows, long dstFrom) {
        for (long i = 0; i < outer * rows * inner; i++) {
            long k = i % inner, r = (i / inner) % rows, o = i / (inner * rows);
            f(dst, (o * dstRows + dstFrom + r) * inner + k, f(src, (o * srcRows + srcFrom + r) * inner + k));
        }
    }

    @Override
    public void sum(long x, long n, double scale, long out) {
        double s = 0;
        for (long i = 0; i < n; i++) {
            s += f(x, i);
        }
        f(out, 0, (float) (scale * s));
    }

    @Override
    public void sumSquares(long x, long n, long out, boolean accumulate) {
        double s = 0;
        for (long i = 0; i < n; i++) {
            s += (double) f(x, i) * f(x, i);
        }
        d(out, 0, accumulate ? d(out, 0) + s : s);
    }

    @Override
    public void toFloat(int kind, long src, long dst, long n) {
        for (long i = 0; i < n; i++) {
            short h = heap.getShort(off(src) + (int) (i * 2));
            f(dst, i, kind == 0 ? halfToFloat(h) : Float.intBitsToFloat((h & 0xffff) << 16));
        }
    }

    /** IEEE 754 binary16 to float. */
    static float halfToFloat(short h) {
        int bits = h & 0xffff;
        int sign = bits >>> 15, exp = (bits >>> 10) & 0x1f, mant = bits & 0x3ff;
        float v;
        if (exp == 0) {
            v = mant * 0x1p-24f;
        } else if (exp == 31) {
            v = mant == 0 ? Float.POSITIVE_INFINITY : Float.NaN;
        } else {
            v = Float.intBitsToFloat(((exp - 15 + 127) << 23) | (mant << 13));
        }
        return sign == 0 ? v : -v;
    }

    @Override
    public void fromFloat(int kind, long src, long dst, long n) {
        throw new UnsupportedOperationException("fromFloat is not emulated");
    }

    private float term(int kind, float d) {
        if (kind == 0) {
            return d * d;
        }
        float a = Math.abs(d);
        if (kind == 1) {
            return a;
        }
        return a < 1 ? 0.5f * d * d : a - 0.5f;
    }

    @Override
    public void regressionForward(int kind, long p, long t, long n, long out) {
        double s = 0;
        for (long i = 0; i < n; i++) {
            s += term(kind, f(p, i) - f(t, i));
        }
        f(out, 0, (float) (s / n));
    }

    @Override
    public void regressionBackward(int kind, long p, long t, long n, long dloss, long dp, long dt) {
        float c = (float) ((double) f(dloss, 0) / n);
        for (long i = 0; i < n; i++) {
            float d = f(p, i) - f(t, i);
            float fd = kind == 0 ? 2 * d : kind == 1 ? Math.signum(d) : (Math.abs(d) < 1 ? d : Math.signum(d));
            if (dp != 0) {
                f(dp, i, fd * c);
            }
            if (dt != 0) {
                f(dt, i, -fd * c);
            }
        }
    }

    private double[] cosRow(long p, long t, long row, long D) {
        double dot = 0, pp = 0, tt = 0;
        for (long j = 0; j < D; j++) {
            double a = f(p, row * D + j), b = f(t, row * D + j);
            dot += a * b;
            pp += a * a;
            tt += b * b;
        }
        double pn = Math.max(Math.sqrt(pp), 1e-8), tn = Math.max(Math.sqrt(tt), 1e-8);
        return new double[] {dot / (pn * tn), pn, tn};
    }

    @Override
    public void cosineForward(long p, long t, long rows, long d, long cosScratch, long out) {
        double s = 0;
        for (long r = 0; r < rows; r++) {
            float c = (float) cosRow(p, t, r, d)[0];
            f(cosScratch, r, c);
            s += c;
        }
        f(out, 0, (float) (1.0 - s / rows));
    }

    @Override
    public void cosineBackward(long p, long t, long rows, long d, long dloss, long dp, long dt) {
        double s = -(double) f(dloss, 0) / rows;
        for (long r = 0; r < rows; r++) {
            double[] c = cosRow(p, t, r, d);
            double cos = c[0], pn = c[1], tn = c[2], denom = pn * tn;
            for (long j = 0; j < d; j++) {
                double a = f(p, r * d + j), b = f(t, r * d + j);
                if (dp != 0) {
                    f(dp, r * d + j, (float) ((b / denom - a * cos / (pn * pn)) * s));
                }
                if (dt != 0) {
                    f(dt, r * d + j, (float) ((a / denom - b * cos / (tn * tn)) * s));
                }
            }
        }
    }

    @Override
    public void crossEntropyForward(long x, int rows, int vocab, long targets, int ignoreIndex, long lse, long rowLoss, double invNorm, long loss) {
        double total = 0;
        for (int r = 0; r < rows; r++) {
            float mx = Float.NEGATIVE_INFINITY;
            for (int j = 0; j < vocab; j++) {
                mx = Math.max(mx, f(x, (long) r * vocab + j));
            }
            float s = 0;
            for (int j = 0; j < vocab; j++) {
                s += (float) Math.exp(f(x, (long) r * vocab + j) - mx);
            }
            double l = mx + Math.log(s);
            f(lse, r, (float) l);
            int t = in(targets, r);
            float rl = t == ignoreIndex ? 0f : (float) (l - f(x, (long) r * vocab + t));
            f(rowLoss, r, rl);
            total += rl;
        }
        f(loss, 0, (float) (total * invNorm));
    }

    @Override
    public void crossEntropyBackward(long x, int rows, int vocab, long targets, int ignoreIndex, long lse, long dloss, double invNorm, long grad) {
        for (int r = 0; r < rows; r++) {
            int t = in(targets, r);
            float sc = t == ignoreIndex ? 0f : (float) (f(dloss, 0) * invNorm);
            float l = f(lse, r);
            for (int j = 0; j < vocab; j++) {
                long i = (long) r * vocab + j;
                float p = sc == 0f ? 0f : (float) Math.exp(f(x, i) - l) * sc;
                f(grad, i, j == t ? p - sc : p);
            }
        }
    }

    @Override
    public void adamW(long w, long g, long m, long v, long n, double beta1, double beta2, double eps, double stepSize, double bc2Sqrt, double decay) {
        float b1 = (float) beta1, c1 = (float) (1 - beta1), b2 = (float) beta2, c2 = (float) (1 - beta2);
        for (long i = 0; i < n; i++) {
            float gi = f(g, i);
            float mi = f(m, i) * b1 + gi * c1;
            float vi = f(v, i) * b2 + gi * gi * c2;
            f(m, i, mi);
            f(v, i, vi);
            float wi = f(w, i) * (float) decay;
            f(w, i, wi - (float) stepSize * (mi / ((float) Math.sqrt(vi) / (float) bc2Sqrt + (float) eps)));
        }
    }

    @Override
    public void sgd(long w, long g, long n, double lr, double decay) {
        for (long i = 0; i < n; i++) {
            f(w, i, f(w, i) * (float) decay - f(g, i) * (float) lr);
        }
    }

    // ---------------------------------------------------------------- rows.cu

    @Override
    public void rmsForward(long x, long w, long y, long rstd, int rows, int c, double eps) {
        for (int r = 0; r < rows; r++) {
            double ss = 0;
            for (int j = 0; j < c; j++) {
                ss += (double) f(x, (long) r * c + j) * f(x, (long) r * c + j);
            }
            double rs = 1.0 / Math.sqrt(ss / c + eps);
            d(rstd, r, rs);
            for (int j = 0; j < c; j++) {
                f(y, (long) r * c + j, f(x, (long) r * c + j) * (float) rs * f(w, j));
            }
        }
    }

    @Override
    public void rmsBackward(long g, long x, long w, long rstd, long dx, long dw, int rows, int c, boolean accumulateDw) {
        if (dx != 0) {
            for (int r = 0; r < rows; r++) {
                float rf = (float) d(rstd, r);
                double dot = 0;
                for (int j = 0; j < c; j++) {
                    long i = (long) r * c + j;
                    dot += f(g, i) * f(w, j) * (f(x, i) * rf);
                }
                float mean = (float) (dot / c);
                for (int j = 0; j < c; j++) {
                    long i = (long) r * c + j;
                    f(dx, i, (f(g, i) * f(w, j) - f(x, i) * rf * mean) * rf);
                }
            }
        }
        if (dw != 0) {
            for (int j = 0; j < c; j++) {
                double s = 0;
                for (int r = 0; r < rows; r++) {
                    long i = (long) r * c + j;
                    s += f(g, i) * (f(x, i) * (float) d(rstd, r));
                }
                f(dw, j, accumulateDw ? f(dw, j) + (float) s : (float) s);
            }
        }
    }

    @Override
    public void layerForward(long x, long w, long b, long y, long mean, long rstd, int rows, int c, double eps) {
        for (int r = 0; r < rows; r++) {
            double s = 0;
            for (int j = 0; j < c; j++) {
                s += f(x, (long) r * c + j);
            }
            double mu = s / c, ss = 0;
            for (int j = 0; j < c; j++) {
                double dd = f(x, (long) r * c + j) - mu;
                ss += dd * dd;
            }
            double rs = 1.0 / Math.sqrt(ss / c + eps);
            d(mean, r, mu);
            d(rstd, r, rs);
            for (int j = 0; j < c; j++) {
                long i = (long) r * c + j;
                f(y, i, (f(x, i) - (float) mu) * (float) rs * f(w, j) + f(b, j));
            }
        }
    }

    @Override
    public void layerBackward(long g, long x, long w, long mean, long rstd, long dx, long dw, long db, int rows, int c, boolean accumulateParams) {
        if (dx != 0) {
            for (int r = 0; r < rows; r++) {
                float m = (float) d(mean, r), rs = (float) d(rstd, r);
                double sg = 0, sgx = 0;
                for (int j = 0; j < c; j++) {
                    long i = (long) r * c + j;
                    float gh = f(g, i) * f(w, j);
                    sg += gh;
                    sgx += gh * ((f(x, i) - m) * rs);
                }
                float mg = (float) (sg / c), mgx = (float) (sgx / c);
                for (int j = 0; j < c; j++) {
                    long i = (long) r * c + j;
                    float xh = (f(x, i) - m) * rs;
                    f(dx, i, (f(g, i) * f(w, j) - mg - xh * mgx) * rs);
                }
            }
        }
        if (dw != 0 || db != 0) {
            for (int j = 0; j < c; j++) {
                double sw = 0, sb = 0;
                for (int r = 0; r < rows; r++) {
                    long i = (long) r * c + j;
                    float gv = f(g, i);
                    sw += gv * ((f(x, i) - (float) d(mean, r)) * (float) d(rstd, r));
                    sb += gv;
                }
                if (dw != 0) {
                    f(dw, j, accumulateParams ? f(dw, j) + (float) sw : (float) sw);
                }
                if (db != 0) {
                    f(db, j, accumulateParams ? f(db, j) + (float) sb : (float) sb);
                }
            }
        }
    }

    @Override
    public void columnSum(long g, long rows, int c, long out, boolean accumulate) {
        for (int j = 0; j < c; j++) {
            double s = 0;
            for (long r = 0; r < rows; r++) {
                s += f(g, r * c + j);
            }
            f(out, j, accumulate ? f(out, j) + (float) s : (float) s);
        }
    }

    @Override
    public void rope(long x, long cos, long sin, long y, long rows, int t, int hp, int d, boolean transpose) {
        int h = d / 2;
        for (long e = 0; e < rows * d; e++) {
            long r = e / d;
            int i = (int) (e % d);
            long pos = (r / hp) % t;
            long c = pos * d, xr = r * d;
            float v;
            if (!transpose) {
                v = i < h ? f(x, xr + i) * f(cos, c + i) - f(x, xr + i + h) * f(sin, c + i) : f(x, xr + i) * f(cos, c + i) + f(x, xr + i - h) * f(sin, c + i);
            } else {
                v = i < h ? f(x, xr + i) * f(cos, c + i) + f(x, xr + i + h) * f(sin, c + i + h)
                        : f(x, xr + i) * f(cos, c + i) - f(x, xr + i - h) * f(sin, c + i - h);
            }
            f(y, e, v);
        }
    }

    @Override
    public void gatherRows(long src, int c, long idx, long n, long dst) {
        for (long e = 0; e < n * c; e++) {
            f(dst, e, f(src, (long) in(idx, e / c) * c + e % c));
        }
    }

    @Override
    public void scatterRows(long src, int c, long idx, long n, long dst) {
        for (long e = 0; e < n * c; e++) {
            f(dst, (long) in(idx, e / c) * c + e % c, f(src, e));
        }
    }

    @Override
    public void zeroRows(long dst, int c, long idx, long n) {
        for (long e = 0; e < n * c; e++) {
            f(dst, (long) in(idx, e / c) * c + e % c, 0f);
        }
    }

    @Override
    public void scatterAddRows(long src, int c, long rows, long offsets, long positions, int distinct, long dst) {
        for (int u = 0; u < distinct; u++) {
            long out = (long) in(rows, u) * c;
            for (int j = 0; j < c; j++) {
                float s = 0;
                for (int k = in(offsets, u); k < in(offsets, u + 1); k++) {
                    s += f(src, (long) in(positions, k) * c + j);
                }
                f(dst, out + j, f(dst, out + j) + s);
            }
        }
    }

    // ---------------------------------------------------------------- attention.cu (its kernels, one row at a time)

    /** The Layout of attention.cu: element strides of q-like and k-like arrays. */
    private record Layout(int b, int hkv, int rep, int t, int s, int d, long qB, long qH, long qT, long kB, long kH, long kT) {
        static Layout of(int b, int hkv, int rep, int t, int s, int d, boolean tokenMajor) {
            long h = (long) hkv * rep;
            return tokenMajor ? new Layout(b, hkv, rep, t, s, d, t * h * d, d, h * d, (long) s * hkv * d, d, (long) hkv * d)
                    : new Layout(b, hkv, rep, t, s, d, h * t * d, (long) t * d, d, (long) hkv * s * d, (long) s * d, d);
        }

        long q(int bi, int h, int i) {
            return bi * qB + h * qH + i * qT;
        }

        long k(int bi, int kvh, int j) {
            return bi * kB + kvh * kH + j * kT;
        }
    }

    private float dot(long a, long ao, long b, long bo, int d) {
        float s = 0;
        for (int c = 0; c < d; c++) {
            s += f(a, ao + c) * f(b, bo + c);
        }
        return s;
    }

    private boolean visible(Layout L, long keyMask, boolean causal, int bi, int i, int j) {
        return (!causal || j <= L.s() - L.t() + i) && (keyMask == 0 || f(keyMask, (long) bi * L.s() + j) != 0f);
    }

    /** P of key j for query row i from the row's log-sum-exp (+inf: uniform). */
    private float probability(Layout L, long q, long k, long keyMask, boolean causal, float scale, int bi, int h, int i, int j, float lse) {
        if (lse == Float.POSITIVE_INFINITY) {
            return 1.0f / L.s();
        }
        if (!visible(L, keyMask, causal, bi, i, j)) {
            return 0f;
        }
        return (float) Math.exp(dot(q, L.q(bi, h, i), k, L.k(bi, h / L.rep(), j), L.d()) * scale - lse);
    }

    @Override
    public void flashAttentionForward(long q, long k, long v, long keyMask, long lse, long y, int b, int hkv, int rep, int t, int s, int d,
            boolean causal, double scale, boolean tokenMajor) {
        Layout L = Layout.of(b, hkv, rep, t, s, d, tokenMajor);
        int heads = hkv * rep;
        float sc = (float) scale;
        float[] acc = new float[d];
        // flash_forward_kernel: an online softmax over blocks of BLOCK keys per query row
        for (long row = 0; row < (long) b * heads * t; row++) {
            int i = (int) (row % t), h = (int) ((row / t) % heads), bi = (int) (row / ((long) t * heads)), kvh = h / rep;
            java.util.Arrays.fill(acc, 0f);
            int lim = causal ? s - t + i + 1 : s;
            float mx = Float.NEGATIVE_INFINITY, sum = 0;
            for (int j0 = 0; j0 < lim; j0 += BLOCK) {
                int n = Math.min(BLOCK, lim - j0);
                float[] sco = new float[n];
                float bm = Float.NEGATIVE_INFINITY;
                for (int jj = 0; jj < n; jj++) {
                    int j = j0 + jj;
                    sco[jj] = visible(L, keyMask, causal, bi, i, j) ? dot(q, L.q(bi, h, i), k, L.k(bi, kvh, j), d) * sc : Float.NEGATIVE_INFINITY;
                    bm = Math.max(bm, sco[jj]);
                }
                float m = Math.max(mx, bm);
                if (m == Float.NEGATIVE_INFINITY) {
                    continue;
                }
                float corr = mx == Float.NEGATIVE_INFINITY ? 0f : (float) Math.exp(mx - m);
                float bs = 0;
                for (int jj = 0; jj < n; jj++) {
                    sco[jj] = sco[jj] == Float.NEGATIVE_INFINITY ? 0f : (float) Math.exp(sco[jj] - m);
                    bs += sco[jj];
                }
                sum = sum * corr + bs;
                mx = m;
                for (int c = 0; c < d; c++) {
                    float a = acc[c] * corr;
                    for (int jj = 0; jj < n; jj++) {
                        a += sco[jj] * f(v, L.k(bi, kvh, j0 + jj) + c);
                    }
                    acc[c] = a;
                }
            }
            long yo = L.q(bi, h, i);
            if (mx == Float.NEGATIVE_INFINITY) {
                for (int c = 0; c < d; c++) {
                    float a = 0;
                    for (int j = 0; j < s; j++) {
                        a += f(v, L.k(bi, kvh, j) + c);
                    }
                    f(y, yo + c, a / s);
                }
                f(lse, row, Float.POSITIVE_INFINITY);
                continue;
            }
            for (int c = 0; c < d; c++) {
                f(y, yo + c, acc[c] / sum);
            }
            f(lse, row, mx + (float) Math.log(sum));
        }
    }

    @Override
    public void flashAttentionBackward(long q, long k, long v, long keyMask, long y, long lse, long dy, long dq, long dk, long dv, long dRows,
            int b, int hkv, int rep, int t, int s, int d, boolean causal, double scale, boolean tokenMajor) {
        Layout L = Layout.of(b, hkv, rep, t, s, d, tokenMajor);
        int heads = hkv * rep;
        float sc = (float) scale;
        // flash_backward_dq_kernel: D per query row, then dq
        for (long row = 0; row < (long) b * heads * t; row++) {
            int i = (int) (row % t), h = (int) ((row / t) % heads), bi = (int) (row / ((long) t * heads)), kvh = h / rep;
            long qo = L.q(bi, h, i);
            float D = dot(dy, qo, y, qo, d);
            f(dRows, row, D);
            if (dq == 0) {
                continue;
            }
            float rowLse = f(lse, row);
            int lim = causal && rowLse != Float.POSITIVE_INFINITY ? s - t + i + 1 : s;
            float[] acc = new float[d];
            for (int j = 0; j < lim; j++) {
                float p = probability(L, q, k, keyMask, causal, sc, bi, h, i, j, rowLse);
                float g = p * (dot(dy, qo, v, L.k(bi, kvh, j), d) - D) * sc;
                for (int c = 0; c < d; c++) {
                    acc[c] += g * f(k, L.k(bi, kvh, j) + c);
                }
            }
            for (int c = 0; c < d; c++) {
                f(dq, qo + c, acc[c]);
            }
        }
        if (dk == 0 && dv == 0) {
            return;
        }
        // flash_backward_dkv_kernel: one key row at a time over the group's heads and queries
        for (long row = 0; row < (long) b * hkv * s; row++) {
            int j = (int) (row % s), kvh = (int) ((row / s) % hkv), bi = (int) (row / ((long) s * hkv));
            long ko = L.k(bi, kvh, j);
            float[] ak = new float[d], av = new float[d];
            for (int r = 0; r < rep; r++) {
                int h = kvh * rep + r;
                long rowBase = ((long) bi * heads + h) * t;
                for (int i = 0; i < t; i++) {
                    long qo = L.q(bi, h, i);
                    float p = probability(L, q, k, keyMask, causal, sc, bi, h, i, j, f(lse, rowBase + i));
                    float g = p == 0f ? 0f : p * (dot(dy, qo, v, ko, d) - f(dRows, rowBase + i)) * sc;
                    for (int c = 0; c < d; c++) {
                        av[c] += p * f(dy, qo + c);
                        ak[c] += g * f(q, qo + c);
                    }
                }
            }
            for (int c = 0; c < d; c++) {
                if (dk != 0) {
                    f(dk, ko + c, ak[c]);
                }
                if (dv != 0) {
                    f(dv, ko + c, av[c]);
                }
            }
        }
    }

    @Override
    public void attentionProbabilities(long q, long k, long keyMask, long lse, long probs, int b, int hkv, int rep, int t, int s, int d,
            boolean causal, double scale, boolean tokenMajor) {
        Layout L = Layout.of(b, hkv, rep, t, s, d, tokenMajor);
        int heads = hkv * rep;
        for (long row = 0; row < (long) b * heads * t; row++) {
            int i = (int) (row % t), h = (int) ((row / t) % heads), bi = (int) (row / ((long) t * heads));
            float rowLse = f(lse, row);
            for (int j = 0; j < s; j++) {
                f(probs, row * s + j, probability(L, q, k, keyMask, causal, (float) scale, bi, h, i, j, rowLse));
            }
        }
    }

    /** attention.cu's threads per block: the key blocks of the online softmax. */
    private static final int BLOCK = 256;
}
