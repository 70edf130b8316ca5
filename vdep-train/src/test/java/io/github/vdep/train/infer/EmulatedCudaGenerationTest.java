package io.github.vdep.train.infer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import io.github.vdep.core.backend.Backends;
import io.github.vdep.core.cuda.HostCudaApi;
import io.github.vdep.core.device.Device;
import io.github.vdep.core.llava.LlavaInputs;
import io.github.vdep.core.llava.LlavaModel;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Generation with the KV cache (token-major cache grown by concat, queries the last T of S keys)
 * through the CUDA backend's Java side over the host emulation of its kernels ("emu"): the same
 * greedy tokens as on the CPU.
 */
class EmulatedCudaGenerationTest {

    @Test
    void greedyTokensOnTheEmulatedCudaBackendMatchTheCpu() {
        Backends.register(HostCudaApi.provider("emu", 256L << 20));
        LlavaModel model = TinyLlava.model(DataType.FLOAT, 7);
        int[] ids = new int[1 + 2 + 16 + 3];
        ids[0] = 1;
        ids[1] = 10;
        ids[2] = 11;
        Arrays.fill(ids, 3, 19, TinyLlava.IMAGE_TOKEN);
        ids[19] = 12;
        ids[20] = 13;
        ids[21] = 14;
        INDArray pixels = Nd4j.rand(DataType.FLOAT, 1, 3, TinyLlava.IMAGE_SIZE, TinyLlava.IMAGE_SIZE).subi(0.5).muli(4);
        LlavaInputs prompt = new Prompt("test", ids, 3, 16, -1, -1).toInputs(pixels);
        GenerationConfig greedy = GenerationConfig.greedy(8, -1);
        int[] cpu = new Generator(model).generate(prompt, greedy).tokens();
        model.to(new Device("emu", 0));
        assertArrayEquals(cpu, new Generator(model).generate(prompt, greedy).tokens(), "with the KV cache");
        assertArrayEquals(cpu, new Generator(model).generate(prompt, greedy.withKvCache(false)).tokens(), "without the KV cache");
    }
}
