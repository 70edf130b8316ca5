package io.github.vdep.examples.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.vdep.core.llava.Recompute;
import io.github.vdep.train.bench.BenchPreset;
import io.github.vdep.train.bench.BenchResult;
import io.github.vdep.train.bench.Objective;
import io.github.vdep.train.bench.StepBenchmark;
import io.github.vdep.train.trainer.Stage;
import java.io.PrintStream;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code vdep bench}: times training steps of a randomly initialised model on synthetic batches. */
@Command(name = "bench", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Time optimizer steps of a randomly initialised LLaVA model on synthetic batches.",
                "Threads follow OMP_NUM_THREADS and OPENBLAS_NUM_THREADS (default: all cores). The PyTorch peer is bench/torch_bench.py;"
                        + " bench/compare.sh runs both back to back (docs/performance.md)."})
public final class BenchCommand implements Callable<Integer> {
    @Option(names = "--preset", defaultValue = "tiny",
            description = "tiny, small, base (TinyLLaVA-like, 1.4B) or llava-7b (LLaVA-1.5-7B); random weights (default ${DEFAULT-VALUE})")
    String preset;
    @Option(names = "--batch-size", description = "samples per step (default: the preset's: tiny 8, small 4, base 4, llava-7b 1)")
    Integer batchSize;
    @Option(names = "--mode", defaultValue = "vdep", description = "vdep or llava (default ${DEFAULT-VALUE})")
    String mode;
    @Option(names = "--stage", defaultValue = "finetune", description = "pretrain or finetune (default ${DEFAULT-VALUE})")
    String stage;
    @Option(names = "--steps", defaultValue = "10", description = "timed steps (default ${DEFAULT-VALUE})")
    int steps;
    @Option(names = "--warmup", defaultValue = "15",
            description = "untimed warm-up steps first (default ${DEFAULT-VALUE}: the JIT compiles the hot Java code over about the first 15 steps)")
    int warmup;
    @Option(names = "--seed", defaultValue = "0", description = "model and batch seed (default ${DEFAULT-VALUE})")
    long seed;
    @Option(names = "--matmul-size", defaultValue = "1024", description = "n of the n x n float32 gemm timed for the matmul rate; 0 skips (default ${DEFAULT-VALUE})")
    int matmulSize;
    @Option(names = "--recompute", defaultValue = "none", description = "none or layers, as train --recompute (default ${DEFAULT-VALUE})")
    String recompute;

    @Option(names = "--lm-head-chunk", defaultValue = "1024", description = "rows per chunk of the LM head and cross-entropy, as train --lm-head-chunk; 0 = unchunked (default ${DEFAULT-VALUE})")
    int lmHeadChunk;

    @Option(names = "--json", description = "print the result as one JSON object")
    boolean json;

    @Mixin
    DeviceOption device;

    @Mixin
    PrecisionOption precision;

    @Override
    public Integer call() throws Exception {
        device.device(); // checked before anything else
        Stage s = Stage.parse(stage);
        if (s == Stage.FULL) {
            throw new IllegalArgumentException("--stage: pretrain or finetune");
        }
        BenchPreset shape = BenchPreset.named(preset);
        if (batchSize != null) {
            shape = shape.withBatch(batchSize);
        }
        StepBenchmark.Options options = new StepBenchmark.Options(shape, Objective.parse(mode), s, warmup, steps, seed, matmulSize,
                device.device(), precision.precision(device.device()), Recompute.parse(recompute), lmHeadChunk);
        BenchResult r = StepBenchmark.run(options);
        PrintStream out = System.out;
        if (json) {
            out.println(new ObjectMapper().writeValueAsString(r.toMap()));
        } else {
            print(r, out);
        }
        return 0;
    }

    static void print(BenchResult r, PrintStream out) {
        BenchResult.Phases ph = r.phases();
        out.printf(Locale.ROOT, "java %s %s %s %s: %d steps after %d warm-up%n", r.preset(), r.objective(), r.stage(), r.precision(),
                r.stepSeconds().length, r.warmupSteps());
        out.printf(Locale.ROOT, "  median step      %10.1f ms (CPU %.1f ms)%n", r.medianStepSeconds() * 1e3, r.medianStepCpuSeconds() * 1e3);
        out.printf(Locale.ROOT, "  tokens/s         %10.0f%n", r.tokensPerSecond());
        out.printf(Locale.ROOT, "  FLOPs/step       %10.2f GFLOP (matmuls: vision %.2f, projector %.2f, LLM %.2f, backward %.2f)%n",
                r.flops().total() / 1e9, r.flops().visionForward() / 1e9, r.flops().projectorForward() / 1e9, r.flops().llmForward() / 1e9,
                r.flops().backward() / 1e9);
        out.printf(Locale.ROOT, "  achieved         %10.2f GFLOP/s%n", r.achievedGflops());
        out.printf(Locale.ROOT, "  matmul rate      %10.2f GFLOP/s (%d^3 fp32 gemm)%n", r.matmulGflops(), r.matmulSize());
        out.printf(Locale.ROOT, "  MFU              %10.1f %%%n", r.mfu() * 100);
        out.printf(Locale.ROOT, "  phases (ms)      vision %.1f, llm forward %.1f, backward %.1f, optimizer %.1f%n",
                ph.vision() * 1e3, ph.llmForward() * 1e3, ph.backward() * 1e3, ph.optimizer() * 1e3);
        out.printf(Locale.ROOT, "  peak RSS         %10.1f MiB (the process's, since it started)%n", r.peakRssBytes() / (1024.0 * 1024.0));
        out.printf(Locale.ROOT, "  peak memory      %10.1f MiB over the timed steps (%s; --recompute %s, --lm-head-chunk %d)%n",
                r.stepMemory().peakBytes() / (1024.0 * 1024.0), r.stepMemory().measure(), r.recompute(), r.lmHeadChunkRows());
        out.printf(Locale.ROOT, "  parameters       %d (%d trainable), loss %.4f -> %.4f%n", r.parameters(), r.trainableParameters(), r.firstLoss(), r.lastLoss());
        out.printf(Locale.ROOT, "  environment      %s%n", r.environment());
    }
}
