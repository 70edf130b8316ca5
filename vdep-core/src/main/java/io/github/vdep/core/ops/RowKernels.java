package io.github.vdep.core.ops;

import io.github.vdep.core.autograd.Buffers;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.util.stream.IntStream;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * RMSNorm and LayerNorm over the rows of a matrix [N, C] as single passes over the arrays'
 * memory. Built from ND4J array operations each norm takes ten to fifteen native calls, most of
 * them row-wise broadcasts, and at LLaVA's row widths the per-call cost dominates. Row
 * statistics are accumulated in double precision; rows are split over ND4J's thread count, and
 * the backward's weight and bias gradients are summed over fixed 32-row chunks in order, so no
 * result depends on the thread count.
 * Only for whole row-major float or double arrays ({@link #applies}); the callers keep the
 * array-operation path for anything else. Where the native kernels are loaded each task's rows
 * go through them ({@link NativeKernels#rmsForwardRows} and the others: vectorised, and no
 * waiting for the JIT), otherwise through the Java loops here.
 */
final class RowKernels {
    private static final int MIN_ROWS_PER_TASK = 32;
    private static final int CHUNK_ROWS = 32;

    private RowKernels() {
    }

    static boolean applies(INDArray... arrays) {
        DataType t = arrays[0].dataType();
        if (t != DataType.FLOAT && t != DataType.DOUBLE) {
            return false;
        }
        for (INDArray a : arrays) {
            if (a.dataType() != t || !Shapes.isWhole(a) || a.length() > Integer.MAX_VALUE) {
                return false;
            }
        }
        return true;
    }

    /** Row ranges [from, to) for the available threads. */
    private static int tasks(int rows) {
        int threads = Math.max(1, Math.min(Nd4j.getEnvironment().maxThreads(), Runtime.getRuntime().availableProcessors()));
        return Math.max(1, Math.min(threads, rows / MIN_ROWS_PER_TASK));
    }

    private static void forRanges(int rows, int tasks, RangeBody body) {
        if (tasks == 1) {
            body.run(0, 0, rows);
            return;
        }
        IntStream.range(0, tasks).parallel().forEach(t -> body.run(t, (int) ((long) rows * t / tasks), (int) ((long) rows * (t + 1) / tasks)));
    }

    /**
     * Runs body over the row chunks of {@link #CHUNK_ROWS} rows (the last one shorter), chunk k
     * as (k, from, to), the chunks split over the threads. The backward passes sum the weight and
     * bias gradients per chunk and then over the chunks in order, so the result does not depend on
     * the thread count.
     */
    private static void forChunks(int rows, RangeBody body) {
        int chunks = chunks(rows);
        forRanges(chunks, tasks(rows), (task, c0, c1) -> { // tasks(rows) <= chunks
            for (int k = c0; k < c1; k++) {
                body.run(k, k * CHUNK_ROWS, Math.min(rows, (k + 1) * CHUNK_ROWS));
            }
        });
    }

    private static int chunks(int rows) {
        return Math.max(1, (rows + CHUNK_ROWS - 1) / CHUNK_ROWS);
    }

    @FunctionalInterface
    private interface RangeBody {
        void run(int task, int from, int to);
    }

    // ---------------------------------------------------------------- RMSNorm

    /** y = x r w with r = 1 / sqrt(mean(x^2) + eps) per row; returns y [N, C] and fills r [N]. */
    static INDArray rmsForward(INDArray x2, INDArray w, double eps, double[] r) {
        int n = (int) x2.size(0);
        int c = (int) x2.size(1);
        INDArray y = Buffers.allocate(x2.dataType(), n, c);
        if (NativeKernels.usable(x2, w)) {
            forRanges(n, tasks(n), (task, from, to) -> {
                double[] stats = new double[to - from];
                NativeKernels.rmsForwardRows(x2, w, y, eps, stats, from, to);
                System.arraycopy(stats, 0, r, from, to - from);
            });
        } else if (x2.dataType() == DataType.FLOAT) {
            FloatBuffer x = x2.data().asNioFloat();
            FloatBuffer wb = w.data().asNioFloat();
            FloatBuffer yb = y.data().asNioFloat();
            forRanges(n, tasks(n), (task, from, to) -> {
                for (int i = from; i < to; i++) {
                    int o = i * c;
                    double ss = 0;
                    for (int j = 0; j < c; j++) {
                        double v = x.get(o + j);
                        ss += v * v;
                    }
                    r[i] = 1.0 / Math.sqrt(ss / c + eps);
                    float ri = (float) r[i];
                    for (int j = 0; j < c; j++) {
                        yb.put(o + j, x.get(o + j) * ri * wb.get(j));
                    }
                }
            });
        } else {
            DoubleBuffer x = x2.data().asNioDouble();
            DoubleBuffer wb = w.data().asNioDouble();
            DoubleBuffer yb = y.data().asNioDouble();
            forRanges(n, tasks(n), (task, from, to) -> {
                for (int i = from; i < to; i++) {
                    int o = i * c;
                    double ss = 0;
                    for (int j = 0; j < c; j++) {
                        double v = x.get(o + j);
                        ss += v * v;
                    }
                    r[i] = 1.0 / Math.sqrt(ss / c + eps);
                    for (int j = 0; j < c; j++) {
                        yb.put(o + j, x.get(o + j) * r[i] * wb.get(j));
                    }
                }
            });
        }
        return y;
    }

    /**
     * Gradients of RMSNorm: dx [N, C] (null unless {@code wantX}) and dw [C] (null unless
     * {@code wantW}), from g [N, C]. xhat = x r; dw = sum_rows g xhat; dx = (g w - xhat mean(g w xhat)) r.
     */
    static INDArray[] rmsBackward(INDArray g2, INDArray x2, INDArray w, double[] r, boolean wantX, boolean wantW) {
        int n = (int) x2.size(0);
        int c = (int) x2.size(1);
        int chunks = chunks(n);
        double[][] dwPart = wantW ? new double[chunks][c] : null;
        INDArray dx = wantX ? Buffers.allocate(x2.dataType(), n, c) : null;
        if (NativeKernels.usable(g2, x2, w)) {
            forChunks(n, (chunk, from, to) -> NativeKernels.rmsBackwardRows(g2, x2, w, r, dx, wantW ? dwPart[chunk] : null, from, to));
        } else if (x2.dataType() == DataType.FLOAT) {
            FloatBuffer x = x2.data().asNioFloat();
            FloatBuffer g = g2.data().asNioFloat();
            FloatBuffer wb = w.data().asNioFloat();
            FloatBuffer dxb = wantX ? dx.data().asNioFloat() : null;
            forChunks(n, (chunk, from, to) -> {
                double[] dw = wantW ? dwPart[chunk] : null;
                for (int i = from; i < to; i++) {
                    int o = i * c;
                    float ri = (float) r[i];
                    double dot = 0;
                    for (int j = 0; j < c; j++) {
                        float xh = x.get(o + j) * ri;
                        float gj = g.get(o + j);
                        if (wantW) {
                            dw[j] += gj * xh;
                        }
                        dot += gj * wb.get(j) * xh;
                    }
                    if (wantX) {
                        float mean = (float) (dot / c);
                        for (int j = 0; j < c; j++) {
                            float xh = x.get(o + j) * ri;
                            dxb.put(o + j, (g.get(o + j) * wb.get(j) - xh * mean) * ri);
                        }
                    }
                }
            });
        } else {
            DoubleBuffer x = x2.data().asNioDouble();
            DoubleBuffer g = g2.data().asNioDouble();
            DoubleBuffer wb = w.data().asNioDouble();
            DoubleBuffer dxb = wantX ? dx.data().asNioDouble() : null;
            forChunks(n, (chunk, from, to) -> {
                double[] dw = wantW ? dwPart[chunk] : null;
                for (int i = from; i < to; i++) {
                    int o = i * c;
                    double dot = 0;
                    for (int j = 0; j < c; j++) {
                        double xh = x.get(o + j) * r[i];
                        double gj = g.get(o + j);
                        if (wantW) {
                            dw[j] += gj * xh;
                        }
                        dot += gj * wb.get(j) * xh;
                    }
                    if (wantX) {
                        double mean = dot / c;
                        for (int j = 0; j < c; j++) {
                            double xh = x.get(o + j) * r[i];
                            dxb.put(o + j, (g.get(o + j) * wb.get(j) - xh * mean) * r[i]);
                        }
                    }
                }
            });
        }
        return new INDArray[] {dx, wantW ? sum(dwPart, c, x2.dataType()) : null};
    }

    // ---------------------------------------------------------------- LayerNorm

    /** y = (x - mean) rstd w + b per row (biased variance); returns y and fills mean and rstd [N]. */
    static INDArray layerForward(INDArray x2, INDArray w, INDArray b, double eps, double[] mean, double[] rstd) {
        int n = (int) x2.size(0);
        int c = (int) x2.size(1);
        INDArray y = Buffers.allocate(x2.dataType(), n, c);
        if (NativeKernels.usable(x2, w, b)) {
            forRanges(n, tasks(n), (task, from, to) -> {
                double[] mu = new double[to - from];
                double[] rs = new double[to - from];
                NativeKernels.layerForwardRows(x2, w, b, y, eps, mu, rs, from, to);
                System.arraycopy(mu, 0, mean, from, to - from);
                System.arraycopy(rs, 0, rstd, from, to - from);
            });
        } else if (x2.dataType() == DataType.FLOAT) {
            FloatBuffer x = x2.data().asNioFloat();
            FloatBuffer wb = w.data().asNioFloat();
            FloatBuffer bb = b.data().asNioFloat();
            FloatBuffer yb = y.data().asNioFloat();
            forRanges(n, tasks(n), (task, from, to) -> {
                for (int i = from; i < to; i++) {
                    int o = i * c;
                    double s = 0;
                    for (int j = 0; j < c; j++) {
                        s += x.get(o + j);
                    }
                    double mu = s / c;
                    double ss = 0;
                    for (int j = 0; j < c; j++) {
                        double d = x.get(o + j) - mu;
                        ss += d * d;
                    }
                    mean[i] = mu;
                    rstd[i] = 1.0 / Math.sqrt(ss / c + eps);
                    float m = (float) mu;
                    float rs = (float) rstd[i];
                    for (int j = 0; j < c; j++) {
                        yb.put(o + j, (x.get(o + j) - m) * rs * wb.get(j) + bb.get(j));
                    }
                }
            });
        } else {
            DoubleBuffer x = x2.data().asNioDouble();
            DoubleBuffer wb = w.data().asNioDouble();
            DoubleBuffer bb = b.data().asNioDouble();
            DoubleBuffer yb = y.data().asNioDouble();
            forRanges(n, tasks(n), (task, from, to) -> {
                for (int i = from; i < to; i++) {
                    int o = i * c;
                    double s = 0;
                    for (int j = 0; j < c; j++) {
                        s += x.get(o + j);
                    }
                    double mu = s / c;
                    double ss = 0;
                    for (int j = 0; j < c; j++) {
                        double d = x.get(o + j) - mu;
                        ss += d * d;
                    }
                    mean[i] = mu;
                    rstd[i] = 1.0 / Math.sqrt(ss / c + eps);
                    for (int j = 0; j < c; j++) {
                        yb.put(o + j, (x.get(o + j) - mu) * rstd[i] * wb.get(j) + bb.get(j));
                    }
                }
            });
        }
        return y;
    }

    /**
     * Gradients of LayerNorm: {dx, dw, db} (each null unless wanted). With xhat = (x - mean) rstd
     * and gh = g w: dx = (gh - mean(gh) - xhat mean(gh xhat)) rstd; dw = sum g xhat; db = sum g.
     */
    static INDArray[] layerBackward(INDArray g2, INDArray x2, INDArray w, double[] mean, double[] rstd, boolean wantX, boolean wantW, boolean wantB) {
        int n = (int) x2.size(0);
        int c = (int) x2.size(1);
        int chunks = chunks(n);
        double[][] dwPart = wantW ? new double[chunks][c] : null;
        double[][] dbPart = wantB ? new double[chunks][c] : null;
        INDArray dx = wantX ? Buffers.allocate(x2.dataType(), n, c) : null;
        if (NativeKernels.usable(g2, x2, w)) {
            forChunks(n, (chunk, from, to) -> NativeKernels.layerBackwardRows(g2, x2, w, mean, rstd, dx, wantW ? dwPart[chunk] : null,
                    wantB ? dbPart[chunk] : null, from, to));
        } else if (x2.dataType() == DataType.FLOAT) {
            FloatBuffer x = x2.data().asNioFloat();
            FloatBuffer g = g2.data().asNioFloat();
            FloatBuffer wb = w.data().asNioFloat();
            FloatBuffer dxb = wantX ? dx.data().asNioFloat() : null;
            forChunks(n, (chunk, from, to) -> {
                double[] dw = wantW ? dwPart[chunk] : null;
                double[] db = wantB ? dbPart[chunk] : null;
                for (int i = from; i < to; i++) {
                    int o = i * c;
                    float m = (float) mean[i];
                    float rs = (float) rstd[i];
                    double sg = 0;
                    double sgx = 0;
                    for (int j = 0; j < c; j++) {
                        float xh = (x.get(o + j) - m) * rs;
                        float gj = g.get(o + j);
                        if (wantW) {
                            dw[j] += gj * xh;
                        }
                        if (wantB) {
                            db[j] += gj;
                        }
                        float gh = gj * wb.get(j);
                        sg += gh;
                        sgx += gh * xh;
                    }
                    if (wantX) {
                        float mg = (float) (sg / c);
                        float mgx = (float) (sgx / c);
                        for (int j = 0; j < c; j++) {
                            float xh = (x.get(o + j) - m) * rs;
                            dxb.put(o + j, (g.get(o + j) * wb.get(j) - mg - xh * mgx) * rs);
                        }
                    }
                }
            });
        } else {
            DoubleBuffer x = x2.data().asNioDouble();
            DoubleBuffer g = g2.data().asNioDouble();
            DoubleBuffer wb = w.data().asNioDouble();
            DoubleBuffer dxb = wantX ? dx.data().asNioDouble() : null;
            forChunks(n, (chunk, from, to) -> {
                double[] dw = wantW ? dwPart[chunk] : null;
                double[] db = wantB ? dbPart[chunk] : null;
                for (int i = from; i < to; i++) {
                    int o = i * c;
                    double sg = 0;
                    double sgx = 0;
                    for (int j = 0; j < c; j++) {
                        double xh = (x.get(o + j) - mean[i]) * rstd[i];
                        double gj = g.get(o + j);
                        if (wantW) {
                            dw[j] += gj * xh;
                        }
                        if (wantB) {
                            db[j] += gj;
                        }
                        double gh = gj * wb.get(j);
                        sg += gh;
                        sgx += gh * xh;
                    }
                    if (wantX) {
                        double mg = sg / c;
                        double mgx = sgx / c;
                        for (int j = 0; j < c; j++) {
                            double xh = (x.get(o + j) - mean[i]) * rstd[i];
                            dxb.put(o + j, (g.get(o + j) * wb.get(j) - mg - xh * mgx) * rstd[i]);
                        }
                    }
                }
            });
        }
        return new INDArray[] {dx, wantW ? sum(dwPart, c, x2.dataType()) : null, wantB ? sum(dbPart, c, x2.dataType()) : null};
    }

    /** Sum of the per-chunk partial rows in chunk order, as an array [C] of the given type. */
    private static INDArray sum(double[][] parts, int c, DataType type) {
        double[] total = parts[0];
        for (int t = 1; t < parts.length; t++) {
            for (int j = 0; j < c; j++) {
                total[j] += parts[t][j];
            }
        }
        INDArray out = Nd4j.createFromArray(total);
        if (type == DataType.DOUBLE) {
            return out;
        }
        INDArray cast = out.castTo(type);
        Buffers.release(out);
        return cast;
    }
}
