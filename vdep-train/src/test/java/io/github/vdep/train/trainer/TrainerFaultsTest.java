package io.github.vdep.train.trainer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.vdep.core.autograd.Parameter;
import io.github.vdep.core.llava.LlavaModel;
import io.github.vdep.models.llava.LlavaConfig;
import io.github.vdep.train.optim.LrSchedule;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;

/** Faults around checkpoints and the run's life: unwritable output, stop requests, old checkpoints, locks, memory. */
class TrainerFaultsTest {
    @TempDir
    Path tmp;

    private static TrainConfig config(Path out, long steps, long saveEvery, boolean resume, int keep) {
        TrainConfig.Builder b = TrainConfig.defaults(Stage.PRETRAIN, steps, out).toBuilder();
        b.lr = 1e-2;
        b.batchSize = 2;
        b.saveEvery = saveEvery;
        b.resume = resume;
        b.lrSchedule = LrSchedule.Kind.COSINE;
        b.warmupRatio = 0.25;
        b.saveTotalLimit = keep;
        return b.build();
    }

    private static void assertSameWeights(LlavaModel expected, LlavaModel actual) {
        for (Map.Entry<String, Parameter> e : expected.namedParameters().entrySet()) {
            INDArray b = actual.namedParameters().get(e.getKey()).value();
            assertEquals(0.0, e.getValue().value().sub(b).amaxNumber().doubleValue(), 0.0, e.getKey());
        }
    }

    private static LlavaModel uninterrupted(Path out, long steps) throws Exception {
        LlavaModel m = GoldenFixture.model();
        new Trainer(m, config(out, steps, 0, false, 0), GoldenFixture.repeating(), TrainingListener.NONE).run();
        return m;
    }

    @Test
    void anUnwritableOutputStopsTheRunAndKeepsThePreviousCheckpointForResume() throws Exception {
        Path out = tmp.resolve("out");
        Path checkpoints = out.resolve("checkpoints");
        Path aside = out.resolve("checkpoints-aside");
        // after the step-2 checkpoint the checkpoints directory becomes unusable: a plain file stands in
        // its place (a fault that holds even for root, unlike permissions)
        TrainingListener breaker = new TrainingListener() {
            @Override
            public void onCheckpoint(long step, Path dir) {
                try {
                    Files.move(checkpoints, aside);
                    Files.writeString(checkpoints, "not a directory");
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }
        };
        CheckpointWriteException e = assertThrows(CheckpointWriteException.class,
                () -> new Trainer(GoldenFixture.model(), config(out, 4, 2, false, 0), GoldenFixture.repeating(), breaker).run());
        assertTrue(e.getMessage().startsWith("checkpoint step-00000004 could not be written under " + checkpoints), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), "one line");
        // the output is writable again: the step-2 checkpoint is intact and --resume continues from it
        Files.delete(checkpoints);
        Files.move(aside, checkpoints);
        assertEquals("step-00000002", Files.readString(checkpoints.resolve("latest")));
        LlavaModel resumed = GoldenFixture.model();
        TrainerState state = new Trainer(resumed, config(out, 4, 2, true, 0), GoldenFixture.repeating(), TrainingListener.NONE).run();
        assertEquals(4, state.step());
        assertSameWeights(uninterrupted(tmp.resolve("straight"), 4), resumed);
    }

