package io.github.vdep.train.distributed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.vdep.core.device.Device;
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
        assertEquals(new Launch("mpirun (Open MPI)", 1, 4, true, 1),
                Launch.detect(Map.of("OMPI_COMM_WORLD_RANK", "1", "OMPI_COMM_WORLD_SIZE", "4", "OMPI_COMM_WORLD_LOCAL_RANK", "1")));
        assertEquals(new Launch("an MPI launcher (PMI)", 2, 3, true), Launch.detect(Map.of("PMI_RANK", "2", "PMI_SIZE", "3")));
        assertEquals(new Launch("an MPI launcher (PMI)", 2, 3, true, 0), Launch.detect(Map.of("PMI_RANK", "2", "PMI_SIZE", "3", "MPI_LOCALRANKID", "0")));
        assertEquals(new Launch("srun", 5, 8, true, 1),
                Launch.detect(Map.of("SLURM_PROCID", "5", "SLURM_STEP_NUM_TASKS", "8", "SLURM_NTASKS", "8", "PMIX_RANK", "5", "SLURM_LOCALID", "1")));
        // srun --mpi=pmi2: MPI reads PMI_RANK/PMI_SIZE, which srun sets beside its own variables
        assertEquals(new Launch("an MPI launcher (PMI)", 5, 8, true),
                Launch.detect(Map.of("SLURM_PROCID", "5", "SLURM_STEP_NUM_TASKS", "8", "PMI_RANK", "5", "PMI_SIZE", "8")));
        assertEquals(new Launch("torchrun-style variables", 1, 2, false, 1),
                Launch.detect(Map.of("RANK", "1", "WORLD_SIZE", "2", "LOCAL_RANK", "1", "MASTER_ADDR", "node0", "MASTER_PORT", "29500")));
    }

    @Test
    void eachRankOfAGpuJobTakesItsLocalRanksGpu() {
        Launch rank3 = Launch.detect(Map.of("OMPI_COMM_WORLD_RANK", "3", "OMPI_COMM_WORLD_SIZE", "4", "OMPI_COMM_WORLD_LOCAL_RANK", "1"));
        assertEquals(Device.cuda(1), rank3.deviceFor(Device.cuda(0)), "--device cuda: the local rank's GPU");
        assertEquals(Device.cuda(1), rank3.deviceFor(Device.cuda(1)));
        assertEquals(Device.CPU, rank3.deviceFor(Device.CPU));
        assertEquals(Device.cuda(2), Launch.SINGLE.deviceFor(Device.cuda(2)), "one process: the GPU asked for");
        DistributedException e = assertThrows(DistributedException.class, () -> rank3.deviceFor(Device.cuda(3)));
        assertEquals("--device cuda:3 in a job of 4 ranks: each rank trains on the GPU of its local rank (cuda:1 here); pass --device cuda, "
                + "and choose the GPUs with CUDA_VISIBLE_DEVICES", e.getMessage());
        Launch unknown = Launch.detect(Map.of("PMI_RANK", "1", "PMI_SIZE", "2"));
        e = assertThrows(DistributedException.class, () -> unknown.deviceFor(Device.cuda(0)));
        assertTrue(e.getMessage().contains("without a local rank") && e.getMessage().contains("LOCAL_RANK"), e.getMessage());
        e = assertThrows(DistributedException.class, () -> Launch.detect(Map.of("OMPI_COMM_WORLD_RANK", "0", "OMPI_COMM_WORLD_SIZE", "2",
                "OMPI_COMM_WORLD_LOCAL_RANK", "5")));
        assertTrue(e.getMessage().contains("OMPI_COMM_WORLD_LOCAL_RANK=5"), e.getMessage());
    }

    @Test
    void theBackendMustFitTheDevice() {
        assertSame(SingleProcess.INSTANCE, Launch.SINGLE.connect(10, Device.cuda(0), DdpBackend.AUTO), "one GPU process needs no collectives");
        DistributedException e = assertThrows(DistributedException.class, () -> Launch.SINGLE.connect(10, Device.CPU, DdpBackend.NCCL));
        assertEquals("--ddp-backend nccl needs --device cuda (NCCL sums GPU memory), not cpu", e.getMessage());
        e = assertThrows(DistributedException.class, () -> Launch.SINGLE.connect(10, Device.cuda(0), DdpBackend.MPI));
        assertEquals("--ddp-backend mpi sums host memory and cannot train on cuda:0: use --ddp-backend nccl (or auto)", e.getMessage());
        assertEquals(DdpBackend.NCCL, DdpBackend.parse(" NCCL"));
        IllegalArgumentException bad = assertThrows(IllegalArgumentException.class, () -> DdpBackend.parse("gloo"));
        assertEquals("--ddp-backend 'gloo' is not auto, mpi or nccl", bad.getMessage());
    }

    @Test
    void withoutCudaTheNcclBackendSaysWhyInOneLine() {
        // this machine has no libnccl.so.2 (or no CUDA): the message says which, and names the rank and device
        org.junit.jupiter.api.Assumptions.assumeTrue(io.github.vdep.core.cuda.NcclApi.jni().unavailableReason() != null, "NCCL is usable here");
        DistributedException e = assertThrows(DistributedException.class, () -> Launch.SINGLE.connect(10, Device.cuda(0), DdpBackend.NCCL));
        assertTrue(e.getMessage().startsWith("rank 0 of 1 on cuda:0: NCCL cannot be used: "), e.getMessage());
        System.out.println("--ddp-backend nccl here: " + e.getMessage());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
        if (io.github.vdep.core.cuda.CudaRuntime.status().kernelsLoaded()) {
            // built with nvcc: libvdepcuda.so loaded and tried dlopen("libnccl.so.2")
            assertTrue(e.getMessage().contains("libnccl.so.2 not found"), e.getMessage());
        }
    }

    @Test
    void aSlurmBatchScriptItselfIsNotARank() {
        // sbatch sets SLURM_PROCID=0 and SLURM_NTASKS for the script; only srun's steps set SLURM_STEP_NUM_TASKS
        assertEquals(Launch.SINGLE, Launch.detect(Map.of("SLURM_PROCID", "0", "SLURM_NTASKS", "8")));
    }

    @Test
    void srunWithoutAnMpiPluginIsRefusedBeforeOpenMpiStarts() {
        // srun --mpi=none sets no PMI variables; Open MPI would abort in MPI_Init with a page of text
        Launch l = Launch.detect(Map.of("SLURM_PROCID", "1", "SLURM_STEP_NUM_TASKS", "2"));
        String why = Launch.pmiMissing(l, Map.of("SLURM_PROCID", "1", "SLURM_STEP_NUM_TASKS", "2"), "Open MPI v4.1.4");
        assertTrue(why != null && why.contains("rank 1 of 2") && why.contains("--mpi=pmix"), why);
        // --mpi=pmix
        assertEquals(null, Launch.pmiMissing(l, Map.of("SLURM_PROCID", "1", "SLURM_STEP_NUM_TASKS", "2", "PMIX_RANK", "1"), "Open MPI v4.1.4"));
        // an MPI that may join through Slurm's PMI-1 library, and one task, which needs no MPI
        assertEquals(null, Launch.pmiMissing(l, Map.of("SLURM_PROCID", "1", "SLURM_STEP_NUM_TASKS", "2"), "MPICH Version: 4.0.2"));
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
