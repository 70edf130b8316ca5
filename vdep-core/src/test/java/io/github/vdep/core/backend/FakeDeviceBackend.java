package io.github.vdep.core.backend;

import io.github.vdep.core.autograd.Parameter;
import io.github.vdep.core.autograd.Tape;
import io.github.vdep.core.autograd.Tensor;
import io.github.vdep.core.device.Device;
import io.github.vdep.core.device.DeviceStorage;
import io.github.vdep.core.ops.RegressionLoss;
import io.github.vdep.core.ops.RopeTables;
import java.util.List;
import java.util.function.Consumer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A device backend for tests of the seam: its "device memory" is host arrays behind the
 * {@link DeviceStorage} interface, so no ND4J array ever leaks out as a value. It implements the
 * few primitives the tests use (linear, add, sum, scale, mse, reshape) with their backward
 * passes through {@code Tape.op(DeviceStorage, ...)}, and counts live storages.
 */
final class FakeDeviceBackend implements DeviceBackend {
    static final String TYPE = "fake";

    private final Device device;
    int live;
    long bytes;
    long peak;

    FakeDeviceBackend(Device device) {
        this.device = device;
    }

    /** The provider tests register with {@link Backends#register}. */
    static final class Provider implements BackendProvider {
        FakeDeviceBackend last;

        @Override
        public String deviceType() {
            return TYPE;
        }

        @Override
        public DeviceBackend open(Device d) {
            if (d.index() != 0) {
                throw new io.github.vdep.core.device.DeviceUnavailableException(d, "only fake:0 exists");
            }
            last = new FakeDeviceBackend(d);
            return last;
        }

        @Override
        public List<String> describe() {
            return List.of("fake:0 (host memory)");
        }
    }

    /** Host memory posing as device memory. */
    final class Storage implements DeviceStorage {
        final INDArray data;
        boolean released;

        Storage(INDArray data) {
            this.data = data;
            live++;
            bytes += data.length() * data.dataType().width();
            peak = Math.max(peak, bytes);
        }

        @Override
        public long[] shape() {
            return data.shape().clone();
        }

        @Override
        public DataType dataType() {
            return data.dataType();
        }

        @Override
        public Device device() {
            return device;
        }

        @Override
        public void release() {
            if (!released) {
                released = true;
                live--;
                bytes -= data.length() * data.dataType().width();
            }
        }

        @Override
        public boolean released() {
            return released;
        }
    }

    private Storage store(INDArray a) {
        return new Storage(a);
    }

    static INDArray arr(DeviceStorage s) {
        Storage st = (Storage) s;
        if (st.released) {
            throw new IllegalStateException("use after release");
        }
        return st.data;
    }

    static INDArray arr(Tensor t) {
        return arr(t.storage());
    }

    @Override
    public Device device() {
        return device;
    }

    @Override
    public String description() {
        return "fake";
    }

    @Override
    public DeviceStorage upload(INDArray host, DataType as) {
        return store(host.castTo(as).dup('c'));
    }

    @Override
    public INDArray download(DeviceStorage storage) {
        return arr(storage).dup('c');
    }

    @Override
    public DeviceStorage full(long[] shape, DataType type, double value) {
        return store(Nd4j.valueArrayOf(shape, value, type));
    }

    @Override
    public DeviceStorage copy(DeviceStorage source) {
        return store(arr(source).dup('c'));
    }

    @Override
    public void addInPlace(DeviceStorage dst, DeviceStorage src) {
        arr(dst).addi(arr(src));
    }

    @Override
    public long bytesInUse() {
        return bytes;
    }

    @Override
    public long peakBytes() {
        return peak;
    }

    @Override
    public void resetPeakMemory() {
        peak = bytes;
    }

    @Override
    public Tensor linear(Tensor x, Tensor w, Tensor b) {
        INDArray xv = arr(x), wv = arr(w);
        long in = wv.size(1);
        INDArray x2 = xv.reshape('c', xv.length() / in, in);
        INDArray y = x2.mmul(wv.transpose());
        if (b != null) {
            y.addiRowVector(arr(b));
        }
        long[] outShape = xv.shape().clone();
        outShape[outShape.length - 1] = wv.size(0);
        return Tape.op(store(y.reshape('c', outShape).dup('c')), g -> {
            INDArray g2 = arr(g).reshape('c', x2.size(0), wv.size(0));
            if (x.requiresGrad()) {
                x.accumulateGradOwned(store(g2.mmul(wv).reshape('c', xv.shape()).dup('c')));
            }
            if (w.requiresGrad()) {
                w.accumulateGradOwned(store(g2.transpose().mmul(x2)));
            }
            if (b != null && b.requiresGrad()) {
                b.accumulateGradOwned(store(g2.sum(0)));
            }
        }, x, w, b);
    }

    @Override
    public Tensor add(Tensor a, Tensor b) {
        if (!java.util.Arrays.equals(a.shape(), b.shape())) {
            throw new UnsupportedOperationException("fake add: equal shapes only");
        }
        return Tape.op(store(arr(a).add(arr(b))), g -> {
            a.accumulateGrad(g);
            b.accumulateGrad(g);
        }, a, b);
    }

