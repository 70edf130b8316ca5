package io.github.vdep.train.infer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.vdep.train.data.HfTokenizer;
import io.github.vdep.train.data.Templates;
import io.github.vdep.train.data.VicunaV1Template;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Generation prompts: template layout, image expansion and the question's token positions. */
class PromptBuilderTest {
    @TempDir
    static Path dir;
    private static HfTokenizer tokenizer;

    @BeforeAll
    static void load() {
        tokenizer = TinyLlava.tokenizer(dir);
    }

    @AfterAll
    static void close() {
        tokenizer.close();
    }

    @Test
    void vicunaPromptEndsWithTheAssistantRole() {
        PromptBuilder b = new PromptBuilder(tokenizer, Templates.byName("vicuna_v1"), TinyLlava.encoding());
        Prompt p = b.build("  What is in the image?  ", true);
        assertEquals(VicunaV1Template.SYSTEM + " USER: <image>\nWhat is in the image? ASSISTANT:", p.text());
        int[] ids = p.inputIds();
        assertEquals(tokenizer.bosId(), ids[0]);
        int[] system = tokenizer.encode(VicunaV1Template.SYSTEM + " USER: ");
        assertArrayEquals(system, Arrays.copyOfRange(ids, 1, 1 + system.length));
        assertEquals(1 + system.length, p.imageStart());
        assertEquals(16, p.numImageTokens());
        for (int i = 0; i < 16; i++) {
            assertEquals(TinyLlava.IMAGE_TOKEN, ids[p.imageStart() + i]);
        }
        int[] rest = tokenizer.encode("\nWhat is in the image? ASSISTANT:");
        assertArrayEquals(rest, Arrays.copyOfRange(ids, p.imageStart() + 16, ids.length));
        // the question's tokens: "What is in the image ?" (5 words and the question mark)
        assertTrue(p.hasQuestion());
        assertArrayEquals(tokenizer.encode("What is in the image?"), Arrays.copyOfRange(ids, p.questionStart(), p.questionEnd()));
        assertEquals("\n", tokenizer.decode(new int[] {ids[p.questionStart() - 1]}));
    }

    @Test
    void imagePlaceholderInTheQuestionIsIgnored() {
        PromptBuilder b = new PromptBuilder(tokenizer, Templates.byName("vicuna_v1"), TinyLlava.encoding());
        assertEquals(b.build("What is in the image?", true), b.build("<image>\nWhat is in the image?", true));
    }

    @Test
    void textOnlyPromptHasNoImage() {
        PromptBuilder b = new PromptBuilder(tokenizer, Templates.byName("vicuna_v1"), TinyLlava.encoding());
        Prompt p = b.build("is the sky blue?", false);
        assertFalse(p.hasImage());
        assertEquals(VicunaV1Template.SYSTEM + " USER: is the sky blue? ASSISTANT:", p.text());
        assertThrows(IllegalArgumentException.class, () -> p.toInputs(org.nd4j.linalg.factory.Nd4j.zeros(1, 3, 56, 56)));
        assertEquals(p.length(), p.toInputs(null).length());
    }

    @Test
    void plainPromptIsTheImageAlone() {
        PromptBuilder b = new PromptBuilder(tokenizer, Templates.byName("plain"), TinyLlava.encoding());
        Prompt p = b.build("ignored question", true);
        assertEquals("<image>", p.text());
        assertEquals(17, p.length());
        assertEquals(tokenizer.bosId(), p.inputIds()[0]);
        assertEquals(1, p.imageStart());
        assertFalse(p.hasQuestion());
        assertThrows(IllegalArgumentException.class, () -> b.build("q", false));
    }
}
