package io.github.vdep.core.cuda;

/**
 * Device memory for {@code length} floats (or other elements of {@code elementBytes}), from a
 * {@link CudaAllocator}: the storage of a device tensor. {@link #close()} gives it back to the
 * allocator's free list (idempotent).
 */
public final class CudaBuffer implements AutoCloseable {
    private final CudaAllocator allocator;
    private final long address;
    private final long length;
    private final int elementBytes;
    private boolean closed;

    private CudaBuffer(CudaAllocator allocator, long address, long length, int elementBytes) {
        this.allocator = allocator;
        this.address = address;
        this.length = length;
        this.elementBytes = elementBytes;
    }

    /** Uninitialised device memory for {@code length} elements of {@code elementBytes} bytes; {@code what} names it for out-of-memory messages. */
    public static CudaBuffer allocate(CudaAllocator allocator, long length, int elementBytes, String what) {
        return new CudaBuffer(allocator, allocator.allocate(Math.max(1, length) * elementBytes, what), length, elementBytes);
    }

    /** Uninitialised device memory for {@code length} floats. */
    public static CudaBuffer floats(CudaAllocator allocator, long length, String what) {
        return allocate(allocator, length, Float.BYTES, what);
    }

    /** The device address (for {@link CudaKernels}). */
    public long address() {
        if (closed) {
            throw new IllegalStateException("device buffer used after it was released");
        }
        return address;
    }

    public long length() {
        return length;
    }

    public long bytes() {
        return length * elementBytes;
    }

    /** Copies {@link #bytes()} bytes from host memory at {@code hostAddress} (for example an ND4J buffer's address). */
    public void copyFromHost(long hostAddress) {
        CudaRuntime.copyToDevice(address(), hostAddress, bytes());
    }

    /** Copies all bytes to host memory at {@code hostAddress}. */
    public void copyToHost(long hostAddress) {
        CudaRuntime.copyToHost(hostAddress, address(), bytes());
    }

    /** Copies floats from the host (length must match). */
    public void upload(float[] data) {
        check(data.length);
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocateDirect(data.length * Float.BYTES).order(java.nio.ByteOrder.nativeOrder());
        b.asFloatBuffer().put(data);
        CudaRuntime.copyBufferToDevice(address(), b, 0, bytes());
    }

    /** Copies ints from the host (length must match; elementBytes 4). */
    public void upload(int[] data) {
        check(data.length);
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocateDirect(data.length * Integer.BYTES).order(java.nio.ByteOrder.nativeOrder());
        b.asIntBuffer().put(data);
        CudaRuntime.copyBufferToDevice(address(), b, 0, bytes());
    }

    /** The contents as floats (waits for queued work). */
    public float[] toFloats() {
        if (elementBytes != Float.BYTES) {
            throw new IllegalStateException("not a float buffer");
        }
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocateDirect((int) bytes()).order(java.nio.ByteOrder.nativeOrder());
        CudaRuntime.copyDeviceToBuffer(b, 0, address(), bytes());
        float[] out = new float[(int) length];
        b.asFloatBuffer().get(out);
        return out;
    }

    private void check(int n) {
        if (n != length || (long) n * 4 != bytes()) {
            throw new IllegalArgumentException(n + " host elements for a device buffer of " + length);
        }
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            allocator.release(address);
        }
    }
}
