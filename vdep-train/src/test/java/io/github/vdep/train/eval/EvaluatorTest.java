package io.github.vdep.train.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.vdep.core.llava.LlavaModel;
import io.github.vdep.train.benchmark.EvalAiAnswerProcessor;
import io.github.vdep.train.data.ConversationRecord;
import io.github.vdep.train.data.DataFiles;
import io.github.vdep.train.data.HfTokenizer;
import io.github.vdep.train.data.Templates;
import io.github.vdep.train.infer.Answers;
import io.github.vdep.train.infer.GenerationConfig;
import io.github.vdep.train.infer.Generator;
import io.github.vdep.train.infer.ImageInput;
import io.github.vdep.train.infer.Prompt;
import io.github.vdep.train.infer.PromptBuilder;
import io.github.vdep.train.infer.TinyLlava;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;

/** End to end on a tiny model: predictions, skipped records, teacher-forced statistics. */
class EvaluatorTest {
    @TempDir
    Path dir;

    @Test
    void evaluatesQuestionAnswerData() throws Exception {
        Path images = Files.createDirectories(dir.resolve("images"));
        TinyLlava.image(images.resolve("a.png"), 40, 30, 1);
        TinyLlava.image(images.resolve("b.png"), 30, 50, 2);
        Path data = dir.resolve("qa.json");
        Files.writeString(data, """
                [
                 {"id": "q1", "image": "a.png", "conversations": [{"from": "human", "value": "<image>\\nwhat is in the image?"}, {"from": "gpt", "value": "a red cat"}]},
                 {"id": "q2", "image": "b.png", "conversations": [{"from": "human", "value": "describe it <image>"}, {"from": "gpt", "value": "blue sky"},
                                                                 {"from": "human", "value": "is it a dog?"}, {"from": "gpt", "value": "no"}]},
                 {"id": "q3", "conversations": [{"from": "human", "value": "is the sky blue?"}, {"from": "gpt", "value": "yes"}]},
                 {"id": "q4", "image": "missing.png", "conversations": [{"from": "human", "value": "<image>\\nwhat?"}, {"from": "gpt", "value": "cat"}]},
                 {"id": "q5", "conversations": "not a list"},
                 {"id": "q6", "image": "a.png", "conversations": [{"from": "human", "value": "<image>\\ntwo?"}, {"from": "gpt", "value": "2"}]}
                ]
                """);
        List<ConversationRecord> records = DataFiles.read(data);
        LlavaModel model = TinyLlava.model(DataType.FLOAT, 5);
        try (HfTokenizer tokenizer = TinyLlava.tokenizer(dir)) {
            Evaluator evaluator = new Evaluator(model, tokenizer, Templates.byName("vicuna_v1"), TinyLlava.processor(), images,
                    new EvalConfig(4, 5));
            List<Integer> progress = new ArrayList<>();
            EvalReport report = evaluator.evaluate(records, (done, total, soFar) -> {
                assertEquals(5, total);
                progress.add(done);
            });
            assertEquals(List.of(1, 2, 3, 4, 5), progress);
            EvalScores s = report.scores();
            assertEquals(5, s.records());
            assertEquals(3, s.evaluated());
            assertEquals(Map.of("missing image file", 1, "malformed record", 1), s.skipped());
            assertEquals(List.of("q1", "q2", "q3"), report.predictions().stream().map(Prediction::id).toList());

            Prediction q2 = report.predictions().get(1);
            assertEquals("describe it", q2.question());
            assertEquals("blue sky", q2.reference());
            // the prediction is the greedy answer to the first question
            Prompt prompt = new PromptBuilder(tokenizer, Templates.byName("vicuna_v1"), TinyLlava.encoding()).build("describe it", true);
            ImageInput image = ImageInput.load(TinyLlava.processor(), images.resolve("b.png"));
            int[] tokens = new Generator(model).generate(prompt.toInputs(image.pixelValues()), GenerationConfig.greedy(4, tokenizer.eosId())).tokens();
            assertEquals(Answers.decode(tokenizer, tokens, TinyLlava.IMAGE_TOKEN), q2.prediction());
            for (Prediction p : report.predictions()) {
                assertEquals(EvalAiAnswerProcessor.process(p.prediction()).equals(EvalAiAnswerProcessor.process(p.reference())), p.correct());
            }
            // teacher forcing scores every answer token and its </s>: "a red cat </s>", "blue sky </s>", "no </s>", "yes </s>"
            assertEquals(4 + 3 + 2 + 2, s.tokens().tokens());
            assertTrue(s.perplexity() > 1 && Double.isFinite(s.perplexity()));
        }
    }

    @Test
    void evaluatesCaptionsWithThePlainTemplate() throws Exception {
        Path images = Files.createDirectories(dir.resolve("images"));
        TinyLlava.image(images.resolve("a.png"), 20, 20, 3);
        Path data = dir.resolve("captions.jsonl");
        Files.writeString(data, """
                {"id": "c1", "image": "a.png", "conversations": [{"from": "human", "value": "describe it.\\n<image>"}, {"from": "gpt", "value": "a cat on a mat"}]}
                {"id": "c2", "image": "a.png", "conversations": [{"from": "human", "value": "<image>"}, {"from": "gpt", "value": "blue sky"}]}
                """);
        LlavaModel model = TinyLlava.model(DataType.FLOAT, 5);
        try (HfTokenizer tokenizer = TinyLlava.tokenizer(dir)) {
            EvalReport report = new Evaluator(model, tokenizer, Templates.byName("plain"), TinyLlava.processor(), images,
                    new EvalConfig(3, 0)).evaluate(DataFiles.read(data), EvalListener.NONE);
            assertEquals(2, report.scores().evaluated());
            assertEquals("", report.predictions().get(0).question());
            assertEquals("a cat on a mat", report.predictions().get(0).reference());
            // plain supervises the caption and its "\n": 5 + 1 and 2 + 1
            assertEquals(9, report.scores().tokens().tokens());
            assertEquals("plain", report.scores().template());
        }
    }
}
