package io.github.vdep.train.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.vdep.core.autograd.Tape;
import io.github.vdep.core.llava.LlavaInputs;
import io.github.vdep.core.llava.LlavaOutput;
import io.github.vdep.core.nn.Module;
import io.github.vdep.train.loss.BatchMode;
import io.github.vdep.train.loss.HybridLoss;
import io.github.vdep.train.loss.ImageLossConfig;
import io.github.vdep.train.trainer.Stage;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The benchmark on a scaled-down preset: it runs, its fields are sane, its step is a Trainer step. No timing assertions. */
class StepBenchmarkTest {
    /** 16x16 images, 4 patches; 8 positions (BOS, 4 image, 3 text); batch 2. */
    static final BenchPreset MICRO = new BenchPreset("micro", 16, 8, 16, 2, 2, 32, 16, 2, 4, 2, 32, 64, 2, 8);

    @Test
    void runsAFewStepsAndReportsSaneFields() {
        for (Objective objective : Objective.values()) {
            for (Stage stage : new Stage[] {Stage.PRETRAIN, Stage.FINETUNE}) {
                BenchResult r = StepBenchmark.run(new StepBenchmark.Options(MICRO, objective, stage, 1, 2, 7, 64));
                String what = objective + " " + stage;
                assertEquals("micro", r.preset());
                assertEquals(objective.label(), r.objective());
                assertEquals(stage.name().toLowerCase(), r.stage());
                assertEquals(2, r.stepSeconds().length, what);
                for (double s : r.stepSeconds()) {
                    assertTrue(s > 0, what);
                }
                assertTrue(r.medianStepSeconds() > 0, what);
                assertEquals(MICRO.tokensPerStep() / r.medianStepSeconds(), r.tokensPerSecond(), 1e-6 * r.tokensPerSecond(), what);
                assertEquals(FlopCount.of(MICRO, stage), r.flops(), what);
                assertEquals(r.flops().total() / r.medianStepSeconds() / 1e9, r.achievedGflops(), 1e-9 * r.achievedGflops(), what);
                assertTrue(r.matmulGflops() > 0 && Double.isFinite(r.matmulGflops()), what);
                assertEquals(r.achievedGflops() / r.matmulGflops(), r.mfu(), 1e-12, what);
                BenchResult.Phases ph = r.phases();
                assertTrue(ph.vision() >= 0 && ph.llmForward() > 0 && ph.backward() > 0 && ph.optimizer() >= 0, what);
                assertTrue(ph.vision() + ph.llmForward() + ph.backward() + ph.optimizer() <= 1.5 * r.stepSeconds()[0] + 1.5 * r.stepSeconds()[1], what);
                if (System.getProperty("os.name").startsWith("Linux")) {
                    assertTrue(r.peakRssBytes() > 0, what);
                    // the timed steps' peak: the process's resident memory, at most its lifetime peak
                    assertEquals(io.github.vdep.core.backend.MemoryUse.PROCESS_RSS, r.stepMemory().measure(), what);
                    assertTrue(r.stepMemory().peakBytes() >= 32L << 20 && r.stepMemory().peakBytes() <= r.peakRssBytes(),
                            what + ": step peak " + r.stepMemory().peakBytes() + ", process peak " + r.peakRssBytes());
                    assertTrue(r.stepMemory().currentBytes() > 0 && r.stepMemory().currentBytes() <= r.stepMemory().peakBytes(), what);
                }
                assertTrue(Double.isFinite(r.firstLoss()) && Double.isFinite(r.lastLoss()) && r.firstLoss() > 0, what);
                assertTrue(r.trainableParameters() > 0 && r.trainableParameters() < r.parameters(), what);
                Map<String, Object> m = r.toMap();
                assertEquals(r.flops().total(), m.get("flops_per_step"));
                assertTrue(m.keySet().containsAll(java.util.List.of("median_step_s", "tokens_per_s", "achieved_gflops", "matmul_gflops", "mfu",
                        "phases_s", "peak_rss_mb", "peak_memory_mb", "memory_measure", "recompute", "lm_head_chunk", "environment")));
            }
        }
    }

