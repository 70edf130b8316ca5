package io.github.vdep.train.infer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.vdep.core.autograd.Tape;
import io.github.vdep.core.llava.LlavaInputs;
import io.github.vdep.core.llava.LlavaModel;
import io.github.vdep.models.llava.LlavaModels;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/** KV-cache decoding against full recomputation, sampling reproducibility and stopping rules. */
class GeneratorTest {
    private static LlavaModel model;
    private static LlavaInputs prompt;

    @BeforeAll
    static void setUp() {
        model = TinyLlava.model(DataType.DOUBLE, 7);
        // BOS, two words, 16 image tokens, three words
        int[] ids = new int[1 + 2 + 16 + 3];
        ids[0] = 1;
        ids[1] = 10;
        ids[2] = 11;
        Arrays.fill(ids, 3, 19, TinyLlava.IMAGE_TOKEN);
        ids[19] = 12;
        ids[20] = 13;
        ids[21] = 14;
        INDArray pixels = Nd4j.rand(DataType.DOUBLE, 1, 3, TinyLlava.IMAGE_SIZE, TinyLlava.IMAGE_SIZE).subi(0.5).muli(4);
        prompt = new Prompt("test", ids, 3, 16, -1, -1).toInputs(pixels);
    }

    /** The slowest possible reference: LlavaModel.forward over the full ids (image re-encoded) per step. */
    private static int[] referenceGreedy(int steps) {
        long[] ids = prompt.inputIds().toLongVector();
        List<Long> seq = new ArrayList<>();
        for (long id : ids) {
            seq.add(id);
        }
        int[] out = new int[steps];
        for (int s = 0; s < steps; s++) {
            long[][] a = {seq.stream().mapToLong(Long::longValue).toArray()};
            INDArray logits = model.forward(new LlavaInputs(Nd4j.createFromArray(a), null, prompt.pixelValues())).logits().value();
            INDArray last = logits.get(NDArrayIndex.point(0), NDArrayIndex.point(seq.size() - 1), NDArrayIndex.all());
            out[s] = TokenSampler.argmax(last.toDoubleVector());
            seq.add((long) out[s]);
        }
        return out;
    }

    @Test
    void kvCacheDecodingGivesTheSameTokensAsFullRecomputation() {
        GenerationConfig greedy = GenerationConfig.greedy(12, -1);
        GenerationResult cached = new Generator(model).generate(prompt, greedy);
        GenerationResult full = new Generator(model).generate(prompt, greedy.withKvCache(false));
        assertEquals(12, cached.tokens().length);
        assertEquals(GenerationResult.StopReason.MAX_NEW_TOKENS, cached.stopReason());
        assertArrayEquals(full.tokens(), cached.tokens());
        assertArrayEquals(referenceGreedy(12), cached.tokens());
        // the same holds for sampling, which sees the same logits
        GenerationConfig sampling = GenerationConfig.topP(12, 0.9, 1.5, 3, -1);
        assertArrayEquals(new Generator(model).generate(prompt, sampling.withKvCache(false)).tokens(),
                new Generator(model).generate(prompt, sampling).tokens());
    }

    @Test
    void kvCacheMatchesInFloat32Too() {
        LlavaModel f = TinyLlava.model(DataType.FLOAT, 7);
        LlavaInputs p = new LlavaInputs(prompt.inputIds(), null, prompt.pixelValues().castTo(DataType.FLOAT));
        GenerationConfig greedy = GenerationConfig.greedy(8, -1);
        assertArrayEquals(new Generator(f).generate(p, greedy.withKvCache(false)).tokens(), new Generator(f).generate(p, greedy).tokens());
    }

    @Test
    void topPWithTheSameSeedIsReproducible() {
        GenerationConfig a = GenerationConfig.topP(20, 0.95, 2.0, 42, -1);
        int[] first = new Generator(model).generate(prompt, a).tokens();
        int[] again = new Generator(model).generate(prompt, a).tokens();
        assertArrayEquals(first, again);
        int[] other = new Generator(model).generate(prompt, GenerationConfig.topP(20, 0.95, 2.0, 43, -1)).tokens();
        assertFalse(Arrays.equals(first, other), "another seed should give another sample");
    }

