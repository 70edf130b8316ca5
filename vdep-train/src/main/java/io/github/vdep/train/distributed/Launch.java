package io.github.vdep.train.distributed;

import io.github.vdep.core.cuda.NcclApi;
import io.github.vdep.core.device.Device;
import java.util.Map;

/**
 * How this process was started, read from the launcher's environment variables: Open MPI's
 * {@code mpirun} ({@code OMPI_COMM_WORLD_RANK/SIZE}), an MPI started by PMI ({@code PMI_RANK/SIZE},
 * MPICH's launcher or {@code srun --mpi=pmi2}), Slurm's {@code srun} ({@code SLURM_PROCID},
 * {@code SLURM_STEP_NUM_TASKS}), or torchrun-style variables ({@code RANK}, {@code WORLD_SIZE}).
 * None of them, or a world of one: a single process.
 *
 * @param launcher what started the process, for messages
 * @param rank this process's rank
 * @param size the number of ranks the launcher started
 * @param mpi whether the launcher starts MPI processes (torchrun-style variables alone do not)
 * @param localRank this process's rank among those on its machine, which picks its GPU
 *     ({@code OMPI_COMM_WORLD_LOCAL_RANK}, {@code MPI_LOCALRANKID}, {@code SLURM_LOCALID} or
 *     {@code LOCAL_RANK}); -1 when the launcher did not say
 */
public record Launch(String launcher, int rank, int size, boolean mpi, int localRank) {
    public static final Launch SINGLE = new Launch("single process", 0, 1, false, 0);
    private static final String[] LOCAL_RANK = {"OMPI_COMM_WORLD_LOCAL_RANK", "MPI_LOCALRANKID", "SLURM_LOCALID", "LOCAL_RANK"};

    /** A launch whose local rank is not known. */
    public Launch(String launcher, int rank, int size, boolean mpi) {
        this(launcher, rank, size, mpi, -1);
    }

    /** Whether more than one rank was launched. */
    public boolean distributed() {
        return size > 1;
    }

    /** The launch this process's environment describes. */
    public static Launch detect() {
        return detect(System.getenv());
    }

    /** The launch {@code env} describes; a malformed or inconsistent variable is a {@link DistributedException}. */
    public static Launch detect(Map<String, String> env) {
        Launch found = SINGLE;
        if (env.containsKey("OMPI_COMM_WORLD_SIZE")) {
            found = of("mpirun (Open MPI)", env, "OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE", true);
        } else if (env.containsKey("PMI_SIZE") && env.containsKey("PMI_RANK")) {
            found = of("an MPI launcher (PMI)", env, "PMI_RANK", "PMI_SIZE", true);
        } else if (env.containsKey("SLURM_STEP_NUM_TASKS") && env.containsKey("SLURM_PROCID")) {
            found = of("srun", env, "SLURM_PROCID", "SLURM_STEP_NUM_TASKS", true);
        } else if (env.containsKey("WORLD_SIZE")) {
            found = of("torchrun-style variables", env, "RANK", "WORLD_SIZE", false);
        }
        if (found.mpi && env.containsKey("WORLD_SIZE") && env.containsKey("RANK")) {
            Launch torch = of("torchrun-style variables", env, "RANK", "WORLD_SIZE", false);
            if (torch.rank != found.rank || torch.size != found.size) {
                throw new DistributedException(found.launcher + " made this rank " + found.rank + " of " + found.size + " but RANK/WORLD_SIZE say "
                        + torch.rank + " of " + torch.size + "; unset RANK and WORLD_SIZE or make them agree");
            }
        }
        if (found.distributed()) {
            for (String name : LOCAL_RANK) {
                if (env.containsKey(name)) {
                    int local = number(env, name, -1);
                    if (local < 0 || local >= found.size) {
                        throw new DistributedException(found.launcher + ": " + name + "=" + local + " is not a local rank of a job of " + found.size);
                    }
                    return new Launch(found.launcher, found.rank, found.size, found.mpi, local);
                }
            }
        }
        return found;
    }

    /**
     * Why MPI cannot join this launch, or null. srun {@code --mpi=pmi2} sets {@code PMI_RANK} (read
     * above as a PMI launch), {@code --mpi=pmix} sets {@code PMIX_RANK}. With neither ({@code --mpi=none},
     * Slurm's default unless slurm.conf sets MpiDefault), Open MPI aborts inside MPI_Init with a page
     * about how it was built, so this is said first. Other MPIs may join through Slurm's own PMI-1
     * library without either variable, so only Open MPI is refused.
     *
     * @param env the process's environment
     * @param mpiLibrary the MPI library's version string ({@code MPI_Get_library_version})
     */
    static String pmiMissing(Launch launch, Map<String, String> env, String mpiLibrary) {
        if (!"srun".equals(launch.launcher) || !launch.distributed() || env.containsKey("PMIX_RANK") || !mpiLibrary.startsWith("Open MPI")) {
            return null;
        }
        return "srun started this process as rank " + launch.rank + " of " + launch.size + " without a process-management interface for "
                + "Open MPI (no PMIX_RANK or PMI_RANK in its environment), so MPI cannot join the job: pass --mpi=pmix to srun, or set "
                + "MpiDefault=pmix in slurm.conf";
    }