    @Test
    void recomputationAndChunkingKeepTheLoss() {
        double plain = StepBenchmark.run(new StepBenchmark.Options(MICRO, Objective.VDEP, Stage.FINETUNE, 0, 2, 7, 0)).lastLoss();
        BenchResult r = StepBenchmark.run(new StepBenchmark.Options(MICRO, Objective.VDEP, Stage.FINETUNE, 0, 2, 7, 0,
                io.github.vdep.core.device.Device.CPU, io.github.vdep.core.device.Precision.FP32, io.github.vdep.core.llava.Recompute.LAYERS, 0));
        assertEquals("layers", r.recompute());
        assertEquals("layers", r.toMap().get("recompute"));
        // two steps apart, recomputation changes no bit; the head is one chunk either way at this size
        assertEquals(plain, r.lastLoss(), 0.0);
    }

    @Test
    void trainableSetsFollowTheStage() {
        StepBenchmark pre = new StepBenchmark(new StepBenchmark.Options(MICRO, Objective.VDEP, Stage.PRETRAIN, 0, 1, 1, 0));
        long projector = count(pre.model().children().get("multi_modal_projector"));
        assertEquals(projector, pre.model().trainableParameterCount());
        StepBenchmark fine = new StepBenchmark(new StepBenchmark.Options(MICRO, Objective.VDEP, Stage.FINETUNE, 0, 1, 1, 0));
        long lm = count(fine.model().children().get("language_model"));
        assertEquals(projector + lm, fine.model().trainableParameterCount());
    }

    /** The benchmark's piecewise forward computes exactly what LlavaModel.forward + HybridLoss compute. */
    @Test
    void stepLossMatchesTheModelForward() {
        for (Objective objective : Objective.values()) {
            StepBenchmark b = new StepBenchmark(new StepBenchmark.Options(MICRO, objective, Stage.FINETUNE, 0, 1, 3, 0));
            StepBenchmark.SyntheticBatch batch = b.batches().get(0);
            BatchMode mode = objective == Objective.VDEP ? BatchMode.vdep(MICRO.batch()) : BatchMode.llava(MICRO.batch());
            HybridLoss loss = new HybridLoss(ImageLossConfig.DEFAULT);
            double expected;
            try (Tape tape = Tape.record()) {
                LlavaOutput out = b.model().forward(new LlavaInputs(batch.inputIds(), batch.attentionMask(), batch.pixels()), loss.decodeOptions(), true);
                expected = loss.compute(out, batch.labels(), batch.imageSample(), mode, 1.0).total().item();
            }
            double got = b.step(batch, null);
            assertEquals(expected, got, 0.0, objective.toString());
        }
    }

    @Test
    void pretrainCountsFewerFlopsThanFinetune() {
        for (BenchPreset p : new BenchPreset[] {BenchPreset.TINY, BenchPreset.SMALL, MICRO}) {
            FlopCount pre = FlopCount.of(p, Stage.PRETRAIN);
            FlopCount fine = FlopCount.of(p, Stage.FINETUNE);
            assertEquals(pre.forward(), fine.forward());
            assertTrue(pre.backward() < fine.backward());
        }
        // the same numbers bench/torch_bench.py's flop_count gives
        assertEquals(16561745920L, FlopCount.of(BenchPreset.TINY, Stage.PRETRAIN).total());
        assertEquals(23557844992L, FlopCount.of(BenchPreset.TINY, Stage.FINETUNE).total());
        assertEquals(250722367488L, FlopCount.of(BenchPreset.SMALL, Stage.PRETRAIN).total());
        assertEquals(356771149824L, FlopCount.of(BenchPreset.SMALL, Stage.FINETUNE).total());
    }

    @Test
    void presetsHaveTheIssuesShapes() {
        BenchPreset t = BenchPreset.named("tiny");
        assertEquals(64, t.numPatches());
        assertEquals(63, t.textLength());
        assertEquals(128, t.seqLen());
        BenchPreset s = BenchPreset.named("small");
        assertEquals(196, s.numPatches());
        assertEquals(59, s.textLength());
        assertEquals(256, s.seqLen());
        assertThrows(IllegalArgumentException.class, () -> BenchPreset.named("huge"));
    }

    private static long count(Module m) {
        return m.parameterCount();
    }
}
