package io.github.vdep.train.distributed;

import java.util.ArrayList;
import java.util.List;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.shape.Shape;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link Collectives} over MPI's {@code MPI_COMM_WORLD}, through the JNI layer of
 * {@code vdep_mpi.cpp}. Gradients are summed in buckets of {@value #BUCKET_BYTES} bytes (PyTorch
 * DDP's default bucket size): one {@code MPI_Allreduce} per bucket rather than one per tensor.
 *
 * <p>Faults: MPI errors are returned rather than fatal, and thrown. A rank that dies is reported by
 * the launcher ({@code mpirun} names the rank and ends the others). A collective that waits longer
 * than the timeout (a rank that hangs, or a launcher that does not end the job) makes this rank
 * print one line and exit with status 3, which ends the job. All calls must come from the thread
 * that created this object.
 */
public final class MpiCollectives implements Collectives {
    private static final Logger LOG = LoggerFactory.getLogger(MpiCollectives.class);
    static final long BUCKET_BYTES = 25L << 20;
    private static final int FLOAT = 0;
    private static final int DOUBLE = 1;
    private static final int LONG = 2;
    private static final int SUM = 0;
    private static final int MIN = 1;
    private static final int MAX = 2;

    private final Launch launch;
    private final String library;
    private final CollectiveClock clock;
    private boolean closed;

    private MpiCollectives(Launch launch, String library, double timeoutSeconds) {
        this.launch = launch;
        this.library = library;
        this.clock = new CollectiveClock(launch.rank(), launch.size(), timeoutSeconds, "vdep-mpi-watchdog");
    }

    /** Initialises MPI for this launch; checks that MPI sees the ranks the launcher started. */
    static MpiCollectives start(Launch launch, double timeoutSeconds) {
        if (!(timeoutSeconds > 0)) {
            throw new IllegalArgumentException("the collectives' timeout must be positive, got " + timeoutSeconds);
        }
        String what = launch.launcher() + " started this process as rank " + launch.rank() + " of " + launch.size();
        MpiNative.load(what);
        String pmi = Launch.pmiMissing(launch, System.getenv(), MpiNative.library()); // callable before MPI_Init
        if (pmi != null) {
            throw new DistributedException(pmi);
        }
        int size = MpiNative.init();
        int rank = MpiNative.rank();
        if (size != launch.size() || rank != launch.rank()) {
            throw new DistributedException(what + ", but MPI sees rank " + rank + " of " + size
                    + (size == 1 ? ": MPI did not join the launcher's job (with srun, pass --mpi=pmix or --mpi=pmi2 as your MPI was built for)" : ""));
        }
        MpiCollectives c = new MpiCollectives(launch, MpiNative.library(), timeoutSeconds);
        LOG.info("rank {} of {} ({}, {})", rank, size, launch.launcher(), c.library);
        return c;
    }

    @Override
    public int rank() {
        return launch.rank();
    }

    @Override
    public int size() {
        return launch.size();
    }

    @Override
    public String description() {
        return launch.launcher() + ", " + library;
    }

    @Override
    public void sumInPlace(List<INDArray> arrays) {
        for (INDArray a : arrays) {
            if (a.dataType() != DataType.FLOAT && a.dataType() != DataType.DOUBLE) {
                throw new IllegalArgumentException("cannot sum " + a.dataType() + " arrays over ranks (float or double only)");
            }
        }
        for (DataType type : new DataType[] {DataType.FLOAT, DataType.DOUBLE}) {
            List<INDArray> whole = new ArrayList<>();
            List<INDArray[]> copies = new ArrayList<>();
            for (INDArray a : arrays) {
                if (a.dataType() != type) {
                    continue;
                }
                if (isWhole(a)) {
                    whole.add(a);
                } else {
                    INDArray c = a.dup('c');
                    copies.add(new INDArray[] {a, c});
                    whole.add(c);
                }
            }
            if (whole.isEmpty()) {
                continue;
            }
            long[] addresses = new long[whole.size()];
            long[] counts = new long[whole.size()];
            for (int i = 0; i < addresses.length; i++) {
                addresses[i] = whole.get(i).data().address();
                counts[i] = whole.get(i).length();
            }
            int code = type == DataType.FLOAT ? FLOAT : DOUBLE;
            run("the gradient all-reduce", () -> MpiNative.allreduceBuckets(addresses, counts, code, BUCKET_BYTES));
            for (INDArray[] c : copies) {
                c[0].assign(c[1]);
            }
        }
    }

    @Override
    public void sum(double[] values) {
        run("an all-reduce of step statistics", () -> MpiNative.allreduceDoubles(values));
    }

    @Override
    public void min(long[] values) {
        run("an all-reduce (min)", () -> MpiNative.allreduceLongs(values, MIN));
    }

    @Override
    public void max(long[] values) {
        run("an all-reduce (max)", () -> MpiNative.allreduceLongs(values, MAX));
    }

    @Override
    public void broadcast(List<INDArray> arrays, int root) {
        for (INDArray a : arrays) {
            int code = switch (a.dataType()) {
                case FLOAT -> FLOAT;
                case DOUBLE -> DOUBLE;
                case LONG -> LONG;
                default -> throw new IllegalArgumentException("cannot broadcast " + a.dataType() + " arrays (float, double or int64 only)");
            };
            INDArray target = isWhole(a) ? a : a.dup('c');
            run("the broadcast of the initial weights", () -> MpiNative.broadcast(target.data().address(), target.length(), code, root));
            if (target != a) {
                a.assign(target);
            }
        }
    }

    @Override
    public void barrier() {
        run("a barrier", MpiNative::barrier);
    }

    @Override
    public double seconds() {
        return clock.seconds();
    }

    @Override
    public void abort(int exitCode) {
        if (!closed) {
            closed = true;
            MpiNative.abort(exitCode);
        }
    }

    @Override
    public void close() {
        if (!closed) {
            run("the final barrier", MpiNative::barrier);
            closed = true;
            MpiNative.finish();
        }
    }

    private void run(String what, Runnable call) {
        if (closed) {
            throw new IllegalStateException("the MPI collectives are closed");
        }
        clock.run(what, call);
    }

    private static boolean isWhole(INDArray a) {
        return a.ordering() == 'c' && a.offset() == 0 && Shape.hasDefaultStridesForShape(a) && a.data().length() == a.length();
    }
}
