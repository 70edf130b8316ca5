package io.github.vdep.core.autograd;

import io.github.vdep.core.backend.Backends;
import io.github.vdep.core.backend.DeviceBackend;
import io.github.vdep.core.device.Device;
import io.github.vdep.core.device.DeviceStorage;
import java.util.Arrays;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A value in the computation graph and, when it takes part in a recorded computation, the
 * gradient that {@link Tape#backward} accumulates into it.
 *
 * <p>A tensor lives on a {@link Device}. On the CPU its data is an eager ND4J array
 * ({@link #value()}); on an accelerator it is a {@link DeviceStorage} ({@link #storage()}) and
 * reading it as an ND4J array fails: data moves only through {@link #to(Device)}.
 *
 * <p>Tensors are created by primitives ({@code io.github.vdep.core.ops.F}) or wrap inputs with
 * {@link #constant}. A tensor that does not require a gradient never gets a gradient buffer, and
 * primitives skip the work of computing one for it.
 */
public class Tensor {
    /** The data on the CPU; null on a device. */
    private INDArray value;
    /** The data on a device; null on the CPU. */
    private DeviceStorage storage;
    private final boolean requiresGrad;
    /** Lazily allocated; owned by this tensor (never a view of another tensor's array). */
    protected INDArray grad;
    /** Memory of a dropped gradient, reused for the next one (parameters keep it across steps). */
    protected INDArray spare;
    /** The gradient of a device tensor; owned by this tensor. */
    protected DeviceStorage deviceGrad;

    protected Tensor(INDArray value, boolean requiresGrad) {
        this.value = value;
        this.requiresGrad = requiresGrad;
    }

    protected Tensor(DeviceStorage storage, boolean requiresGrad) {
        this.storage = storage;
        this.requiresGrad = requiresGrad;
    }

    /** Wraps an array that needs no gradient (inputs, targets, frozen data). */
    public static Tensor constant(INDArray value) {
        return new Tensor(value, false);
    }

    /** Wraps device memory that needs no gradient; the tensor owns (releases) the storage. */
    public static Tensor constant(DeviceStorage storage) {
        return new Tensor(storage, false);
    }

    /** Wraps an array as a leaf whose gradient is wanted (used by tests and custom inputs). */
    public static Tensor leaf(INDArray value) {
        return new Tensor(value, true);
    }

    /** Wraps device memory as a leaf whose gradient is wanted; the tensor owns the storage. */
    public static Tensor leaf(DeviceStorage storage) {
        return new Tensor(storage, true);
    }

    /** Internal: the output of a recorded primitive. */
    static Tensor recorded(INDArray value) {
        return new Tensor(value, true);
    }

    static Tensor recorded(DeviceStorage storage) {
        return new Tensor(storage, true);
    }

    /**
     * The data as an ND4J array. Only for CPU tensors: on a device this fails with a message
     * naming the caller and the device (copy with {@code to(Device.CPU)} first; nothing is ever
     * copied silently).
     */
    public INDArray value() {
        if (value == null) {
            throw onDevice("value()");
        }
        return value;
    }

    /** The device memory of a device tensor (for device backends); fails on a CPU tensor. */
    public DeviceStorage storage() {
        if (storage == null) {
            throw new IllegalStateException(caller() + ": storage() of " + this + ", which is on cpu (use value())");
        }
        return storage;
    }

    /** Where the data lives. */
    public Device device() {
        return storage == null ? Device.CPU : storage.device();
    }

    /** Whether the data is an ND4J array on the host (the common, fast check for dispatch). */
    public boolean onCpu() {
        return storage == null;
    }

    /**
     * This tensor's data on {@code device}: this tensor itself if it is there already, otherwise
     * a copy. The copy is a new leaf (it requires a gradient when this tensor does, and its
     * gradient stays on the new device; no gradient flows back across the copy), so move modules
     * with {@code Module.to} before recording, and inputs with this method.
     */
    public Tensor to(Device device) {
        if (device.equals(device())) {
            return this;
        }
        return new Tensor(copyData(device), requiresGrad());
    }

    /** Copies this tensor's data to a device (host memory goes through ND4J). */
    private Object copyData(Device target) {
        INDArray host = storage == null ? value : Backends.device(storage.device()).download(storage);
        if (target.isCpu()) {
            return host;
        }
        return Backends.device(target).upload(host, host.dataType());
    }

    private Tensor(Object data, boolean requiresGrad) {
        this.requiresGrad = requiresGrad;
        if (data instanceof INDArray a) {
            this.value = a;
        } else {
            this.storage = (DeviceStorage) data;
        }
    }

    /**
     * For {@link Parameter}: replaces the data (its old device memory is released) and drops
     * the gradient.
     */
    void replaceData(INDArray newValue, DeviceStorage newStorage) {
        if (storage != null && storage != newStorage) {
            storage.release();
        }
        if (deviceGrad != null) {
            deviceGrad.release();
            deviceGrad = null;
        }
        grad = null;
        spare = null;
        value = newValue;
        storage = newStorage;
    }

    /** Whether backward propagates a gradient into this tensor. */
    public boolean requiresGrad() {
        return requiresGrad;
    }

    /**
     * The accumulated gradient, or null if none has reached this tensor. CPU tensors only: on a
     * device it fails like {@link #value()} (see {@link #deviceGrad()} and {@link #hasGrad()}).
     */
    public INDArray grad() {
        if (storage != null) {
            throw onDevice("grad()");
        }
        return grad;
    }

    /** The accumulated gradient of a device tensor, or null; owned by this tensor. */
    public DeviceStorage deviceGrad() {
        return deviceGrad;
    }

    /** Whether a gradient has reached this tensor (on whatever device). */
    public boolean hasGrad() {
        return grad != null || deviceGrad != null;
    }

    public long[] shape() {
        return storage == null ? value.shape() : storage.shape();
    }

    public long size(int dim) {
        if (storage == null) {
            return value.size(dim);
        }
        long[] s = storage.shape();
        return s[dim < 0 ? dim + s.length : dim];
    }

    public int rank() {
        return storage == null ? value.rank() : storage.shape().length;
    }

    public DataType dataType() {
        return storage == null ? value.dataType() : storage.dataType();
    }

    /**
     * Reads a scalar tensor (a loss) as a double. On a device this is an explicit copy of that
     * one element to the host, as PyTorch's {@code item()}.
     */
    public double item() {
        long n = storage == null ? value.length() : storage.length();
        if (n != 1) {
            throw new IllegalStateException("item() needs a single-element tensor, got shape " + Arrays.toString(shape()));
        }
        if (storage == null) {
            return value.getDouble(0);
        }
        INDArray host = Backends.device(storage.device()).download(storage);
        double v = host.getDouble(0);
        host.close();
        return v;
    }

    /** The one-line failure for reading a device tensor as host memory, naming the caller. */
    private IllegalStateException onDevice(String what) {
        return new IllegalStateException(caller() + ": " + what + " of " + this + " is on " + device()
                + "; copy it with .to(Device.CPU)");
    }

    /** The first method outside Tensor/Parameter on the stack, as Class.method (only on the error path). */
    private static String caller() {
        return StackWalker.getInstance().walk(frames -> frames
                .filter(f -> !f.getClassName().equals(Tensor.class.getName()) && !f.getClassName().equals(Parameter.class.getName()))
                .findFirst()
                .map(f -> f.getClassName().substring(f.getClassName().lastIndexOf('.') + 1) + "." + f.getMethodName())
                .orElse("?"));
    }

    /**
     * Adds a device gradient {@code g} into this tensor's gradient, copying it when it becomes
     * the buffer (the caller keeps {@code g}). The gradient a backward closure was handed is the
     * exception: it becomes the buffer without a copy, since the tape would free it next.
     */
    public void accumulateGrad(DeviceStorage g) {
        if (!requiresGrad()) {
            return;
        }
        checkGradShape(g.shape());
        DeviceBackend backend = Backends.device(g.device());
        if (deviceGrad == null) {
            deviceGrad = Tape.adopt(g) ? g : backend.copy(g);
        } else {
            backend.addInPlace(deviceGrad, g);
        }
    }

    /**
     * Like {@link #accumulateGrad(DeviceStorage)} but takes ownership of {@code g}, a fresh
     * storage the caller does not keep: it becomes the buffer, or is released once added in.
     */
    public void accumulateGradOwned(DeviceStorage g) {
        if (!requiresGrad()) {
            if (!Tape.isPropagating(g)) {
                g.release();
            }
            return;
        }
        if (Tape.isPropagating(g)) {
            accumulateGrad(g);
            return;
        }
        checkGradShape(g.shape());
        if (deviceGrad == null) {
            deviceGrad = g;
        } else {
            Backends.device(g.device()).addInPlace(deviceGrad, g);
            g.release();
        }
    }

    /**
     * Adds {@code g} into this tensor's gradient. The array is copied when it becomes the buffer,
     * so callers may pass views or arrays they will reuse. No-op when no gradient is required.
     * (The gradient a backward closure was handed is the one exception: it becomes the buffer
     * without a copy, since the tape would free it next.)
     */
    public void accumulateGrad(INDArray g) {
        if (!requiresGrad()) {
            return;
        }
        checkGradShape(g);
        if (grad == null) {
            if (Tape.adopt(g)) {
                install(g);
            } else {
                INDArray buffer = takeSpare();
                grad = buffer != null ? buffer.assign(g) : g.dup('c');
            }
        } else {
            grad.addi(g);
        }
    }

    /**
     * Like {@link #accumulateGrad} but takes ownership of {@code g}: for freshly allocated arrays
     * the caller does not keep. It becomes the buffer when there is none (copied only if it is
     * not a whole contiguous array), and is freed once added in otherwise.
     */
    public void accumulateGradOwned(INDArray g) {
        boolean shared = Tape.isPropagating(g);
        if (!requiresGrad()) {
            if (!shared) {
                Buffers.release(g);
            }
            return;
        }
        checkGradShape(g);
        if (grad == null) {
            if (shared) {
                // the closure handed over the gradient it was given: take it over, or copy
                if (Tape.adopt(g)) {
                    install(g);
                } else {
                    INDArray buffer = takeSpare();
                    grad = buffer != null ? buffer.assign(g) : g.dup('c');
                }
            } else if (isWholeContiguous(g)) {
                install(g);
            } else {
                INDArray buffer = takeSpare();
                grad = buffer != null ? buffer.assign(g) : g.dup('c');
                Buffers.release(g);
            }
        } else {
            grad.addi(g);
            if (!shared) {
                Buffers.release(g);
            }
        }
    }

    /** A row-major array covering its whole buffer (a fresh array, or a full reshape of one). */
    static boolean isWholeContiguous(INDArray a) {
        if (a.ordering() != 'c' || a.offset() != 0 || !org.nd4j.linalg.api.shape.Shape.hasDefaultStridesForShape(a)) {
            return false;
        }
        org.nd4j.linalg.api.buffer.DataBuffer base = a.data().originalDataBuffer();
        return a.data().length() == a.length() && (base == null || base == a.data() || base.length() == a.length());
    }

    /**
     * The gradient buffer, allocated as zeros if absent: lets primitives accumulate in place
     * (for example a gemm with beta = 1) instead of allocating a temporary.
     */
    public INDArray gradBuffer() {
        if (grad == null) {
            INDArray buffer = takeSpare();
            grad = buffer != null ? buffer.assign(0) : value().ulike().assign(0);
        }
        return grad;
    }

    /**
     * For primitives that write a whole gradient at once (a gemm straight into the buffer): the
     * gradient buffer. If there was no gradient yet ({@link #grad()} was null before the call),
     * its contents are undefined and the caller must overwrite all of it (gemm with beta = 0);
     * otherwise it holds the gradient so far and the caller must add to it (beta = 1).
     */
    public INDArray gradBufferForOverwrite() {
        if (grad == null) {
            INDArray buffer = takeSpare();
            grad = buffer != null ? buffer : org.nd4j.linalg.factory.Nd4j.createUninitialized(value().dataType(), value().shape());
        }
        return grad;
    }

    /** Makes a fresh array the gradient buffer (any spare memory is then not needed). */
    private void install(INDArray g) {
        grad = g;
        if (spare != null) {
            Buffers.release(spare);
            spare = null;
        }
    }

    private INDArray takeSpare() {
        INDArray s = spare;
        spare = null;
        return s;
    }

    /**
     * Drops the gradient (the next backward starts from zero). A device gradient is not released
     * here: the tape, which handed it over, releases it (see {@link Parameter#zeroGrad()}).
     */
    public void zeroGrad() {
        grad = null;
        deviceGrad = null;
    }

    private void checkGradShape(INDArray g) {
        if (!Arrays.equals(g.shape(), value().shape())) {
            throw new IllegalStateException("gradient shape " + Arrays.toString(g.shape())
                    + " does not match tensor shape " + Arrays.toString(value().shape()));
        }
    }

    private void checkGradShape(long[] g) {
        if (!Arrays.equals(g, shape())) {
            throw new IllegalStateException("gradient shape " + Arrays.toString(g) + " does not match tensor shape " + Arrays.toString(shape()));
        }
    }

    @Override
    public String toString() {
        return "Tensor" + Arrays.toString(shape()) + "(" + dataType() + (storage == null ? "" : ", " + storage.device())
                + (requiresGrad() ? ", grad" : "") + ")";
    }
}
