package io.github.vdep.train.distributed;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * The JNI functions of {@code src/main/native/vdep_mpi.cpp}, built by Maven when MPI's headers are
 * found. Type codes: 0 float, 1 double, 2 int64; operation codes: 0 sum, 1 min, 2 max. Failures
 * throw {@link IllegalStateException} with MPI's own message.
 */
final class MpiNative {
    private static final String RESOURCE = "/native/linux-x86_64/libvdepmpi.so";

    private MpiNative() {
    }

    /** Loads the library, or says in one line why it cannot be. */
    static void load(String launch) {
        try (InputStream in = MpiNative.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new DistributedException(launch + ", but this vdep was built without MPI (no mpi.h when it was compiled): "
                        + "install an MPI (apt-get install libopenmpi-dev) and rebuild, or run one process");
            }
            Path file = Files.createTempFile("libvdepmpi", ".so");
            file.toFile().deleteOnExit();
            Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
            System.load(file.toAbsolutePath().toString());
        } catch (IOException e) {
            throw new DistributedException(launch + ", but the MPI collectives library could not be unpacked: " + e.getMessage());
        } catch (UnsatisfiedLinkError e) {
            throw new DistributedException(launch + ", but the MPI collectives library does not load (" + e.getMessage()
                    + "): is the MPI it was built against installed (apt-get install openmpi-bin)?");
        }
    }

    /** MPI_Init_thread (funneled); returns the world size. */
    static native int init();

    static native int rank();

    /** The MPI library's version line. */
    static native String library();

    static native void allreduce(long address, long count, int type, int op);

    static native void allreduceDoubles(double[] values);

    static native void allreduceLongs(long[] values, int op);

    static native void allreduceBuckets(long[] addresses, long[] counts, int type, long bucketBytes);

    static native void broadcast(long address, long count, int type, int root);

    static native void barrier();

    static native void abort(int code);

    static native void finish();
}
