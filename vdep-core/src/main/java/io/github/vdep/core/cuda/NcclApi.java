package io.github.vdep.core.cuda;

/**
 * The NCCL operations data-parallel training on GPUs needs (NVIDIA's collective communication
 * library): a communicator per rank, and in-place sums and broadcasts of device memory over the
 * ranks. Every operation is queued on the stream the CUDA backend's kernels use, so it runs after
 * the kernels queued before it. {@link #jni()} is the real one (libnccl.so.2, opened at run time);
 * tests substitute an emulation.
 *
 * <p>Type codes: {@link #FLOAT32}, {@link #FLOAT64}, {@link #BFLOAT16}, {@link #INT64}.
 */
public interface NcclApi {
    int FLOAT32 = 0;
    int FLOAT64 = 1;
    int BFLOAT16 = 2;
    int INT64 = 3;
    /** Bytes of an {@code ncclUniqueId}. */
    int UNIQUE_ID_BYTES = 128;

    /** NCCL through libvdepcuda.so. */
    static NcclApi jni() {
        return JniNcclApi.INSTANCE;
    }

    /** Null when NCCL can be used here, else why not in one line (libnccl.so.2 missing, CUDA kernels not built, ...). */
    String unavailableReason();

    /** NCCL's version code (for example 23007 for 2.30.7). */
    int version();

    /** A new unique id ({@value #UNIQUE_ID_BYTES} bytes): rank 0 makes it, and every rank passes it to {@link #initRank}. */
    byte[] uniqueId();

    /** This rank's communicator on the calling thread's current device (collective: every rank calls it). */
    long initRank(int ranks, byte[] uniqueId, int rank);

    /** Sums each buffer ({@code counts[i]} elements at device address {@code addresses[i]}) over the ranks, in place. */
    void allReduceSum(long comm, long[] addresses, long[] counts, int type);

    /** Copies rank {@code root}'s buffers into every rank's, in place. */
    void broadcast(long comm, long[] addresses, long[] counts, int type, int root);

    /** Waits until the queued work (the collectives included) is done on this device; errors surface here. */
    void synchronize();

    /** Null, or the communicator's asynchronous error (a peer failed, a network error). */
    String asyncError(long comm);

    /** Frees the communicator, aborting its pending work (after a failure). */
    void abort(long comm);

    /** Frees the communicator after its work is done. */
    void destroy(long comm);
}
