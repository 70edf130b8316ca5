package io.github.vdep.core.cuda;

/** {@link NcclApi} over {@link Nccl}'s JNI functions; libvdepcuda.so is loaded (and checked) first. */
final class JniNcclApi implements NcclApi {
    static final JniNcclApi INSTANCE = new JniNcclApi();

    private volatile String reason;
    private volatile boolean probed;

    private JniNcclApi() {
    }

    @Override
    public String unavailableReason() {
        if (!probed) {
            synchronized (this) {
                if (!probed) {
                    CudaRuntime.Status s = CudaRuntime.status();
                    reason = !s.kernelsLoaded() ? "NCCL is called through vdep's CUDA library, which is not available: " + s.reason() : Nccl.load();
                    probed = true;
                }
            }
        }
        return reason;
    }

    private void require() {
        String r = unavailableReason();
        if (r != null) {
            throw new CudaException(r);
        }
    }

    @Override
    public int version() {
        require();
        return Nccl.version();
    }

    @Override
    public byte[] uniqueId() {
        require();
        return Nccl.uniqueId();
    }

    @Override
    public long initRank(int ranks, byte[] uniqueId, int rank) {
        require();
        return Nccl.initRank(ranks, uniqueId, rank);
    }

    @Override
    public void allReduceSum(long comm, long[] addresses, long[] counts, int type) {
        Nccl.allReduceSum(comm, addresses, counts, type);
    }

    @Override
    public void broadcast(long comm, long[] addresses, long[] counts, int type, int root) {
        Nccl.broadcast(comm, addresses, counts, type, root);
    }

    @Override
    public void synchronize() {
        CudaRuntime.synchronize();
    }

    @Override
    public String asyncError(long comm) {
        return Nccl.asyncError(comm);
    }

    @Override
    public void abort(long comm) {
        Nccl.abort(comm);
    }

    @Override
    public void destroy(long comm) {
        Nccl.destroy(comm);
    }
}
