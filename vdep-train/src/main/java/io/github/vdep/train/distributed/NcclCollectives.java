package io.github.vdep.train.distributed;

import io.github.vdep.core.cuda.CudaStorage;
import io.github.vdep.core.cuda.NcclApi;
import io.github.vdep.core.device.Device;
import io.github.vdep.core.device.DeviceStorage;
import java.util.List;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link Collectives} for a model on a GPU, one rank per GPU: the gradients and the initial
 * weights (device memory) are summed and broadcast by NCCL on the CUDA backend's stream, as
 * PyTorch's DistributedDataParallel does with its NCCL backend. The small host-side operations
 * (step statistics, agreement checks, barriers) go over {@code host}, the MPI collectives of the
 * same job, which also carries NCCL's unique id from rank 0 to the others, so a job is launched
 * with {@code mpirun} or {@code srun} as on CPUs.
 *
 * <p>Each NCCL operation waits for its result before it returns: the next thing the trainer does
 * with the gradients (their norm, for clipping) reads them on the host anyway, and so the
 * timeout of {@link CollectiveClock} covers NCCL as well (a dead peer would otherwise hang the
 * stream). All calls must come from the thread that created this object, whose current CUDA
 * device is this rank's.
 */
public final class NcclCollectives implements Collectives {
    private static final Logger LOG = LoggerFactory.getLogger(NcclCollectives.class);

    private final Collectives host;
    private final NcclApi nccl;
    private final Device device;
    private final long comm;
    private final String version;
    private final CollectiveClock clock;
    private boolean closed;

    private NcclCollectives(Collectives host, NcclApi nccl, Device device, long comm, String version, CollectiveClock clock) {
        this.host = host;
        this.nccl = nccl;
        this.device = device;
        this.comm = comm;
        this.version = version;
        this.clock = clock;
    }

    /**
     * Creates this rank's NCCL communicator on {@code device} (the calling thread's current CUDA
     * device): rank 0 makes the unique id, {@code host} broadcasts it, and every rank joins.
     * Collective: every rank of {@code host} calls it.
     *
     * @param host the job's host collectives (MPI; {@link SingleProcess} for a job of one rank)
     * @param timeoutSeconds how long an NCCL operation may wait before this rank stops (see {@link CollectiveClock})
     * @throws DistributedException in one line if NCCL cannot be used (for example no libnccl.so.2)
     */
    public static NcclCollectives start(Collectives host, Device device, NcclApi nccl, double timeoutSeconds) {
        String reason = nccl.unavailableReason();
        if (reason != null) {
            throw new DistributedException("rank " + host.rank() + " of " + host.size() + " on " + device + ": NCCL cannot be used: " + reason);
        }
        CollectiveClock clock = new CollectiveClock(host.rank(), host.size(), timeoutSeconds, "vdep-nccl-watchdog");
        long[] id = new long[NcclApi.UNIQUE_ID_BYTES / Long.BYTES];
        if (host.rank() == 0) {
            byte[] made = nccl.uniqueId();
            for (int i = 0; i < made.length; i++) {
                id[i / Long.BYTES] |= (made[i] & 0xFFL) << (8 * (i % Long.BYTES));
            }
        }
        INDArray wire = Nd4j.createFromArray(id);
        host.broadcast(List.of(wire), 0);
        long[] received = wire.toLongVector();
        byte[] uniqueId = new byte[NcclApi.UNIQUE_ID_BYTES];
        for (int i = 0; i < uniqueId.length; i++) {
            uniqueId[i] = (byte) (received[i / Long.BYTES] >>> (8 * (i % Long.BYTES)));
        }
        long[] comm = new long[1];
        clock.run("the NCCL communicator's set-up", () -> comm[0] = nccl.initRank(host.size(), uniqueId, host.rank()));
        int v = nccl.version();
        // NCCL_VERSION_CODE: major*10000 + minor*100 + patch since 2.9, major*1000 + minor*100 + patch before
        String version = v >= 20900 ? (v / 10000) + "." + (v / 100 % 100) + "." + (v % 100) : (v / 1000) + "." + (v / 100 % 10) + "." + (v % 100);
        LOG.info("rank {} of {}: NCCL {} communicator on {}", host.rank(), host.size(), version, device);
        return new NcclCollectives(host, nccl, device, comm[0], version, clock);
    }

    @Override
    public int rank() {
        return host.rank();
    }

    @Override
    public int size() {
        return host.size();
    }

    @Override
    public String description() {
        return "NCCL " + version + " on " + device + ", with " + host.description();
    }

    @Override
    public void sumInPlace(List<INDArray> arrays) {
        host.sumInPlace(arrays);
    }

    @Override
    public void sumOnDevice(List<DeviceStorage> buffers) {
        if (buffers.isEmpty()) {
            return;
        }
        long[][] at = addresses(buffers);
        run("the gradient all-reduce (NCCL)", () -> {
            nccl.allReduceSum(comm, at[0], at[1], NcclApi.FLOAT32);
            nccl.synchronize();
        });
    }

    @Override
    public void broadcastOnDevice(List<DeviceStorage> buffers, int root) {
        if (buffers.isEmpty()) {
            return;
        }
        long[][] at = addresses(buffers);
        run("the broadcast of the initial weights (NCCL)", () -> {
            nccl.broadcast(comm, at[0], at[1], NcclApi.FLOAT32, root);
            nccl.synchronize();
        });
    }

    /** {addresses, element counts}, after checking every buffer is float32 memory on this rank's device. */
    private long[][] addresses(List<DeviceStorage> buffers) {
        long[] addresses = new long[buffers.size()];
        long[] counts = new long[buffers.size()];
        for (int i = 0; i < addresses.length; i++) {
            DeviceStorage s = buffers.get(i);
            if (!(s instanceof CudaStorage c) || !device.equals(s.device()) || s.dataType() != DataType.FLOAT) {
                throw new IllegalArgumentException("rank " + rank() + ": NCCL sums float32 memory on " + device + ", not " + s);
            }
            addresses[i] = c.address();
            counts[i] = c.length();
        }
        return new long[][] {addresses, counts};
    }

    @Override
    public void sum(double[] values) {
        host.sum(values);
    }

    @Override
    public void min(long[] values) {
        host.min(values);
    }

    @Override
    public void max(long[] values) {
        host.max(values);
    }

    @Override
    public void broadcast(List<INDArray> arrays, int root) {
        host.broadcast(arrays, root);
    }

    @Override
    public void barrier() {
        host.barrier();
    }

    @Override
    public double seconds() {
        return host.seconds() + clock.seconds();
    }

    @Override
    public void abort(int exitCode) {
        if (!closed) {
            closed = true;
            try {
                nccl.abort(comm);
            } catch (RuntimeException e) {
                LOG.warn("rank {}: ncclCommAbort failed: {}", rank(), e.getMessage());
            }
            host.abort(exitCode);
        }
    }

    @Override
    public void close() {
        if (!closed) {
            run("the NCCL communicator's release", nccl::synchronize);
            closed = true;
            clock.run("the NCCL communicator's release", () -> nccl.destroy(comm));
            host.close();
        }
    }

    private void run(String what, Runnable call) {
        if (closed) {
            throw new IllegalStateException("the NCCL collectives are closed");
        }
        clock.run(what, () -> {
            call.run();
            String async = nccl.asyncError(comm);
            if (async != null) {
                throw new IllegalStateException("NCCL reports " + async);
            }
        });
    }
}