    private static Launch of(String launcher, Map<String, String> env, String rankVar, String sizeVar, boolean mpi) {
        int size = number(env, sizeVar, 1);
        int rank = number(env, rankVar, 0);
        if (size < 1 || rank < 0 || rank >= size) {
            throw new DistributedException(launcher + ": " + rankVar + "=" + rank + " is not a rank of " + sizeVar + "=" + size);
        }
        return new Launch(launcher, rank, size, mpi);
    }

    private static int number(Map<String, String> env, String name, int absent) {
        String v = env.get(name);
        if (v == null) {
            return absent;
        }
        try {
            return Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
            throw new DistributedException("environment variable " + name + "='" + v + "' is not a whole number");
        }
    }

    /**
     * The device this rank trains on, for the {@code --device} asked for: on a GPU, each rank of a
     * job of several takes the GPU of its local rank ({@code cuda} becomes {@code cuda:LOCAL_RANK},
     * as torchrun jobs do with {@code torch.cuda.set_device(local_rank)}); the CPU, and a single
     * process, keep what was asked for.
     *
     * @throws DistributedException in one line if the launcher gave no local rank, or a GPU other
     *     than the local rank's was named
     */
    public Device deviceFor(Device requested) {
        if (!distributed() || requested.isCpu()) {
            return requested;
        }
        if (localRank < 0) {
            throw new DistributedException(launcher + " started rank " + rank + " of " + size + " without a local rank (none of "
                    + String.join(", ", LOCAL_RANK) + " is set), so the rank's GPU is unknown: set LOCAL_RANK for each rank");
        }
        if (requested.index() != 0 && requested.index() != localRank) {
            throw new DistributedException("--device " + requested + " in a job of " + size + " ranks: each rank trains on the GPU of its local rank ("
                    + requested.type() + ":" + localRank + " here); pass --device " + requested.type() + ", and choose the GPUs with CUDA_VISIBLE_DEVICES");
        }
        return new Device(requested.type(), localRank);
    }

    /** The collectives for this launch on the CPU, chosen automatically (see {@link #connect(double, Device, DdpBackend)}). */
    public Collectives connect(double timeoutSeconds) {
        return connect(timeoutSeconds, Device.CPU, DdpBackend.AUTO);
    }

    /**
     * The collectives for this launch and training device: the one place that picks them.
     * {@link DdpBackend#AUTO}: {@link SingleProcess} for one rank; MPI for a model on the CPU;
     * NCCL (over MPI) for a model on a CUDA GPU. An explicit backend is used even for one rank.
     *
     * @param timeoutSeconds how long a collective may wait for the other ranks before this rank
     *     stops with a message (a rank died or hangs)
     * @param device this rank's training device ({@link #deviceFor}); for NCCL it is the calling
     *     thread's current CUDA device
     * @throws DistributedException if the launch needs MPI or NCCL and it is missing, if the
     *     backend does not fit the device, or if this is not an MPI launch
     */
    public Collectives connect(double timeoutSeconds, Device device, DdpBackend backend) {
        boolean cuda = "cuda".equals(device.type());
        if (backend == DdpBackend.NCCL && !cuda) {
            throw new DistributedException("--ddp-backend nccl needs --device cuda (NCCL sums GPU memory), not " + device);
        }
        if (backend == DdpBackend.MPI && !device.isCpu()) {
            throw new DistributedException("--ddp-backend mpi sums host memory and cannot train on " + device + ": use --ddp-backend nccl (or auto)");
        }
        if (backend == DdpBackend.AUTO && !distributed()) {
            return SingleProcess.INSTANCE;
        }
        String what = launcher + " started this process as rank " + rank + " of " + size;
        if (distributed() && !mpi) {
            throw new DistributedException(what + ", but vdep's ranks are MPI processes and MPI cannot join processes started "
                    + "one by one: launch them with mpirun -n " + size + " (or srun), which set up the job; see docs/distributed.md");
        }
        // one rank with NCCL needs no MPI: there is nobody to send the unique id to
        Collectives host = !distributed() && cuda ? SingleProcess.INSTANCE : MpiCollectives.start(this, timeoutSeconds);
        if (!cuda) {
            return host;
        }
        // a failure here (no libnccl.so.2) ends this rank with one line; a rank that leaves without
        // MPI_Finalize makes mpirun end the job
        return NcclCollectives.start(host, device, NcclApi.jni(), timeoutSeconds);
    }
}
