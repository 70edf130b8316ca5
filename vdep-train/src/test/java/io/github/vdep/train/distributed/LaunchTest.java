package io.github.vdep.train.distributed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;

class LaunchTest {
    @Test
    void noLauncherIsOneProcess() {
        assertEquals(Launch.SINGLE, Launch.detect(Map.of("HOME", "/root")));
        assertFalse(Launch.detect(Map.of("WORLD_SIZE", "1", "RANK", "0")).distributed());
        assertSame(SingleProcess.INSTANCE, Launch.SINGLE.connect(10));
    }

    @Test
    void readsEachLaunchersVariables() {
        assertEquals(new Launch("mpirun (Open MPI)", 1, 4, true),
                Launch.detect(Map.of("OMPI_COMM_WORLD_RANK", "1", "OMPI_COMM_WORLD_SIZE", "4", "OMPI_COMM_WORLD_LOCAL_RANK", "1")));
        assertEquals(new Launch("an MPI launcher (PMI)", 2, 3, true), Launch.detect(Map.of("PMI_RANK", "2", "PMI_SIZE", "3")));
        assertEquals(new Launch("srun", 5, 8, true),
                Launch.detect(Map.of("SLURM_PROCID", "5", "SLURM_STEP_NUM_TASKS", "8", "SLURM_NTASKS", "8", "PMIX_RANK", "5")));
        // srun --mpi=pmi2: MPI reads PMI_RANK/PMI_SIZE, which srun sets beside its own variables
        assertEquals(new Launch("an MPI launcher (PMI)", 5, 8, true),
                Launch.detect(Map.of("SLURM_PROCID", "5", "SLURM_STEP_NUM_TASKS", "8", "PMI_RANK", "5", "PMI_SIZE", "8")));
        assertEquals(new Launch("torchrun-style variables", 1, 2, false),
                Launch.detect(Map.of("RANK", "1", "WORLD_SIZE", "2", "LOCAL_RANK", "1", "MASTER_ADDR", "node0", "MASTER_PORT", "29500")));
    }

    @Test
    void aSlurmBatchScriptItselfIsNotARank() {
        // sbatch sets SLURM_PROCID=0 and SLURM_NTASKS for the script; only srun's steps set SLURM_STEP_NUM_TASKS
        assertEquals(Launch.SINGLE, Launch.detect(Map.of("SLURM_PROCID", "0", "SLURM_NTASKS", "8")));
    }

    @Test
    void srunWithoutAnMpiPluginIsRefusedBeforeMpiStarts() {
        // srun --mpi=none sets no PMI variables; Open MPI would abort in MPI_Init with a page of text
        DistributedException e = assertThrows(DistributedException.class,
                () -> Launch.detect(Map.of("SLURM_PROCID", "1", "SLURM_STEP_NUM_TASKS", "2")));
        assertTrue(e.getMessage().contains("rank 1 of 2") && e.getMessage().contains("--mpi=pmix"), e.getMessage());
        // one task needs no MPI
        assertFalse(Launch.detect(Map.of("SLURM_PROCID", "0", "SLURM_STEP_NUM_TASKS", "1")).distributed());
    }

    @Test
    void torchrunStyleVariablesAloneAreRefusedWithTheMpirunLine() {
        Launch l = Launch.detect(Map.of("RANK", "0", "WORLD_SIZE", "2", "MASTER_ADDR", "localhost", "MASTER_PORT", "29500"));
        DistributedException e = assertThrows(DistributedException.class, () -> l.connect(10));
        assertTrue(e.getMessage().contains("rank 0 of 2") && e.getMessage().contains("mpirun -n 2"), e.getMessage());
    }

    @Test
    void badOrInconsistentVariablesAreNamed() {
        DistributedException e = assertThrows(DistributedException.class, () -> Launch.detect(Map.of("RANK", "x", "WORLD_SIZE", "2")));
        assertTrue(e.getMessage().contains("RANK='x'"), e.getMessage());
        e = assertThrows(DistributedException.class, () -> Launch.detect(Map.of("RANK", "2", "WORLD_SIZE", "2")));
        assertTrue(e.getMessage().contains("RANK=2"), e.getMessage());
        e = assertThrows(DistributedException.class, () -> Launch.detect(Map.of("OMPI_COMM_WORLD_RANK", "1", "OMPI_COMM_WORLD_SIZE", "2",
                "RANK", "0", "WORLD_SIZE", "2")));
        assertTrue(e.getMessage().contains("RANK/WORLD_SIZE say 0 of 2"), e.getMessage());
    }
}
