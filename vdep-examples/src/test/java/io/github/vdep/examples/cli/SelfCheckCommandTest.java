package io.github.vdep.examples.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.vdep.core.cuda.CudaRuntime;
import io.github.vdep.core.device.Device;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@code vdep selfcheck}: on the CPU every row passes (native kernels against ND4J, the tiny
 * LLaVA and two training steps against PyTorch, train + resume); asking for CUDA where it cannot
 * be used is refused with one line.
 */
class SelfCheckCommandTest {

    private static Object[] run(String... args) {
        return CapturedRun.of(args).asArray();
    }

    @Test
    void everyCheckPassesOnTheCpuAndTheTableSaysSo() {
        Object[] r = run("selfcheck", "--device", "cpu");
        String out = (String) r[1];
        assertEquals(0, r[0], out + r[2]);
        assertTrue(out.contains("checks on cpu: all passed"), out);
        for (String row : List.of("attention token-major causal key-mask GQA", "crossEntropy ignore-index", "adamW 3 steps", "forward logits",
                "VDEP loss gradients (80 parameters)", "weights after 2 steps (25 parameters", "train 6 steps = 3 steps + --resume to 6")) {
            assertTrue(out.contains(row), "the table lacks " + row + ":\n" + out);
        }
        assertTrue(!out.contains("FAIL"), out);
    }

    @Test
    void theGoldenChecksFailWhenTheModelIsWrong() throws Exception {
        java.nio.file.Path dir = java.nio.file.Files.createTempDirectory("selfcheck-test");
        java.nio.file.Path model = SelfCheckCommand.extract(dir, "llava-tiny", "config.json", "model.safetensors", "inputs.safetensors",
                "outputs.safetensors");
        // a checkpoint whose config says a different norm epsilon: close, but not the reference model
        java.nio.file.Path config = model.resolve("config.json");
        String json = java.nio.file.Files.readString(config);
        assertTrue(json.contains("\"rms_norm_eps\""), json);
        java.nio.file.Files.writeString(config, json.replaceAll("\"rms_norm_eps\": *[0-9.e-]+", "\"rms_norm_eps\": 0.1"));
        List<SelfCheckCommand.Row> rows = SelfCheckCommand.golden(Device.CPU, model);
        assertTrue(rows.stream().anyMatch(x -> !x.passed()), rows.toString());
    }

    @Test
    void cudaWhereItCannotBeUsedIsOneLineAndExitCode2() {
        org.junit.jupiter.api.Assumptions.assumeFalse(CudaRuntime.available(), "this machine has a usable GPU");
        Object[] r = run("selfcheck", "--device", "cuda");
        assertEquals(2, r[0]);
        List<String> lines = ((String) r[2]).lines().filter(l -> !l.matches("^\\d\\d:\\d\\d:\\d\\d.*")).toList();
        assertEquals(List.of("vdep selfcheck: error: cuda:0: not available: " + CudaRuntime.unavailableReason()), lines);
    }
}
