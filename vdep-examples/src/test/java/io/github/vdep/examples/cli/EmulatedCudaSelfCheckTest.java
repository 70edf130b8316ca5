package io.github.vdep.examples.cli;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.vdep.core.backend.Backends;
import io.github.vdep.core.cuda.HostCudaApi;
import io.github.vdep.core.device.Device;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The selfcheck's model rows on the CUDA backend's Java side over a host emulation of its kernels
 * (device type "emu"): the tiny LLaVA forward and backward against PyTorch and two training steps
 * with SGD and AdamW, all through device tensors, the tape's device path, the device optimizers and
 * checkpoints saved from the device. The CUDA kernels themselves are not what this runs.
 */
class EmulatedCudaSelfCheckTest {

    @Test
    void theTinyLlavaAndTwoTrainingStepsPassOnTheEmulatedCudaBackend() throws Exception {
        Backends.register(HostCudaApi.provider("emu", 512L << 20));
        Device emu = new Device("emu", 0);
        Path dir = Files.createTempDirectory("emu-selfcheck");
        Path model = SelfCheckCommand.extract(dir, "llava-tiny", "config.json", "model.safetensors", "inputs.safetensors", "outputs.safetensors");
        Path steps = SelfCheckCommand.extract(dir, "train-steps", "expected.safetensors");
        List<SelfCheckCommand.Row> rows = new ArrayList<>(SelfCheckCommand.golden(emu, model));
        for (String optimizer : List.of("sgd", "adamw")) {
            rows.addAll(SelfCheckCommand.trainSteps(emu, model, steps.resolve("expected.safetensors"), optimizer, dir));
        }
        StringBuilder failed = new StringBuilder();
        for (SelfCheckCommand.Row r : rows) {
            if (!r.passed()) {
                failed.append(r).append('\n');
            }
        }
        assertTrue(rows.size() >= 12, rows.toString());
        assertTrue(failed.length() == 0, failed.toString());
    }
}