    @Override
    public Tensor sum(Tensor x) {
        INDArray xv = arr(x);
        return Tape.op(store(Nd4j.scalar(xv.dataType(), xv.sumNumber().doubleValue()).reshape(1)),
                g -> x.accumulateGradOwned(store(Nd4j.valueArrayOf(xv.shape(), arr(g).getDouble(0), xv.dataType()))), x);
    }

    @Override
    public Tensor scale(Tensor x, double s) {
        return Tape.op(store(arr(x).mul(s)), g -> x.accumulateGradOwned(store(arr(g).mul(s))), x);
    }

    @Override
    public Tensor reshape(Tensor x, long... shape) {
        long[] old = x.shape();
        return Tape.op(store(arr(x).dup('c').reshape('c', shape)), g -> x.accumulateGradOwned(store(arr(g).dup('c').reshape('c', old))), x);
    }

    @Override
    public Tensor regressionLoss(RegressionLoss kind, Tensor pred, Tensor target) {
        if (kind != RegressionLoss.MSE) {
            throw new UnsupportedOperationException("fake: mse only");
        }
        INDArray diff = arr(pred).sub(arr(target));
        long n = diff.length();
        double loss = diff.mul(diff).sumNumber().doubleValue() / n;
        return Tape.op(store(Nd4j.scalar(diff.dataType(), loss).reshape(1)), g -> {
            INDArray d = diff.mul(2.0 * arr(g).getDouble(0) / n);
            if (pred.requiresGrad()) {
                pred.accumulateGradOwned(store(d.dup('c')));
            }
            if (target.requiresGrad()) {
                target.accumulateGradOwned(store(d.neg()));
            }
        }, pred, target);
    }

    @Override
    public Tensor zerosLike(Tensor like) {
        return Tensor.constant(full(like.shape(), like.dataType(), 0));
    }

    @Override
    public void sgd(Parameter p, double lr, double weightDecay) {
        INDArray w = arr(p);
        if (weightDecay != 0) {
            w.muli(1.0 - lr * weightDecay);
        }
        w.subi(arr(p.deviceGrad()).mul(lr));
    }

    @Override
    public double gradSquaredSum(Parameter p) {
        double n = arr(p.deviceGrad()).norm2Number().doubleValue();
        return n * n;
    }

    @Override
    public void scaleGrad(Parameter p, double factor) {
        arr(p.deviceGrad()).muli(factor);
    }

    // ---- not needed by the tests

    private static UnsupportedOperationException no(String op) {
        return new UnsupportedOperationException("fake device: " + op);
    }

    @Override
    public Tensor embedding(Tensor table, INDArray ids) {
        throw no("embedding");
    }

    @Override
    public Tensor rmsNorm(Tensor x, Tensor weight, double eps) {
        throw no("rmsNorm");
    }

    @Override
    public Tensor layerNorm(Tensor x, Tensor weight, Tensor bias, double eps) {
        throw no("layerNorm");
    }

    @Override
    public Tensor rope(Tensor x, RopeTables tables) {
        throw no("rope");
    }

    @Override
    public Tensor ropeTokenMajor(Tensor x, RopeTables tables) {
        throw no("ropeTokenMajor");
    }

    @Override
    public Tensor attention(Tensor q, Tensor k, Tensor v, boolean causal, INDArray keyMask, double scale, Consumer<INDArray> probs) {
        throw no("attention");
    }

    @Override
    public Tensor attentionTokenMajor(Tensor q, Tensor k, Tensor v, boolean causal, INDArray keyMask, double scale, Consumer<INDArray> probs) {
        throw no("attentionTokenMajor");
    }

    @Override
    public Tensor gelu(Tensor x) {
        throw no("gelu");
    }

    @Override
    public Tensor quickGelu(Tensor x) {
        throw no("quickGelu");
    }

    @Override
    public Tensor silu(Tensor x) {
        throw no("silu");
    }

    @Override
    public Tensor swiglu(Tensor gate, Tensor up) {
        throw no("swiglu");
    }

    @Override
    public Tensor mul(Tensor a, Tensor b) {
        throw no("mul");
    }

    @Override
    public Tensor permute(Tensor x, int... dims) {
        throw no("permute");
    }

    @Override
    public Tensor slice(Tensor x, int axis, long from, long to) {
        throw no("slice");
    }

    @Override
    public Tensor concat(int axis, Tensor... xs) {
        throw no("concat");
    }

    @Override
    public Tensor gatherRows(Tensor x, int[] rows) {
        throw no("gatherRows");
    }

    @Override
    public Tensor replaceRows(Tensor base, int[] rows, Tensor src) {
        throw no("replaceRows");
    }

    @Override
    public Tensor detach(Tensor x) {
        throw no("detach");
    }

    @Override
    public Tensor crossEntropy(Tensor logits, int[] targets, int ignoreIndex, double normalizer) {
        throw no("crossEntropy");
    }

    @Override
    public void adamW(Parameter p, Tensor m, Tensor v, double beta1, double beta2, double eps, double lr, double weightDecay, long step) {
        throw no("adamW");
    }
}
