package io.github.vdep.core.autograd;

import io.github.vdep.core.device.DeviceStorage;
import java.util.ArrayList;
import java.util.List;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Frees the values computed without gradient tracking inside a block, except the ones the block
 * returns: for a frozen sub-network (a vision tower) whose intermediates nobody else sees.
 * Values of primitives recorded on a tape are never touched (the tape manages them).
 *
 * <pre>{@code
 * try (ValueScope scope = ValueScope.open()) {
 *     Tensor h = ...;            // primitives on frozen weights: values tracked by the scope
 *     return scope.keep(h);      // everything else the block computed is freed on close
 * }
 * }</pre>
 *
 * Only for code that keeps no reference to its intermediates past the block.
 */
public final class ValueScope implements AutoCloseable {
    private static final ThreadLocal<ValueScope> ACTIVE = new ThreadLocal<>();

    private final ValueScope parent;
    private final List<INDArray> tracked = new ArrayList<>();
    private final List<INDArray> kept = new ArrayList<>();
    private final List<DeviceStorage> trackedOnDevice = new ArrayList<>();
    private final List<DeviceStorage> keptOnDevice = new ArrayList<>();
    private boolean closed;

    private ValueScope(ValueScope parent) {
        this.parent = parent;
    }

    /** Opens a scope on this thread (nested scopes hand what they keep to the enclosing one). */
    public static ValueScope open() {
        ValueScope scope = new ValueScope(ACTIVE.get());
        ACTIVE.set(scope);
        return scope;
    }

    /** Marks a result to survive the scope; returns it. */
    public Tensor keep(Tensor t) {
        if (t != null && t.onCpu()) {
            kept.add(t.value());
        } else if (t != null) {
            keptOnDevice.add(t.storage());
        }
        return t;
    }

    /** Called for the owned value of a primitive that was not recorded. */
    static void track(INDArray value) {
        ValueScope scope = ACTIVE.get();
        if (scope != null) {
            scope.tracked.add(value);
        }
    }

    /** Called for the owned device value of a primitive that was not recorded. */
    static void track(DeviceStorage value) {
        ValueScope scope = ACTIVE.get();
        if (scope != null) {
            scope.trackedOnDevice.add(value);
        }
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (ACTIVE.get() == this) {
            if (parent != null) {
                ACTIVE.set(parent);
            } else {
                ACTIVE.remove();
            }
        }
        for (INDArray a : tracked) {
            boolean keep = false;
            for (INDArray k : kept) {
                if (Buffers.sharesMemory(a, k)) {
                    keep = true;
                    break;
                }
            }
            if (!keep) {
                Buffers.release(a);
            } else if (parent != null) {
                parent.tracked.add(a);
            }
        }
        tracked.clear();
        kept.clear();
        for (DeviceStorage a : trackedOnDevice) {
            boolean keep = false;
            for (DeviceStorage k : keptOnDevice) {
                if (a.sharesMemoryWith(k)) {
                    keep = true;
                    break;
                }
            }
            if (!keep) {
                a.release();
            } else if (parent != null) {
                parent.trackedOnDevice.add(a);
            }
        }
        trackedOnDevice.clear();
        keptOnDevice.clear();
    }
}
