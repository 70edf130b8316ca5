package io.github.vdep.train.eval;

import io.github.vdep.core.llava.LlavaInputs;
import io.github.vdep.core.llava.LlavaModel;
import io.github.vdep.models.llama.LlamaForCausalLM;
import io.github.vdep.train.data.BadRecordException;
import io.github.vdep.train.data.BadRecordReason;
import io.github.vdep.train.data.ConversationRecord;
import io.github.vdep.train.data.ConversationTemplate;
import io.github.vdep.train.data.EncodedSample;
import io.github.vdep.train.data.EncodingConfig;
import io.github.vdep.train.data.PlainTemplate;
import io.github.vdep.train.data.SampleEncoder;
import io.github.vdep.train.data.TextTokenizer;
import io.github.vdep.train.data.Turn;
import io.github.vdep.train.data.image.ClipImageProcessor;
import io.github.vdep.train.data.image.ImageDecodeException;
import io.github.vdep.train.infer.Answers;
import io.github.vdep.train.infer.GenerationConfig;
import io.github.vdep.train.infer.GenerationResult;
import io.github.vdep.train.infer.Generator;
import io.github.vdep.train.infer.ImageInput;
import io.github.vdep.train.infer.Prompt;
import io.github.vdep.train.infer.PromptBuilder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Evaluates a model on LLaVA conversation data, record by record:
 * <ul>
 *   <li><b>exact match</b>: the first human turn is the question (its {@code <image>} removed;
 *       none for the {@code plain} template, which prompts with the image alone) and the
 *       {@code gpt} turn after it the reference; an answer is generated greedily
 *       ({@link PromptBuilder}, {@link Generator}) and compared after
 *       {@link io.github.vdep.train.benchmark.EvalAiAnswerProcessor#process} (LLaVA's);</li>
 *   <li><b>teacher-forced token accuracy and perplexity</b>: the whole record encoded as for
 *       training ({@link SampleEncoder}, all answers supervised) and scored by
 *       {@link TeacherForcedScorer}; summed over records, so the perplexity is
 *       {@code exp} of the mean NLL per supervised token of the data set.</li>
 * </ul>
 * Records that cannot be used (malformed, no question/answer pair, missing or undecodable image,
 * too long for the model) are skipped and counted by reason. Runs without recording.
 */
public final class Evaluator {

    private static final Logger LOG = LoggerFactory.getLogger(Evaluator.class);

    private final LlavaModel model;
    private final TextTokenizer tokenizer;
    private final ConversationTemplate template;
    private final ClipImageProcessor images;
    private final Path imageFolder;
    private final EvalConfig config;
    private final SampleEncoder encoder;
    private final PromptBuilder prompts;
    private final Generator generator;
    private final TeacherForcedScorer scorer;
    private final int context;

    /**
     * @param model       the model
     * @param tokenizer   its tokenizer
     * @param template    the conversation template of the data
     * @param images      the image processor
     * @param imageFolder the folder the records' image paths are relative to
     * @param config      evaluation settings
     * @throws IllegalArgumentException if the tokenizer does not suit the template
     */
    public Evaluator(LlavaModel model, TextTokenizer tokenizer, ConversationTemplate template, ClipImageProcessor images,
            Path imageFolder, EvalConfig config) {
        this.model = Objects.requireNonNull(model, "model");
        this.tokenizer = Objects.requireNonNull(tokenizer, "tokenizer");
        this.template = Objects.requireNonNull(template, "template");
        this.images = Objects.requireNonNull(images, "images");
        this.imageFolder = Objects.requireNonNull(imageFolder, "imageFolder");
        this.config = Objects.requireNonNull(config, "config");
        this.context = model.languageModel() instanceof LlamaForCausalLM llama ? llama.config().maxPositionEmbeddings() : Integer.MAX_VALUE;
        EncodingConfig encoding = new EncodingConfig(model.imageTokenIndex(), model.visionTower().numPatches(), context);
        this.encoder = new SampleEncoder(tokenizer, template, encoding, imageFolder);
        this.prompts = new PromptBuilder(tokenizer, template, encoding);
        this.generator = new Generator(model);
        this.scorer = new TeacherForcedScorer(model);
    }

    /**
     * Evaluates records (the first {@link EvalConfig#limit()} when set).
     *
     * @param records  the data
     * @param listener informed after each record
     * @return the predictions and scores
     */
    public EvalReport evaluate(List<ConversationRecord> records, EvalListener listener) {
        List<ConversationRecord> todo = config.limit() > 0 && records.size() > config.limit() ? records.subList(0, config.limit()) : records;
        List<Prediction> predictions = new ArrayList<>();
        Map<String, Integer> skipped = new TreeMap<>();
        TokenStats tokens = TokenStats.EMPTY;
        int correct = 0;
        for (int i = 0; i < todo.size(); i++) {
            ConversationRecord record = todo.get(i);
            try {
                Outcome o = evaluate(record);
                predictions.add(o.prediction());
                tokens = tokens.plus(o.tokens());
                correct += o.prediction().correct() ? 1 : 0;
            } catch (BadRecordException e) {
                skip(skipped, e.reason(), e.getMessage());
            } catch (ImageDecodeException e) {
                String reason = Files.exists(e.file()) ? BadRecordReason.UNDECODABLE_IMAGE.label() : BadRecordReason.MISSING_IMAGE.label();
                skip(skipped, reason, "record '" + record.id() + "': " + e.getMessage());
            } catch (PromptTooLongException e) {
                skip(skipped, "too long for the model", "record '" + record.id() + "': " + e.getMessage());
            }
            listener.onRecord(i + 1, todo.size(), new EvalScores(template.name(), i + 1, predictions.size(), skipped, correct, tokens));
        }
        EvalScores scores = new EvalScores(template.name(), todo.size(), predictions.size(), skipped, correct, tokens);
        LOG.info("evaluated {} of {} records: exact match {}, token accuracy {}, perplexity {} ({} skipped)", scores.evaluated(),
                scores.records(), scores.exactMatch(), scores.tokenAccuracy(), scores.perplexity(), scores.skippedCount());
        return new EvalReport(scores, predictions);
    }

    private static void skip(Map<String, Integer> skipped, String reason, String message) {
        skipped.merge(reason, 1, Integer::sum);
        LOG.warn("skipping: {}", message);
    }

    private record Outcome(Prediction prediction, TokenStats tokens) {
    }

    /** Scores one record; throws the reason it cannot be used. */
    private Outcome evaluate(ConversationRecord record) {
        EncodedSample sample = encoder.encode(record); // also validates the record against the template
        String[] qa = questionAndReference(record);
        INDArray pixels = record.hasImage() ? ImageInput.load(images, sample.imagePath()).pixelValues() : null;

        long[][] ids = new long[1][];
        long[][] labels = new long[1][];
        ids[0] = java.util.Arrays.stream(sample.inputIds()).asLongStream().toArray();
        labels[0] = java.util.Arrays.stream(sample.labels()).asLongStream().toArray();
        TokenStats stats = scorer.score(new LlavaInputs(Nd4j.createFromArray(ids), null, pixels), Nd4j.createFromArray(labels));

        Prompt prompt = prompts.build(qa[0], record.hasImage());
        if (prompt.length() >= context) {
            throw new PromptTooLongException("the prompt has " + prompt.length() + " tokens, the model's context " + context);
        }
        GenerationResult answer = generator.generate(prompt.toInputs(pixels), GenerationConfig.greedy(config.maxNewTokens(), tokenizer.eosId()));
        String prediction = Answers.decode(tokenizer, answer.tokens(), model.imageTokenIndex());
        return new Outcome(Prediction.scored(record.id(), qa[0], qa[1], prediction), stats);
    }

    /** The first human turn (placeholder removed) and the gpt turn after it. */
    private String[] questionAndReference(ConversationRecord record) {
        List<Turn> turns = record.conversations();
        for (int i = 0; i + 1 < turns.size(); i++) {
            if (turns.get(i).isHuman() && turns.get(i + 1).isGpt()) {
                String question = template instanceof PlainTemplate ? ""
                        : turns.get(i).value().replace(ConversationTemplate.IMAGE_PLACEHOLDER, "").strip();
                return new String[] {question, turns.get(i + 1).value().strip()};
            }
        }
        throw new BadRecordException(record.id(), BadRecordReason.TEMPLATE_STRUCTURE, "no human turn followed by a gpt answer");
    }

    /** The generation prompt does not fit the model's context. */
    private static final class PromptTooLongException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        PromptTooLongException(String message) {
            super(message);
        }
    }
}
