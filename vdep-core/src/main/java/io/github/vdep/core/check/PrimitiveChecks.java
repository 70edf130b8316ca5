package io.github.vdep.core.check;

import io.github.vdep.core.autograd.Parameter;
import io.github.vdep.core.autograd.Tape;
import io.github.vdep.core.autograd.Tensor;
import io.github.vdep.core.backend.Backend;
import io.github.vdep.core.backend.Backends;
import io.github.vdep.core.device.Device;
import io.github.vdep.core.ops.F;
import io.github.vdep.core.ops.NativeKernels;
import io.github.vdep.core.ops.RegressionLoss;
import io.github.vdep.core.ops.RopeTables;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.function.BiFunction;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Every primitive, forward and backward, on a device against a reference path, on random FP32
 * inputs with odd sizes (what {@code vdep selfcheck} runs first). On a CUDA device the reference
 * is the CPU path; on the CPU it is the ND4J implementation of each primitive, and the path
 * checked is vdep's native CPU kernels (where they loaded; otherwise ND4J is compared with
 * itself and {@link #reference(Device)} says so).
 *
 * <p>Each case runs the primitive under a tape, back-propagates a random upstream gradient and
 * compares the output and every input gradient (and, for attention, the probabilities). The
 * error of one tensor is max |got - ref| / max |ref| (relative to the tensor's scale, so that
 * elements near zero do not dominate); a case passes when its largest error is within
 * {@link #TOLERANCE}.
 */
public final class PrimitiveChecks {
    /** FP32 parity bound: relative to each tensor's largest magnitude. */
    public static final double TOLERANCE = 1e-5;

    private PrimitiveChecks() {
    }

    /**
     * One check.
     *
     * @param name what was checked, for example {@code attention causal GQA [2,4,5,8]}
     * @param error the largest relative error found
     * @param worst which tensor had it
     */
    public record Result(String name, double error, double tolerance, String worst) {
        public boolean passed() {
            return error <= tolerance;
        }
    }

    /** What {@link #run} compares {@code device} with, in words. */
    public static String reference(Device device) {
        if (!device.isCpu()) {
            return "the CPU path";
        }
        return NativeKernels.available() ? "ND4J's operations (checking vdep's native CPU kernels)"
                : "ND4J's operations (the native CPU kernels are not loaded here, so ND4J is compared with itself)";
    }

    /** Runs every case; never throws for a failed comparison (an exception inside a case becomes a failed result). */
    public static List<Result> run(Device device) {
        List<Result> out = new ArrayList<>();
        for (Case c : cases()) {
            out.add(check(c, device));
        }
        out.add(optimizer("adamW 3 steps [7,13] weight decay 0.1", device, true));
        out.add(optimizer("sgd 2 steps [7,13] weight decay 0.1", device, false));
        out.add(gradientNorm(device));
        return out;
    }

    // ---------------------------------------------------------------- cases

    /** inputs[i] of {@code shapes[i]}, gradients wanted where {@code grads[i]}; extras collect host arrays to compare too. */
    private record Case(String name, long[][] shapes, boolean[] grads, BiFunction<Tensor[], List<INDArray>, Tensor> op) {
    }

    private static long[] s(long... dims) {
        return dims;
    }

    private static boolean[] all(int n) {
        boolean[] b = new boolean[n];
        Arrays.fill(b, true);
        return b;
    }

    private static Case c(String name, long[][] shapes, BiFunction<Tensor[], List<INDArray>, Tensor> op) {
        return new Case(name + " " + shapeList(shapes), shapes, all(shapes.length), op);
    }

    private static String shapeList(long[][] shapes) {
        StringBuilder b = new StringBuilder();
        for (long[] sh : shapes) {
            b.append(b.length() == 0 ? "" : " ").append(Arrays.toString(sh).replace(" ", ""));
        }
        return b.toString();
    }

    private static List<Case> cases() {
        List<Case> cs = new ArrayList<>();
        cs.add(c("linear", new long[][] {s(3, 5, 37), s(23, 37), s(23)}, (t, x) -> F.linear(t[0], t[1], t[2])));
        cs.add(c("linear no bias", new long[][] {s(67, 129), s(131, 129)}, (t, x) -> F.linear(t[0], t[1], null)));
        INDArray ids = Nd4j.createFromArray(new int[][] {{3, 0, 12, 3, 7}, {12, 12, 1, 5, 0}});
        cs.add(c("embedding (repeated ids)", new long[][] {s(13, 19)}, (t, x) -> F.embedding(t[0], ids)));
        cs.add(c("rmsNorm", new long[][] {s(4, 3, 1000), s(1000)}, (t, x) -> F.rmsNorm(t[0], t[1], 1e-6)));
        cs.add(c("layerNorm", new long[][] {s(5, 37), s(37), s(37)}, (t, x) -> F.layerNorm(t[0], t[1], t[2], 1e-5)));
        RopeTables rope = RopeTables.compute(8, 10000, 0, 5, DataType.FLOAT);
        cs.add(c("rope heads-major", new long[][] {s(2, 3, 5, 8)}, (t, x) -> F.rope(t[0], rope)));
        cs.add(c("rope token-major", new long[][] {s(2, 5, 3, 8)}, (t, x) -> F.ropeTokenMajor(t[0], rope)));
        double sc = 1 / Math.sqrt(8);
        cs.add(c("attention causal GQA", new long[][] {s(2, 4, 5, 8), s(2, 2, 5, 8), s(2, 2, 5, 8)},
                (t, x) -> F.attention(t[0], t[1], t[2], true, null, sc, x::add)));
        INDArray mask = Nd4j.createFromArray(new float[][] {{1, 1, 1, 0, 0, 1, 1}, {0, 1, 1, 1, 1, 1, 1}});
        cs.add(c("attention full key-mask GQA", new long[][] {s(2, 6, 5, 8), s(2, 3, 7, 8), s(2, 3, 7, 8)},
                (t, x) -> F.attention(t[0], t[1], t[2], false, mask, sc, x::add)));
        cs.add(c("attention causal KV-cache S>T", new long[][] {s(1, 4, 3, 8), s(1, 2, 7, 8), s(1, 2, 7, 8)},
                (t, x) -> F.attention(t[0], t[1], t[2], true, null, sc, x::add)));
        INDArray mask2 = Nd4j.createFromArray(new float[][] {{1, 1, 1, 1, 1, 0}, {0, 0, 1, 1, 1, 1}});
        cs.add(c("attention token-major causal key-mask GQA", new long[][] {s(2, 6, 4, 8), s(2, 6, 2, 8), s(2, 6, 2, 8)},
                (t, x) -> F.attentionTokenMajor(t[0], t[1], t[2], true, mask2, sc, x::add)));
        cs.add(c("attention token-major long", new long[][] {s(1, 300, 2, 16), s(1, 300, 1, 16), s(1, 300, 1, 16)},
                (t, x) -> F.attentionTokenMajor(t[0], t[1], t[2], true, null, 0.25, null)));
        // the training path (no probabilities kept: FlashAttention-2), off the CPU kernels' 64-row blocks,
        // left padding leaving the first causal queries of batch 1 with no visible key
        INDArray mask3 = Nd4j.ones(DataType.FLOAT, 2, 70);
        for (int j = 0; j < 3; j++) {
            mask3.putScalar(1, j, 0);
        }
        mask3.putScalar(0, 69, 0);
        cs.add(c("attention training token-major causal left-padded GQA", new long[][] {s(2, 70, 6, 8), s(2, 70, 2, 8), s(2, 70, 2, 8)},
                (t, x) -> F.attentionTokenMajor(t[0], t[1], t[2], true, mask3, sc, null)));
        cs.add(c("attention training KV-cache key-mask GQA", new long[][] {s(2, 4, 67, 8), s(2, 2, 70, 8), s(2, 2, 70, 8)},
                (t, x) -> F.attention(t[0], t[1], t[2], false, mask3, sc)));
        cs.add(c("gelu", new long[][] {s(3, 1001)}, (t, x) -> F.gelu(t[0])));
        cs.add(c("quickGelu", new long[][] {s(3, 1001)}, (t, x) -> F.quickGelu(t[0])));
        cs.add(c("silu", new long[][] {s(3, 1001)}, (t, x) -> F.silu(t[0])));
        cs.add(c("swiglu", new long[][] {s(3, 1001), s(3, 1001)}, (t, x) -> F.swiglu(t[0], t[1])));
        cs.add(c("add", new long[][] {s(3, 17), s(3, 17)}, (t, x) -> F.add(t[0], t[1])));
        cs.add(c("add bias broadcast", new long[][] {s(2, 3, 17), s(17)}, (t, x) -> F.add(t[0], t[1])));
        cs.add(c("add middle broadcast", new long[][] {s(2, 3, 17), s(3, 1)}, (t, x) -> F.add(t[0], t[1])));
        cs.add(c("mul", new long[][] {s(3, 17), s(3, 17)}, (t, x) -> F.mul(t[0], t[1])));
        cs.add(c("scale", new long[][] {s(3, 17)}, (t, x) -> F.scale(t[0], -0.37)));
        cs.add(c("sum (two-stage reduction)", new long[][] {s(100003)}, (t, x) -> F.sum(t[0])));
        cs.add(c("reshape", new long[][] {s(2, 3, 5)}, (t, x) -> F.reshape(t[0], 5, -1)));
        cs.add(c("permute", new long[][] {s(2, 3, 4, 5)}, (t, x) -> F.permute(t[0], 0, 2, 3, 1)));
        cs.add(c("slice", new long[][] {s(2, 7, 5)}, (t, x) -> F.slice(t[0], 1, 2, 6)));
        cs.add(c("concat", new long[][] {s(2, 3, 5), s(2, 4, 5)}, (t, x) -> F.concat(1, t[0], t[1])));
        cs.add(c("gatherRows (repeated rows)", new long[][] {s(9, 13)}, (t, x) -> F.gatherRows(t[0], new int[] {4, 0, 4, 8, 4})));
        cs.add(c("replaceRows", new long[][] {s(9, 13), s(3, 13)}, (t, x) -> F.replaceRows(t[0], new int[] {7, 0, 3}, t[1])));
        cs.add(c("detach then scale", new long[][] {s(3, 17), s(3, 17)}, (t, x) -> F.add(t[0], F.scale(F.detach(t[1]), 2))));
        int[] targets = {3, F.IGNORE_INDEX, 999, 0, 500, F.IGNORE_INDEX, 17};
        cs.add(c("crossEntropy ignore-index", new long[][] {s(7, 1001)}, (t, x) -> F.crossEntropy(t[0], targets)));
        cs.add(c("crossEntropy normalizer", new long[][] {s(7, 1001)}, (t, x) -> F.crossEntropy(t[0], targets, F.IGNORE_INDEX, 11.0)));
        for (RegressionLoss l : RegressionLoss.values()) {
            cs.add(c(l.optionName() + " loss", new long[][] {s(6, 37), s(6, 37)}, (t, x) -> l.apply(t[0], t[1])));
        }
        return cs;
    }

    // ---------------------------------------------------------------- running

    /** The host values and gradients of one run: output first, then extras, then gradients in input order. */
    private record Outcome(List<String> names, List<INDArray> arrays) {
    }

    private static Result check(Case c, Device device) {
        try {
            INDArray[] inputs = inputs(c);
            Outcome ref = reference(device, () -> execute(c, inputs, Device.CPU));
            Outcome got = execute(c, inputs, device);
            return compare(c.name(), ref, got);
        } catch (RuntimeException e) {
            return new Result(c.name(), Double.POSITIVE_INFINITY, TOLERANCE, "failed: " + oneLine(e));
        }
    }

    /** Runs the reference: on the CPU with the native kernels off when checking the CPU itself. */
    private static <T> T reference(Device device, java.util.function.Supplier<T> body) {
        if (!device.isCpu()) {
            return body.get();
        }
        boolean before = NativeKernels.setEnabled(false);
        try {
            return body.get();
        } finally {
            NativeKernels.setEnabled(before);
        }
    }

    private static INDArray[] inputs(Case c) {
        Random r = new Random(c.name().hashCode());
        INDArray[] in = new INDArray[c.shapes().length];
        for (int i = 0; i < in.length; i++) {
            in[i] = random(r, c.shapes()[i]);
        }
        return in;
    }

    private static INDArray random(Random r, long[] shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        float[] v = new float[Math.toIntExact(n)];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) r.nextGaussian();
        }
        return Nd4j.createFromArray(v).reshape(shape);
    }

    private static Outcome execute(Case c, INDArray[] inputs, Device device) {
        Tensor[] t = new Tensor[inputs.length];
        for (int i = 0; i < t.length; i++) {
            Tensor host = c.grads()[i] ? Tensor.leaf(inputs[i].dup()) : Tensor.constant(inputs[i].dup());
            t[i] = host.to(device);
        }
        List<String> names = new ArrayList<>();
        List<INDArray> arrays = new ArrayList<>();
        List<INDArray> extras = new ArrayList<>();
        try (Tape tape = Tape.record()) {
            Tensor y = c.op().apply(t, extras);
            names.add("output");
            arrays.add(host(y));
            for (int i = 0; i < extras.size(); i++) {
                names.add("probabilities");
                arrays.add(extras.get(i).dup());
            }
            if (y.requiresGrad()) {
                tape.backward(y, random(new Random(7), y.shape()));
            }
        }
        for (int i = 0; i < t.length; i++) {
            if (c.grads()[i]) {
                names.add("grad " + i);
                arrays.add(grad(t[i]));
            }
        }
        return new Outcome(names, arrays);
    }

    private static INDArray host(Tensor t) {
        return t.onCpu() ? t.value().dup('c') : t.to(Device.CPU).value();
    }

    private static INDArray grad(Tensor t) {
        if (t.onCpu()) {
            return t.grad() == null ? null : t.grad().dup('c');
        }
        return t.deviceGrad() == null ? null : Backends.device(t.device()).download(t.deviceGrad());
    }

    private static Result compare(String name, Outcome ref, Outcome got) {
        double worst = 0;
        String which = "-";
        if (ref.arrays().size() != got.arrays().size()) {
            return new Result(name, Double.POSITIVE_INFINITY, TOLERANCE, "different outputs: " + ref.names() + " vs " + got.names());
        }
        for (int i = 0; i < ref.arrays().size(); i++) {
            double e = error(ref.arrays().get(i), got.arrays().get(i));
            if (e > worst || Double.isNaN(e)) {
                worst = Double.isNaN(e) ? Double.POSITIVE_INFINITY : e;
                which = ref.names().get(i);
            }
        }
        return new Result(name, worst, TOLERANCE, which);
    }

    /** max |got - ref| / max |ref| (the absolute error where ref is all zeros); infinite for a shape mismatch or a missing array. */
    static double error(INDArray ref, INDArray got) {
        if (ref == null || got == null) {
            return ref == got ? 0 : Double.POSITIVE_INFINITY;
        }
        if (!Arrays.equals(ref.shape(), got.shape())) {
            return Double.POSITIVE_INFINITY;
        }
        INDArray r = ref.castTo(DataType.DOUBLE);
        INDArray g = got.castTo(DataType.DOUBLE);
        if (!Double.isFinite(g.sumNumber().doubleValue()) || !Double.isFinite(r.sumNumber().doubleValue())) {
            return Double.POSITIVE_INFINITY; // NaN or infinity somewhere (amax skips NaN)
        }
        double scale = r.amaxNumber().doubleValue();
        double err = r.sub(g).amaxNumber().doubleValue();
        if (Double.isNaN(err) || Double.isNaN(scale)) {
            return Double.POSITIVE_INFINITY;
        }
        return scale == 0 ? err : err / scale;
    }

    // ---------------------------------------------------------------- optimizers

    private static Result optimizer(String name, Device device, boolean adam) {
        try {
            Random r = new Random(name.hashCode());
            INDArray w0 = random(r, s(7, 13));
            INDArray[] grads = {random(r, s(7, 13)), random(r, s(7, 13)), random(r, s(7, 13))};
            int steps = adam ? 3 : 2;
            INDArray[] ref = reference(device, () -> optimizerRun(Device.CPU, adam, w0, grads, steps));
            INDArray[] got = optimizerRun(device, adam, w0, grads, steps);
            String[] names = {"weights", "first moment", "second moment"};
            double worst = 0;
            String which = "-";
            for (int i = 0; i < ref.length; i++) {
                double e = error(ref[i], got[i]);
                if (e > worst) {
                    worst = e;
                    which = names[i];
                }
            }
            return new Result(name, worst, TOLERANCE, which);
        } catch (RuntimeException e) {
            return new Result(name, Double.POSITIVE_INFINITY, TOLERANCE, "failed: " + oneLine(e));
        }
    }

    private static INDArray[] optimizerRun(Device device, boolean adam, INDArray w0, INDArray[] grads, int steps) {
        Parameter p = new Parameter("w", w0.dup());
        p.moveTo(device);
        Backend be = Backends.forDevice(device);
        Tensor m = adam ? be.zerosLike(p) : null;
        Tensor v = adam ? be.zerosLike(p) : null;
        for (int step = 1; step <= steps; step++) {
            p.zeroGrad();
            setGrad(p, grads[step - 1]);
            if (adam) {
                be.adamW(p, m, v, 0.9, 0.999, 1e-8, 1e-2, 0.1, step);
            } else {
                be.sgd(p, 0.05, 0.1);
            }
        }
        INDArray w = host(p);
        return adam ? new INDArray[] {w, host(m), host(v)} : new INDArray[] {w};
    }

    private static void setGrad(Parameter p, INDArray g) {
        if (p.onCpu()) {
            p.accumulateGrad(g.dup());
        } else {
            p.accumulateGradOwned(Backends.device(p.device()).upload(g, DataType.FLOAT));
        }
    }

    private static Result gradientNorm(Device device) {
        String name = "gradient norm and clipping [100003]";
        try {
            INDArray g = random(new Random(11), s(100003));
            double[] ref = reference(device, () -> normRun(Device.CPU, g));
            double[] got = normRun(device, g);
            double e = Math.max(Math.abs(got[0] - ref[0]) / ref[0], Math.abs(got[1] - ref[1]) / ref[1]);
            return new Result(name, e, TOLERANCE, e == Math.abs(got[0] - ref[0]) / ref[0] ? "sum of squares" : "clipped gradient");
        } catch (RuntimeException e) {
            return new Result(name, Double.POSITIVE_INFINITY, TOLERANCE, "failed: " + oneLine(e));
        }
    }

    /** {sum of squares, sum of squares after scaling by 0.25 (divided by 0.0625)}. */
    private static double[] normRun(Device device, INDArray g) {
        Parameter p = new Parameter("w", Nd4j.zeros(DataType.FLOAT, g.shape()));
        p.moveTo(device);
        setGrad(p, g);
        Backend be = Backends.forDevice(device);
        double before = be.gradSquaredSum(p);
        be.scaleGrad(p, 0.25);
        return new double[] {before, be.gradSquaredSum(p) / 0.0625};
    }

    private static String oneLine(Throwable e) {
        String m = e.getClass().getSimpleName() + ": " + e.getMessage();
        int nl = m.indexOf('\n');
        return nl < 0 ? m : m.substring(0, nl);
    }
}
