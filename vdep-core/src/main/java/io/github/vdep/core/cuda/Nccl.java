package io.github.vdep.core.cuda;

/**
 * The JNI functions of {@code src/main/cuda/nccl.cu}, part of libvdepcuda.so: NCCL, loaded there
 * with dlopen ("libnccl.so.2"). Use {@link NcclApi#jni()}, which loads libvdepcuda.so first.
 * Failures throw {@link CudaException} with NCCL's own message.
 */
final class Nccl {
    private Nccl() {
    }

    /** Null when libnccl.so.2 loads with every function vdep calls, else the one-line reason. */
    static native String load();

    static native int version();

    static native byte[] uniqueId();

    static native long initRank(int nranks, byte[] uniqueId, int rank);

    static native void allReduceSum(long comm, long[] addresses, long[] counts, int type);

    static native void broadcast(long comm, long[] addresses, long[] counts, int type, int root);

    static native String asyncError(long comm);

    static native void abort(long comm);

    static native void destroy(long comm);
}