    @Test
    void topPTowardsZeroIsGreedy() {
        int[] greedy = new Generator(model).generate(prompt, GenerationConfig.greedy(10, -1)).tokens();
        for (long seed = 0; seed < 3; seed++) {
            assertArrayEquals(greedy, new Generator(model).generate(prompt, GenerationConfig.topP(10, 1e-9, 1.0, seed, -1)).tokens());
        }
    }

    @Test
    void stopsAtEosWithoutReturningIt() {
        int[] greedy = new Generator(model).generate(prompt, GenerationConfig.greedy(6, -1)).tokens();
        GenerationResult r = new Generator(model).generate(prompt, GenerationConfig.greedy(6, greedy[3]));
        int firstEos = 0;
        while (greedy[firstEos] != greedy[3]) {
            firstEos++;
        }
        assertEquals(GenerationResult.StopReason.EOS, r.stopReason());
        assertArrayEquals(Arrays.copyOf(greedy, firstEos), r.tokens());
    }

    @Test
    void streamsTokensAsTheyAreChosen() {
        List<Integer> streamed = new ArrayList<>();
        GenerationResult r = new Generator(model).generate(prompt, GenerationConfig.greedy(5, -1), streamed::add);
        assertArrayEquals(r.tokens(), streamed.stream().mapToInt(Integer::intValue).toArray());
    }

    @Test
    void stopsWhenTheContextIsFull() {
        LlavaModel small = LlavaModels.random(TinyLlava.config(prompt.length() + 3), DataType.DOUBLE, 7);
        GenerationResult r = new Generator(small).generate(prompt, GenerationConfig.greedy(10, -1));
        assertEquals(GenerationResult.StopReason.CONTEXT_FULL, r.stopReason());
        assertEquals(3, r.tokens().length);
        LlavaModel tooSmall = LlavaModels.random(TinyLlava.config(prompt.length()), DataType.DOUBLE, 7);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new Generator(tooSmall).generate(prompt, GenerationConfig.greedy(10, -1)));
        assertTrue(e.getMessage().contains("context"), e.getMessage());
    }

    @Test
    void recordsNothingUnderAnActiveTape() {
        try (Tape tape = Tape.record()) {
            new Generator(model).generate(prompt, GenerationConfig.greedy(3, -1));
            assertEquals(0, tape.size());
            assertTrue(Tape.active() == tape, "the tape is restored");
        }
    }

    @Test
    void rejectsBatchesAndBadSettings() {
        INDArray two = Nd4j.concat(0, prompt.inputIds(), prompt.inputIds());
        INDArray pixels = Nd4j.concat(0, prompt.pixelValues(), prompt.pixelValues());
        assertThrows(IllegalArgumentException.class,
                () -> new Generator(model).generate(new LlavaInputs(two, null, pixels), GenerationConfig.greedy(3, -1)));
        assertThrows(IllegalArgumentException.class, () -> GenerationConfig.topP(3, 0, 1, 0, -1));
        assertThrows(IllegalArgumentException.class, () -> GenerationConfig.topP(3, 0.5, 0, 0, -1));
        assertThrows(IllegalArgumentException.class, () -> GenerationConfig.greedy(0, -1));
    }

    @Test
    void samplerKeepsOnlyTheNucleus() {
        double[] logits = {Math.log(0.5), Math.log(0.3), Math.log(0.15), Math.log(0.05)};
        SplittableRandom rng = new SplittableRandom(1);
        int[] counts = new int[4];
        for (int i = 0; i < 4000; i++) {
            counts[TokenSampler.sampleTopP(logits, 0.7, 1.0, rng)]++;
        }
        assertEquals(0, counts[2] + counts[3], Arrays.toString(counts));
        assertEquals(0.5 / 0.8, counts[0] / 4000.0, 0.03);
        // p = 1 keeps everything; argmax takes the first of equal maxima
        int[] all = new int[4];
        for (int i = 0; i < 4000; i++) {
            all[TokenSampler.sampleTopP(logits, 1.0, 1.0, rng)]++;
        }
        assertTrue(all[3] > 100, Arrays.toString(all));
        assertEquals(1, TokenSampler.argmax(new double[] {0, 2, 2, 1}));
    }
}
