package io.github.vdep.train.distributed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.vdep.core.autograd.Parameter;
import io.github.vdep.core.backend.Backends;
import io.github.vdep.core.cuda.HostCudaApi;
import io.github.vdep.core.cuda.NcclApi;
import io.github.vdep.core.device.Device;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The NCCL collectives' Java side with two in-process ranks (threads), each on its own emulated
 * CUDA device, over an emulated NCCL ({@link HostNcclApi}) and host collectives ({@link ThreadCollectives}):
 * the unique id travels from rank 0 over the host collectives, gradients of device parameters are
 * summed in device memory, and rank 0's weights are broadcast. What libnccl.so.2 does on a GPU is
 * for scripts/gpu-check.sh.
 */
class NcclCollectivesEmulatedTest {
    static final String TYPE = "emunccl";

    @BeforeAll
    static void register() {
        Backends.register(HostCudaApi.provider(TYPE, 32L << 20));
    }

    /** Runs body(rank) on {@code ranks} threads and returns their results in rank order. */
    static <T> List<T> ranks(int ranks, java.util.function.IntFunction<T> body) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(ranks);
        try {
            List<Future<T>> futures = new ArrayList<>();
            for (int r = 0; r < ranks; r++) {
                int rank = r;
                futures.add(pool.submit((Callable<T>) () -> body.apply(rank)));
            }
            List<T> out = new ArrayList<>();
            for (Future<T> f : futures) {
                out.add(f.get(120, TimeUnit.SECONDS));
            }
            return out;
        } finally {
            pool.shutdownNow();
        }
    }

    private static INDArray values(long seed, long... shape) {
        return Nd4j.rand(DataType.FLOAT, shape).muli(2).subi(1).addi(seed);
    }

    private static INDArray host(io.github.vdep.core.device.DeviceStorage s) {
        return Backends.device(s.device()).download(s);
    }

    @Test
    void twoRanksSumDeviceGradientsAndBroadcastRankZerosWeights() throws Exception {
        HostNcclApi nccl = new HostNcclApi();
        ThreadCollectives.World world = new ThreadCollectives.World(2);
        int groupsBefore = HostNcclApi.groups();
        // the gradients every rank computes (rank r: gradient r of each parameter); "late" only on rank 0, "none" on no rank
        INDArray[] gradA = {values(0, 3, 5), values(1, 3, 5)};
        INDArray[] gradLate = {values(2, 7), null};
        INDArray[] value = {values(3, 3, 5), values(4, 3, 5)};
        INDArray[] cpuGrad = {values(5, 4), values(6, 4)};
        List<INDArray[]> results = ranks(2, rank -> {
            Device device = new Device(TYPE, rank);
            try (NcclCollectives comm = NcclCollectives.start(new ThreadCollectives(world, rank), device, nccl, 60)) {
                assertTrue(comm.description().startsWith("NCCL 2.30.7 on " + device), comm.description());
                DataParallel dp = new DataParallel(comm);
                Parameter a = new Parameter("a", value[rank].dup());
                Parameter late = new Parameter("late", Nd4j.zeros(DataType.FLOAT, 7));
                Parameter none = new Parameter("none", Nd4j.zeros(DataType.FLOAT, 2));
                Parameter onHost = new Parameter("onHost", Nd4j.zeros(DataType.FLOAT, 4)); // a parameter left on the CPU goes over the host collectives
                a.moveTo(device);
                late.moveTo(device);
                none.moveTo(device);
                a.accumulateGrad(Backends.device(device).upload(gradA[rank], DataType.FLOAT));
                if (gradLate[rank] != null) {
                    late.accumulateGrad(Backends.device(device).upload(gradLate[rank], DataType.FLOAT));
                }
                onHost.accumulateGrad(cpuGrad[rank]);
                dp.sumGradients(List.of(a, late, none, onHost));
                assertNull(none.deviceGrad(), "a parameter no rank has a gradient for keeps none");
                dp.broadcastFromRankZero(List.of(a));
                return new INDArray[] {host(a.deviceGrad()), host(late.deviceGrad()), host(a.storage()), onHost.grad().dup()};
            }
        });
        assertEquals(1, nccl.uniqueIds.get(), "rank 0 alone makes the unique id");
        assertEquals(groupsBefore + 1, HostNcclApi.groups(), "both ranks joined one communicator: the id reached rank 1");
        assertEquals(2, nccl.allReduces.get(), "one grouped all-reduce per rank");
        assertEquals(2 * (15 + 7), nccl.allReducedElements.get(), "the device gradients of both ranks, and nothing else");
        assertEquals(2, nccl.broadcasts.get());
        assertEquals(2, nccl.destroyed.get(), "close() destroys each rank's communicator");
        for (int rank = 0; rank < 2; rank++) {
            INDArray[] r = results.get(rank);
            assertEquals(0.0, r[0].sub(gradA[0].add(gradA[1])).amaxNumber().doubleValue(), 1e-6, "summed gradient on rank " + rank);
            assertEquals(0.0, r[1].sub(gradLate[0]).amaxNumber().doubleValue(), 0.0, "a gradient only rank 0 has, summed with zeros, on rank " + rank);
            assertEquals(0.0, r[2].sub(value[0]).amaxNumber().doubleValue(), 0.0, "rank 0's weights on rank " + rank);
            assertEquals(0.0, r[3].sub(cpuGrad[0].add(cpuGrad[1])).amaxNumber().doubleValue(), 1e-6, "host gradient on rank " + rank);
        }
        assertTrue(results.get(0)[0].sub(gradA[0]).amaxNumber().doubleValue() > 0.1, "the sum differs from rank 0's own gradient");
    }

    @Test
    void anUnavailableNcclIsOneLineNamingTheLibrary() {
        NcclApi missing = new HostNcclApi() {
            @Override
            public String unavailableReason() {
                return "libnccl.so.2 not found (on LD_LIBRARY_PATH ...)";
            }
        };
        DistributedException e = assertThrows(DistributedException.class,
                () -> NcclCollectives.start(SingleProcess.INSTANCE, new Device(TYPE, 0), missing, 60));
        assertEquals("rank 0 of 1 on emunccl:0: NCCL cannot be used: libnccl.so.2 not found (on LD_LIBRARY_PATH ...)", e.getMessage());
    }

    @Test
    void theMpiCollectivesRefuseDeviceMemoryInOneLine() {
        Device device = new Device(TYPE, 0);
        io.github.vdep.core.device.DeviceStorage s = Backends.device(device).full(new long[] {2}, DataType.FLOAT, 1);
        Collectives hostOnly = new ThreadCollectives(new ThreadCollectives.World(1), 0);
        DistributedException e = assertThrows(DistributedException.class, () -> hostOnly.sumOnDevice(List.of(s)));
        assertEquals("rank 0: the collectives (threads) work on host memory, not on emunccl:0: a model on a GPU needs NCCL "
                + "(--ddp-backend nccl, the default with --device cuda)", e.getMessage());
        s.release();
    }

    @Test
    void aSingleRankNcclCommunicatorIsTheIdentity() throws Exception {
        HostNcclApi nccl = new HostNcclApi();
        Device device = new Device(TYPE, 0);
        try (NcclCollectives comm = NcclCollectives.start(SingleProcess.INSTANCE, device, nccl, 60)) {
            DataParallel dp = new DataParallel(comm);
            assertTrue(dp.distributed(), "an explicit communicator of one rank runs the data-parallel path");
            Parameter p = new Parameter("p", values(1, 6));
            INDArray before = p.value().dup();
            p.moveTo(device);
            INDArray g = values(2, 6);
            p.accumulateGrad(Backends.device(device).upload(g, DataType.FLOAT));
            dp.sumGradients(List.of(p));
            dp.broadcastFromRankZero(List.of(p));
            assertNotNull(p.deviceGrad());
            assertEquals(0.0, host(p.deviceGrad()).sub(g).amaxNumber().doubleValue(), 0.0);
            assertEquals(0.0, host(p.storage()).sub(before).amaxNumber().doubleValue(), 0.0);
        }
        assertEquals(1, nccl.allReduces.get());
        assertEquals(1, nccl.broadcasts.get());
    }
}
