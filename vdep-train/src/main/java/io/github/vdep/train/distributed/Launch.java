package io.github.vdep.train.distributed;

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
 */
public record Launch(String launcher, int rank, int size, boolean mpi) {
    public static final Launch SINGLE = new Launch("single process", 0, 1, false);

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
            // srun --mpi=pmi2 sets PMI_RANK (above), --mpi=pmix PMIX_RANK. With neither (--mpi=none, the
            // default unless slurm.conf sets MpiDefault), Open MPI aborts inside MPI_Init with a page
            // about how it was built; say what to change before that happens.
            if (found.distributed() && !env.containsKey("PMIX_RANK")) {
                throw new DistributedException("srun started this process as rank " + found.rank + " of " + found.size
                        + " without a process-management interface for MPI (no PMIX_RANK or PMI_RANK in its environment), so MPI "
                        + "cannot join the job: pass --mpi=pmix (Open MPI) or --mpi=pmi2 (MPICH) to srun, or set MpiDefault in slurm.conf");
            }
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
        return found;
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
     * The collectives for this launch: {@link SingleProcess} for one rank, MPI otherwise.
     *
     * @param timeoutSeconds how long a collective may wait for the other ranks before this rank
     *     stops with a message (a rank died or hangs)
     * @throws DistributedException if the launch needs MPI and it is missing, or is not an MPI launch
     */
    public Collectives connect(double timeoutSeconds) {
        if (!distributed()) {
            return SingleProcess.INSTANCE;
        }
        String what = launcher + " started this process as rank " + rank + " of " + size;
        if (!mpi) {
            throw new DistributedException(what + ", but vdep's ranks are MPI processes and MPI cannot join processes started "
                    + "one by one: launch them with mpirun -n " + size + " (or srun), which set up the job; see docs/distributed.md");
        }
        return MpiCollectives.start(this, timeoutSeconds);
    }
}
