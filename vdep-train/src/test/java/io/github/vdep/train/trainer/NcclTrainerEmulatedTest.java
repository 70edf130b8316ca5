package io.github.vdep.train.trainer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.vdep.core.autograd.Parameter;
import io.github.vdep.core.backend.Backends;
import io.github.vdep.core.cuda.HostCudaApi;
import io.github.vdep.core.device.Device;
import io.github.vdep.core.llava.LlavaModel;
import io.github.vdep.train.distributed.DataParallel;
import io.github.vdep.train.distributed.HostNcclApi;
import io.github.vdep.train.distributed.NcclCollectives;
import io.github.vdep.train.distributed.ThreadCollectives;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The {@link Trainer} as two data-parallel ranks on GPUs, wired as {@code vdep train --device cuda}
 * under {@code mpirun -n 2} wires it ({@link NcclCollectives} over the host collectives), but with
 * the ranks as threads, each on its own emulated CUDA device, over an emulated NCCL: 2 ranks with
 * one sample each must train like one process with the global batch of two on the same kind of
 * device, up to float summation order. A GPU run of the same is in scripts/gpu-check.sh.
 */
class NcclTrainerEmulatedTest {
    private static final String TYPE = "emuddp";

    @TempDir
    Path tmp;

    @BeforeAll
    static void register() {
        Backends.register(HostCudaApi.provider(TYPE, 128L << 20));
    }

    private TrainConfig config(String out, int batchSize, Device device) {
        TrainConfig.Builder b = TrainConfig.defaults(Stage.FINETUNE, 3, tmp.resolve(out)).toBuilder();
        b.optimizer = "sgd";
        b.lr = 5e-2;
        b.batchSize = batchSize;
        b.warmupRatio = 0;
        b.lrSchedule = io.github.vdep.train.optim.LrSchedule.Kind.CONSTANT;
        b.device = device;
        return b.build();
    }

    private static Map<String, INDArray> weights(LlavaModel m) {
        Map<String, INDArray> w = new LinkedHashMap<>();
        for (Map.Entry<String, Parameter> e : m.namedParameters().entrySet()) {
            w.put(e.getKey(), e.getValue().to(Device.CPU).value().dup());
        }
        return w;
    }

    @Test
    void twoEmulatedGpuRanksTrainLikeOneGpuWithTheGlobalBatch() throws Exception {
        Map<String, INDArray> init = weights(GoldenFixture.model());
        LlavaModel single = GoldenFixture.model();
        new Trainer(single, config("single", 2, new Device(TYPE, 2)), GoldenFixture.repeating(), TrainingListener.NONE).run();
        Map<String, INDArray> expected = weights(single);

        HostNcclApi nccl = new HostNcclApi();
        ThreadCollectives.World world = new ThreadCollectives.World(2);
        ExecutorService pool = Executors.newFixedThreadPool(2);
        List<Future<Map<String, INDArray>>> ranks = new ArrayList<>();
        for (int r = 0; r < 2; r++) {
            int rank = r;
            ranks.add(pool.submit(() -> {
                Device device = new Device(TYPE, rank);
                LlavaModel model = GoldenFixture.model();
                if (rank == 1) {
                    // rank 1 starts from other trainable weights: the broadcast must replace them with rank 0's
                    model.namedParameters().forEach((n, p) -> {
                        if (n.startsWith("multi_modal_projector.")) {
                            p.value().addi(0.5);
                        }
                    });
                }
                try (NcclCollectives comm = NcclCollectives.start(new ThreadCollectives(world, rank), device, nccl, 60)) {
                    // the global batch of 2 from the data source, one sample per rank
                    new Trainer(model, config("two", 1, device), GoldenFixture.repeating(), TrainingListener.NONE, new DataParallel(comm)).run();
                }
                return weights(model);
            }));
        }
        List<Map<String, INDArray>> got = new ArrayList<>();
        try {
            for (Future<Map<String, INDArray>> f : ranks) {
                got.add(f.get(300, TimeUnit.SECONDS));
            }
        } finally {
            pool.shutdownNow();
        }

        assertTrue(nccl.broadcasts.get() == 2 && nccl.allReduces.get() == 2 * 3, "one broadcast and one all-reduce per step, per rank: "
                + nccl.broadcasts + ", " + nccl.allReduces);
        double moved = 0;
        double worst = 0;
        for (String name : expected.keySet()) {
            moved = Math.max(moved, expected.get(name).sub(init.get(name)).amaxNumber().doubleValue());
            for (Map<String, INDArray> w : got) {
                worst = Math.max(worst, w.get(name).sub(expected.get(name)).castTo(DataType.DOUBLE).amaxNumber().doubleValue());
            }
        }
        assertEquals(0.0, got.get(0).entrySet().stream().mapToDouble(e -> e.getValue().sub(got.get(1).get(e.getKey())).amaxNumber().doubleValue())
                .max().orElse(1), 0.0, "both ranks hold the same weights");
        System.out.printf("emulated NCCL, 2 ranks x 1 vs 1 process x 2: weights moved by up to %.3g, max |difference| %.3g%n", moved, worst);
        assertTrue(moved > 1e-3, "the run should move the weights: " + moved);
        assertTrue(worst < 1e-5, "2 ranks differ from one process with the global batch by up to " + worst);
    }
}