    @Test
    void aFailedWriteKeepsLatestAndNamesThePreviousCheckpoint() throws Exception {
        Path out = tmp.resolve("partial");
        Path checkpoints = out.resolve("checkpoints");
        // the last part of step 4's write fails: a directory blocks the file that replaces latest
        // (DiskFullTest fails a write half-way, on a real full disk)
        TrainingListener blocker = new TrainingListener() {
            @Override
            public void onCheckpoint(long step, Path dir) {
                try {
                    Files.createDirectories(checkpoints.resolve("latest.tmp").resolve("occupied"));
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }
        };
        CheckpointWriteException e = assertThrows(CheckpointWriteException.class,
                () -> new Trainer(GoldenFixture.model(), config(out, 4, 2, false, 0), GoldenFixture.repeating(), blocker).run());
        assertTrue(e.getMessage().contains("the previous checkpoint " + checkpoints.resolve("step-00000002") + " is intact"), e.getMessage());
        assertEquals("step-00000002", Files.readString(checkpoints.resolve("latest")), "latest still names the previous checkpoint");
        try (Stream<Path> s = Files.list(checkpoints)) {
            assertTrue(s.noneMatch(p -> p.getFileName().toString().startsWith(".tmp-")), "no partial copy is left");
        }
    }

    @Test
    void aRunRemovesThePartialCopiesAKilledRunLeft() throws Exception {
        Path out = tmp.resolve("leftovers");
        Path partial = Files.createDirectories(out.resolve("checkpoints/.tmp-step-00000007"));
        Files.writeString(partial.resolve("trainable.safetensors"), "half");
        new Trainer(GoldenFixture.model(), config(out, 1, 0, false, 0), GoldenFixture.repeating(), TrainingListener.NONE).run();
        assertFalse(Files.exists(partial));
        assertEquals("step-00000001", Files.readString(out.resolve("checkpoints/latest")));
    }

    @Test
    void aStopRequestFinishesTheStepWritesACheckpointAndResumeContinues() throws Exception {
        Path out = tmp.resolve("stop");
        AtomicBoolean stop = new AtomicBoolean();
        TrainingListener requestAtStep2 = new TrainingListener() {
            @Override
            public void onStep(StepMetrics m) {
                if (m.step() == 2) {
                    stop.set(true);
                }
            }
        };
        TrainerState stopped = new Trainer(GoldenFixture.model(), config(out, 4, 0, false, 0), GoldenFixture.repeating(), requestAtStep2)
                .stopWhen(stop::get).run();
        assertEquals(2, stopped.step(), "the step under way finishes, no further one starts");
        assertEquals("step-00000002", Files.readString(out.resolve("checkpoints/latest")), "a checkpoint although --save-every is 0");
        LlavaModel resumed = GoldenFixture.model();
        new Trainer(resumed, config(out, 4, 0, true, 0), GoldenFixture.repeating(), TrainingListener.NONE).run();
        assertSameWeights(uninterrupted(tmp.resolve("straight"), 4), resumed);
    }

    @Test
    void saveTotalLimitKeepsTheNewestCheckpoints() throws Exception {
        Path out = tmp.resolve("keep");
        List<String> seen = new java.util.ArrayList<>();
        TrainingListener watcher = new TrainingListener() {
            @Override
            public void onCheckpoint(long step, Path dir) {
                try (Stream<Path> s = Files.list(out.resolve("checkpoints"))) {
                    seen.add(step + ":" + s.filter(p -> p.getFileName().toString().startsWith("step-")).count());
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }
        };
        new Trainer(GoldenFixture.model(), config(out, 5, 1, false, 2), GoldenFixture.repeating(), watcher).run();
        try (Stream<Path> s = Files.list(out.resolve("checkpoints"))) {
            assertEquals(List.of("step-00000004", "step-00000005"),
                    s.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("step-")).sorted().toList());
        }
        assertEquals(List.of("1:1", "2:2", "3:2", "4:2", "5:2"), seen, "never more than 2 once the newest is complete");
        assertEquals("step-00000005", Files.readString(out.resolve("checkpoints/latest")));
    }

    @Test
    void aSecondRunOnTheSameOutputIsRefusedNamingTheHolder() throws Exception {
        Path out = tmp.resolve("locked");
        try (OutputLock first = OutputLock.acquire(out, "vdep train")) {
            OutputLock.OutputLockedException e = assertThrows(OutputLock.OutputLockedException.class, () -> OutputLock.acquire(out, "vdep train"));
            assertTrue(e.getMessage().contains(out.resolve(".lock").toString()), e.getMessage());
            assertTrue(e.getMessage().contains("process " + ProcessHandle.current().pid() + " (vdep train"), e.getMessage());
        }
        OutputLock.acquire(out, "vdep train").close(); // released: the next run may start
    }

    @Test
    void theMemoryEstimateCountsWeightsGradientsAndOptimizerState() {
        LlavaConfig config = io.github.vdep.models.llava.LlavaConfig.read(GoldenFixture.MODEL_DIR.resolve("config.json"));
        LlavaModel model = GoldenFixture.model();
        long projector = ((io.github.vdep.core.nn.Module) model.projector()).parameterCount();
        MemoryEstimate pretrain = MemoryEstimate.of(config, Stage.PRETRAIN.patterns(), "adamw", 4);
        assertEquals(4 * model.parameterCount(), pretrain.weightBytes());
        assertEquals(4 * projector, pretrain.gradientBytes());
        assertEquals(8 * projector, pretrain.optimizerBytes());
        assertEquals(0, MemoryEstimate.of(config, Stage.PRETRAIN.patterns(), "sgd", 4).optimizerBytes());
        MemoryEstimate full = MemoryEstimate.of(config, Stage.FULL.patterns(), "adamw", 4);
        assertEquals(16 * model.parameterCount(), full.totalBytes());
        // a custom pattern counts the parts it can reach
        assertEquals(pretrain.gradientBytes(), MemoryEstimate.of(config, List.of("multi_modal_projector.linear_1.*"), "adamw", 4).gradientBytes());

        full.check(List.of(new MemoryLimit("roomy", full.totalBytes())));
        MemoryEstimate.InsufficientMemoryException e = assertThrows(MemoryEstimate.InsufficientMemoryException.class,
                () -> full.check(List.of(new MemoryLimit("roomy", Long.MAX_VALUE), new MemoryLimit("small device", full.totalBytes() - 1))));
        assertTrue(e.getMessage().startsWith("not enough memory for this run: it needs at least") && e.getMessage().contains("small device leaves"),
                e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
        assertFalse(MemoryLimit.host().isEmpty(), "the host's bounds are known");
    }
}
