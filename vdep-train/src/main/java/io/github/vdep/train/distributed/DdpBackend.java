package io.github.vdep.train.distributed;

import java.util.Locale;

/**
 * Which collectives carry a data-parallel job ({@code --ddp-backend}, named as Hugging Face's
 * {@code TrainingArguments.ddp_backend}): {@link #AUTO} picks MPI for a model on the CPU and NCCL
 * for a model on a GPU when there is more than one rank. {@link #MPI} or {@link #NCCL} asked for
 * explicitly are used even for a job of one rank, which checks that path on one machine (it must
 * train exactly like a single process).
 */
public enum DdpBackend {
    AUTO,
    MPI,
    NCCL;

    /** Parses {@code auto}, {@code mpi} or {@code nccl}; anything else is a one-line error. */
    public static DdpBackend parse(String name) {
        try {
            return valueOf(name.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException | NullPointerException e) {
            throw new IllegalArgumentException("--ddp-backend '" + name + "' is not auto, mpi or nccl");
        }
    }

    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT);
    }
}
