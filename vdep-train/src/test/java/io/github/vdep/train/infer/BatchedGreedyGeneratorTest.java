package io.github.vdep.train.infer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.vdep.core.llava.LlavaModel;
import io.github.vdep.models.llama.LlamaForCausalLM;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Left-padded batched greedy decoding gives each prompt the tokens {@link Generator} gives it alone. */
class BatchedGreedyGeneratorTest {

    @ParameterizedTest
    @EnumSource(value = DataType.class, names = {"DOUBLE", "FLOAT"})
    void batchedTokensEqualOneAtATime(DataType dtype) {
        LlavaModel model = TinyLlava.model(dtype, 7);
        // a larger init than HF's 0.02 so that the answers depend on the prompt and the image
        ((LlamaForCausalLM) model.languageModel()).initialize(11, 0.5);
        SplittableRandom rng = new SplittableRandom(3);
        List<Prompt> prompts = new ArrayList<>();
        List<INDArray> pixels = new ArrayList<>();
        int[] lengths = {4, 30, 9, 22, 5, 26};
        for (int p = 0; p < lengths.length; p++) {
            boolean image = p % 3 != 2;
            int n = lengths[p] + (image ? 16 : 0);
            int[] ids = new int[n];
            ids[0] = 1;
            for (int i = 1; i < n; i++) {
                ids[i] = 5 + rng.nextInt(90);
            }
            if (image) {
                Arrays.fill(ids, 2, 18, TinyLlava.IMAGE_TOKEN);
            }
            prompts.add(new Prompt("p" + p, ids, image ? 2 : -1, image ? 16 : 0, -1, -1));
            pixels.add(image ? Nd4j.rand(dtype, 1, 3, TinyLlava.IMAGE_SIZE, TinyLlava.IMAGE_SIZE).subi(0.5).muli(4) : null);
        }
        int eos = 2;
        Generator single = new Generator(model);
        List<int[]> expected = new ArrayList<>();
        Set<String> distinct = new HashSet<>();
        for (int p = 0; p < prompts.size(); p++) {
            int[] t = single.generate(prompts.get(p).toInputs(pixels.get(p)), GenerationConfig.greedy(7, eos)).tokens();
            expected.add(t);
            distinct.add(Arrays.toString(t));
        }
        assertTrue(distinct.size() >= 4, "the prompts get different answers, so equality means something: " + distinct);
        List<int[]> batched = new BatchedGreedyGenerator(model).generate(prompts, pixels, 7, eos);
        for (int p = 0; p < prompts.size(); p++) {
            assertArrayEquals(expected.get(p), batched.get(p), "prompt " + p + " (length " + prompts.get(p).length() + ")");
        }
    }

    @Test
    void aBatchThatDoesNotFitTheContextIsRefused() {
        LlavaModel model = TinyLlava.model(DataType.FLOAT, 7);
        int[] ids = new int[250];
        ids[0] = 1;
        Arrays.fill(ids, 1, 250, 9);
        Prompt p = new Prompt("long", ids, -1, 0, -1, -1);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new BatchedGreedyGenerator(model).generate(List.of(p, p), Arrays.asList(null, null), 10, 2));
        assertTrue(e.getMessage().contains("context of 256"), e.getMessage());
    }
}
