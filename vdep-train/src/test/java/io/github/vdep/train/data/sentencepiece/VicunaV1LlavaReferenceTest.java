package io.github.vdep.train.data.sentencepiece;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import com.fasterxml.jackson.databind.JsonNode;
import io.github.vdep.train.data.ConversationRecord;
import io.github.vdep.train.data.DataFiles;
import io.github.vdep.train.data.EncodedSample;
import io.github.vdep.train.data.EncodingConfig;
import io.github.vdep.train.data.SampleEncoder;
import io.github.vdep.train.data.VicunaV1Template;
import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * vicuna_v1 with a SentencePiece tokenizer gives the ids and labels of LLaVA-1.5's
 * {@code preprocess_v1} (as re-implemented in scripts/fixtures/make_sentencepiece_fixture.py),
 * with {@code legacy} true and false; LLaVA's single image id -200 stands for vdep's image run.
 */
class VicunaV1LlavaReferenceTest {

    static final int IMAGE = 999;

    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void idsAndLabelsEqualPreprocessV1(boolean legacy) throws IOException {
        SentencePieceTokenizerTest helper = new SentencePieceTokenizerTest();
        helper.tmp = java.nio.file.Files.createTempDirectory("vicuna-ref");
        Path dir = helper.withConfig("cfg", c -> c.put("legacy", legacy));
        SentencePieceTokenizer tok = SentencePieceTokenizer.load(dir);
        SampleEncoder encoder = new SampleEncoder(tok, VicunaV1Template.INSTANCE, new EncodingConfig(IMAGE, 1, 4096), null);
        JsonNode cases = SentencePieceTokenizerTest.read("conversations.json");
        int i = 0;
        for (JsonNode c : cases) {
            ConversationRecord record = DataFiles.toRecord(c.get("record"), i++);
            JsonNode expected = c.get(legacy ? "legacy_true" : "legacy_false");
            assertFalse(expected.get("llava_mismatch").asBoolean(), "LLaVA itself masks everything here");
            EncodedSample sample = encoder.encode(record);
            int[] ids = sample.inputIds().clone();
            for (int k = 0; k < ids.length; k++) {
                if (ids[k] == IMAGE) {
                    ids[k] = -200;
                }
            }
            String what = record.id() + " legacy=" + legacy;
            assertArrayEquals(SentencePieceTokenizerTest.ints(expected.get("input_ids")), ids, what + " input_ids");
            assertArrayEquals(SentencePieceTokenizerTest.ints(expected.get("labels")), sample.labels(), what + " labels");
        }
        assertEquals(4, i);
    }
}
