package io.github.vdep.core.cuda;

import io.github.vdep.core.device.Device;
import io.github.vdep.core.device.DeviceStorage;
import java.lang.ref.Cleaner;
import java.util.Arrays;
import org.nd4j.linalg.api.buffer.DataType;

/**
 * A device tensor's data on a CUDA device: one block from the device's {@link CudaAllocator},
 * dense and row-major. {@link #release()} returns the block to the allocator's free list; a
 * storage that becomes unreachable without being released is returned by a {@link Cleaner}
 * (the safety net the seam's ownership rules ask for). All kernels run on the device's default
 * stream, so a block reused right after its release is only written after the work queued on
 * the old contents.
 */
public final class CudaStorage implements DeviceStorage {
    private static final Cleaner CLEANER = Cleaner.create();

    private final long[] shape;
    private final DataType type;
    private final Device device;
    private final long address;
    private final Cleaner.Cleanable cleanable;
    private volatile boolean released;

    /** Gives the block back; holds no reference to the storage. */
    private record Block(CudaAllocator allocator, long address) implements Runnable {
        @Override
        public void run() {
            allocator.release(address);
        }
    }

    CudaStorage(CudaAllocator allocator, Device device, long[] shape, DataType type, String what) {
        this.shape = shape.clone();
        this.type = type;
        this.device = device;
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        this.address = allocator.allocate(Math.max(1, n) * type.width(), what + " " + Arrays.toString(shape));
        this.cleanable = CLEANER.register(this, new Block(allocator, address));
    }

    /** The device address, for {@link CudaKernels}. */
    public long address() {
        if (released) {
            throw new IllegalStateException("device memory of a " + Arrays.toString(shape) + " " + type + " tensor on " + device
                    + " used after it was released");
        }
        return address;
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    /** The shape without a copy (callers must not modify it). */
    long[] dims() {
        return shape;
    }

    @Override
    public DataType dataType() {
        return type;
    }

    @Override
    public Device device() {
        return device;
    }

    /** Size in bytes. */
    public long bytes() {
        return length() * type.width();
    }

    @Override
    public void release() {
        if (!released) {
            released = true;
            cleanable.clean();
        }
    }

    @Override
    public boolean released() {
        return released;
    }

    @Override
    public String toString() {
        return "CudaStorage" + Arrays.toString(shape) + "(" + type + ", " + device + ")";
    }
}
