package io.github.vdep.examples.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.vdep.core.llava.LlavaModel;
import io.github.vdep.models.hf.LlavaCheckpoint;
import io.github.vdep.models.hf.LlavaOriginalCheckpoint;
import io.github.vdep.models.hf.TensorSource;
import io.github.vdep.models.hf.TensorSources;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;

/**
 * {@code vdep train} from what LLaVA users download, with no conversion step: a CLIP
 * {@code pytorch_model.bin}, a Vicuna-style sharded {@code .bin} LLaMA with a SentencePiece
 * {@code tokenizer.model}, LLaVA's released {@code mm_projector.bin}, and an original
 * {@code LlavaLlamaForCausalLM} checkpoint (fixtures: scripts/fixtures/make_torch_fixtures.py).
 */
class RealCheckpointsTrainTest {

    static final Path REAL = resource("real-checkpoints");
    static final Path CLIP = REAL.resolve("clip");
    static final Path VICUNA = REAL.resolve("vicuna");

    @TempDir
    static Path dir;
    static Path data;
    static Path pretrainData;

    static Path resource(String name) {
        try {
            return Path.of(RealCheckpointsTrainTest.class.getClassLoader().getResource(name).toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    @BeforeAll
    static void writeData() throws Exception {
        Path images = Files.createDirectories(dir.resolve("images"));
        StringBuilder chat = new StringBuilder("[");
        StringBuilder captions = new StringBuilder("[");
        String[] colours = {"red", "green", "blue", "yellow"};
        for (int i = 0; i < 4; i++) {
            BufferedImage img = new BufferedImage(20, 16, BufferedImage.TYPE_INT_RGB);
            for (int y = 0; y < 16; y++) {
                for (int x = 0; x < 20; x++) {
                    img.setRGB(x, y, (i * 60 + x * 9) << 16 | (y * 13) << 8 | (i * 40));
                }
            }
            ImageIO.write(img, "png", images.resolve(i + ".png").toFile());
            String sep = i == 0 ? "" : ",";
            chat.append(sep).append("{\"id\": \"c").append(i).append("\", \"image\": \"").append(i).append(".png\", \"conversations\": [")
                    .append("{\"from\": \"human\", \"value\": \"<image>\\nWhat colour is shown?\"},")
                    .append("{\"from\": \"gpt\", \"value\": \"It is ").append(colours[i]).append(".\"},")
                    .append("{\"from\": \"human\", \"value\": \"Café? 12 ünïcödé</s> words\"},")
                    .append("{\"from\": \"gpt\", \"value\": \"Yes, 3 of them.\"}]}");
            captions.append(sep).append("{\"id\": \"p").append(i).append("\", \"image\": \"").append(i).append(".png\", \"conversations\": [")
                    .append("{\"from\": \"human\", \"value\": \"<image>\"},")
                    .append("{\"from\": \"gpt\", \"value\": \"a ").append(colours[i]).append(" picture\"}]}");
        }
        data = Files.writeString(dir.resolve("chat.json"), chat.append("]").toString());
        pretrainData = Files.writeString(dir.resolve("captions.json"), captions.append("]").toString());
    }

    static List<String> common(Path out, String... extra) {
        List<String> a = new ArrayList<>(List.of("train", "--images", dir.resolve("images").toString(), "--batch-size", "2",
                "--steps", "2", "--out", out.toString(), "--seed", "3", "--warmup-ratio", "0", "--prefetch", "0"));
        a.addAll(List.of(extra));
        return a;
    }

    static int run(List<String> args) {
        return VdepCli.execute(args.toArray(String[]::new));
    }

    /** Runs and returns what went to stderr, asserting exit code 1 and no stack trace. */
    static String fails(List<String> args) {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintStream saved = System.err;
        int code;
        try {
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            code = run(args);
        } finally {
            System.setErr(saved);
        }
        String msg = err.toString(StandardCharsets.UTF_8);
        assertEquals(1, code, msg);
        assertFalse(msg.contains("\tat "), "no stack trace: " + msg);
        return msg;
    }

    static List<JsonNode> metrics(Path out) throws Exception {
        List<JsonNode> rows = new ArrayList<>();
        for (String line : Files.readAllLines(out.resolve("metrics.jsonl"))) {
            rows.add(new ObjectMapper().readTree(line));
        }
        return rows;
    }

    @Test
    void stage1FromClipAndVicunaBinsThenStage2FromItsProjector() throws Exception {
        Path s1 = dir.resolve("stage1");
        assertEquals(0, run(common(s1, "--vision", CLIP.toString(), "--llm", VICUNA.toString(), "--data", pretrainData.toString(),
                "--template", "plain", "--stage", "pretrain", "--save-layout", "llava")));
        assertEquals(2, metrics(s1).size());
        Path fin = s1.resolve("final");
        for (String f : List.of("config.json", "model.safetensors", "mm_projector.bin", "tokenizer.model", "tokenizer_config.json",
                "special_tokens_map.json")) {
            assertTrue(Files.isRegularFile(fin.resolve(f)), "final/ lacks " + f);
        }
        assertFalse(Files.exists(fin.resolve("tokenizer.json")), "no tokenizer.json came in, none goes out");
        assertEquals(Files.mismatch(VICUNA.resolve("tokenizer.model"), fin.resolve("tokenizer.model")), -1L);
        JsonNode cfg = new ObjectMapper().readTree(fin.resolve("config.json").toFile());
        assertEquals("LlavaLlamaForCausalLM", cfg.get("architectures").get(0).asText());
        assertEquals(CLIP.toAbsolutePath().toString(), cfg.get("mm_vision_tower").asText());
        assertEquals(420, cfg.get("vocab_size").asInt());
        // the LLaVA-layout output loads back (its tower is named by mm_vision_tower)
        LlavaModel trained = LlavaOriginalCheckpoint.load(fin, null, DataType.FLOAT).model();

        // stage 2 starting from vdep's own stage-1 mm_projector.bin: step 0 starts from the trained projector
        Path s2 = dir.resolve("stage2");
        assertEquals(0, run(common(s2, "--vision", CLIP.toString(), "--llm", VICUNA.toString(), "--data", data.toString(),
                "--template", "vicuna_v1", "--stage", "finetune", "--pretrain-mm-mlp-adapter", fin.resolve("mm_projector.bin").toString(),
                "--lr", "0")));
        LlavaModel s2Model = LlavaCheckpoint.load(s2.resolve("final")).model();
        trained.namedParameters().forEach((name, p) -> {
            if (name.startsWith("multi_modal_projector.")) {
                double diff = p.value().sub(s2Model.namedParameters().get(name).value()).amaxNumber().doubleValue();
                assertEquals(0.0, diff, 0.0, name + " (lr 0 keeps the adapter's values)");
            }
        });
        assertTrue(Files.isRegularFile(s2.resolve("final/tokenizer.model")));
    }

    @Test
    void stage2FromLlavasReleasedProjector() throws Exception {
        Path out = dir.resolve("released");
        assertEquals(0, run(common(out, "--vision", CLIP.toString(), "--llm", VICUNA.toString(), "--data", data.toString(),
                "--template", "vicuna_v1", "--stage", "finetune", "--pretrain-mm-mlp-adapter", REAL.resolve("mm_projector.bin").toString(),
                "--lr", "0")));
        LlavaModel m = LlavaCheckpoint.load(out.resolve("final")).model();
        try (TensorSource adapter = TensorSources.open(REAL.resolve("mm_projector.bin"))) {
            double diff = adapter.load("model.mm_projector.2.weight")
                    .sub(m.namedParameters().get("multi_modal_projector.linear_2.weight").value()).amaxNumber().doubleValue();
            assertEquals(0.0, diff, 0.0);
        }
        for (JsonNode row : metrics(out)) {
            assertTrue(Double.isFinite(row.get("loss").asDouble()), row.toString());
        }
    }

    @Test
    void originalLlavaCheckpointWithALocalTower() throws Exception {
        Path out = dir.resolve("orig");
        assertEquals(0, run(common(out, "--model", REAL.resolve("llava-v1.5").toString(), "--vision", CLIP.toString(),
                "--data", data.toString(), "--template", "vicuna_v1", "--stage", "finetune")));
        assertEquals(2, metrics(out).size());
        assertTrue(Files.isRegularFile(out.resolve("final/tokenizer_config.json")));
        String msg = fails(common(dir.resolve("orig-notower"), "--model", REAL.resolve("llava-v1.5").toString(),
                "--data", data.toString(), "--template", "vicuna_v1"));
        assertTrue(msg.contains("mm_vision_tower") && msg.contains("--vision"), msg);
    }

    @Test
    void projectorOptionsThatDoNotApplyAreErrors() throws Exception {
        Path orig = REAL.resolve("llava-v1.5").toString().isEmpty() ? null : REAL.resolve("llava-v1.5");
        String withModel = fails(common(dir.resolve("e1"), "--model", orig.toString(), "--vision", CLIP.toString(),
                "--data", data.toString(), "--projector", "mlp2x_gelu"));
        assertTrue(withModel.contains("--projector") && withModel.contains("--model"), withModel);
        String path = fails(common(dir.resolve("e2"), "--vision", CLIP.toString(), "--llm", VICUNA.toString(), "--data", data.toString(),
                "--projector", REAL.resolve("mm_projector.bin").toString()));
        assertTrue(path.contains("not a file") && path.contains("--pretrain-mm-mlp-adapter"), path);
        String unknown = fails(common(dir.resolve("e3"), "--vision", CLIP.toString(), "--llm", VICUNA.toString(), "--data", data.toString(),
                "--projector", "mlp2x_relu"));
        assertTrue(unknown.contains("unknown projector type 'mlp2x_relu'"), unknown);
        String layout = fails(common(dir.resolve("e4"), "--vision", CLIP.toString(), "--llm", VICUNA.toString(), "--data", data.toString(),
                "--save-layout", "hf"));
        assertTrue(layout.contains("--save-layout 'hf'"), layout);
    }

    @Test
    void aMaliciousShardIsRefusedAndNeverRun() throws Exception {
        Path marker = Path.of("/tmp/vdep-malicious-pickle-ran");
        Files.deleteIfExists(marker);
        Path evil = Files.createDirectories(dir.resolve("evil-llm"));
        try (var files = Files.list(VICUNA)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                Files.copy(f, evil.resolve(f.getFileName()));
            }
        }
        // the second shard replaced by a torch.save file whose pickle calls os.system
        Files.copy(resource("malicious.bin"), evil.resolve("pytorch_model-00002-of-00002.bin"),
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        String msg = fails(common(dir.resolve("evil"), "--vision", CLIP.toString(), "--llm", evil.toString(), "--data", data.toString()));
        assertTrue(msg.contains("pytorch_model-00002-of-00002.bin") && msg.contains("refusing pickle global posix.system"), msg);
        assertFalse(Files.exists(marker), "the malicious pickle ran");
    }
}
