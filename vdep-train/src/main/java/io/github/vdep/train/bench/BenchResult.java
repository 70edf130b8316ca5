package io.github.vdep.train.bench;

import io.github.vdep.core.backend.MemoryUse;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What a {@link StepBenchmark} run measured. Times are medians over the timed steps; the
 * per-step totals are kept in {@code stepSeconds}.
 *
 * @param preset the preset's name
 * @param objective vdep or llava
 * @param stage pretrain, finetune or full
 * @param warmupSteps untimed steps run first
 * @param stepSeconds wall time of each timed step
 * @param medianStepSeconds the median of {@code stepSeconds}
 * @param medianStepCpuSeconds the median process CPU time (all threads) of a step: less sensitive than wall time to other load on the machine
 * @param tokensPerSecond positions (batch x sequence, image positions included) per second at the median step time
 * @param flops the analytic matmul FLOPs of one step
 * @param achievedGflops flops / median step time
 * @param matmulGflops float32 gemm rate measured in the same process ({@code matmulSize}^3)
 * @param mfu achievedGflops / matmulGflops
 * @param phases median time of each phase
 * @param peakRssBytes the process's peak resident set size (VmHWM), or -1 where unknown
 * @param parameters all parameters
 * @param trainableParameters those that train in this stage
 * @param firstLoss the loss of the first timed step
 * @param lastLoss the loss of the last timed step
 * @param environment threads, BLAS, JVM
 * @param precision fp32 or bf16
 * @param stepMemory the device's memory with its peak over the timed steps only ({@code Backend.memoryUse()}:
 *     the process's resident set size on the CPU, the caching allocator's bytes on CUDA)
 * @param recompute the activation recomputation the steps ran with ({@code none} or {@code layers})
 * @param lmHeadChunkRows rows per chunk of the LM head and cross-entropy (0 = unchunked)
 */
public record BenchResult(String preset, String objective, String stage, int warmupSteps, double[] stepSeconds, double medianStepSeconds, double medianStepCpuSeconds,
        double tokensPerSecond, FlopCount flops, double achievedGflops, double matmulGflops, int matmulSize, double mfu, Phases phases,
        long peakRssBytes, long parameters, long trainableParameters, double firstLoss, double lastLoss, Map<String, String> environment,
        String precision, MemoryUse stepMemory, String recompute, int lmHeadChunkRows) {

    /**
     * Median seconds of each phase of a step.
     *
     * @param vision the vision tower's forward
     * @param llmForward projector, embedding splice, LLM forward, LM head and loss
     * @param backward {@code Tape.backward}
     * @param optimizer gradient clipping, AdamW and dropping the gradients
     */
    public record Phases(double vision, double llmForward, double backward, double optimizer) {
    }

    /** The result as an ordered map with the same keys as the PyTorch peer's JSON. */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("impl", "java");
        m.put("preset", preset);
        m.put("mode", objective);
        m.put("stage", stage);
        m.put("precision", precision);
        m.put("warmup_steps", warmupSteps);
        m.put("steps", stepSeconds.length);
        m.put("median_step_s", medianStepSeconds);
        m.put("median_step_cpu_s", medianStepCpuSeconds);
        m.put("step_s", stepSeconds);
        m.put("tokens_per_s", tokensPerSecond);
        m.put("flops_per_step", flops.total());
        Map<String, Object> f = new LinkedHashMap<>();
        f.put("vision_forward", flops.visionForward());
        f.put("projector_forward", flops.projectorForward());
        f.put("llm_forward", flops.llmForward());
        f.put("backward", flops.backward());
        m.put("flops", f);
        m.put("achieved_gflops", achievedGflops);
        m.put("matmul_gflops", matmulGflops);
        m.put("matmul_size", matmulSize);
        m.put("mfu", mfu);
        Map<String, Object> ph = new LinkedHashMap<>();
        ph.put("vision", phases.vision());
        ph.put("llm_forward", phases.llmForward());
        ph.put("backward", phases.backward());
        ph.put("optimizer", phases.optimizer());
        m.put("phases_s", ph);
        m.put("peak_rss_mb", peakRssBytes < 0 ? -1.0 : peakRssBytes / (1024.0 * 1024.0));
        m.put("peak_memory_mb", stepMemory.peakBytes() < 0 ? -1.0 : stepMemory.peakBytes() / (1024.0 * 1024.0));
        m.put("memory_measure", stepMemory.measure());
        m.put("recompute", recompute);
        m.put("lm_head_chunk", lmHeadChunkRows);
        m.put("parameters", parameters);
        m.put("trainable_parameters", trainableParameters);
        m.put("first_loss", firstLoss);
        m.put("last_loss", lastLoss);
        m.put("environment", new LinkedHashMap<>(environment));
        return m;
    }
}
