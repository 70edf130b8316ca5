package io.github.vdep.examples.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.vdep.examples.demo.DemoDataset;
import io.github.vdep.examples.demo.DemoModel;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code vdep train} as a real process: SIGTERM (Slurm's and Kubernetes' preemption notice) ends it
 * after the current step with a checkpoint and exit status {@link TrainCommand#EXIT_STOPPED}, and a
 * second run on the same {@code --out} is refused while the first holds it. Also the up-front
 * refusals: a run whose weights cannot fit, images over the pixel limit.
 */
class TrainProcessTest {
    @TempDir
    static Path dir;
    static DemoDataset.Files data;
    static Path init;

    @BeforeAll
    static void setUp() throws Exception {
        data = DemoDataset.generate(dir.resolve("data"), 48, 8, DemoModel.IMAGE_SIZE, 3);
        init = DemoModel.create(dir.resolve("init"), data.tokenizer(), data.vocabSize(), 3);
    }

    static List<String> trainArgs(Path model, Path out, String steps, String... extra) {
        List<String> a = new ArrayList<>(List.of("train", "--model", model.toString(), "--data", data.train().toString(),
                "--images", data.dir().toString(), "--template", "vicuna_v1", "--stage", "finetune", "--lr", "3e-3",
                "--batch-size", "8", "--steps", steps, "--out", out.toString(), "--seed", "5", "--warmup-ratio", "0",
                "--lr-schedule", "constant"));
        a.addAll(List.of(extra));
        return a;
    }

    /** A {@code vdep train} JVM on this test's class path, its output in {@code log}. */
    static Process launch(List<String> args, Path log) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx1g",
                "-cp", System.getProperty("java.class.path"), VdepCli.class.getName()));
        cmd.addAll(args);
        return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    }

    static long lines(Path file) throws IOException {
        return Files.isRegularFile(file) ? Files.readAllLines(file).size() : 0;
    }

    /** Runs the CLI in this JVM and returns its exit status and what it wrote to stderr. */
    static Object[] inProcess(List<String> args) {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintStream saved = System.err;
        int code;
        try {
            System.setErr(new PrintStream(err, true));
            code = VdepCli.execute(args.toArray(String[]::new));
        } finally {
            System.setErr(saved);
        }
        return new Object[] {code, err.toString()};
    }

    @Test
    void sigtermFinishesTheStepWritesACheckpointAndExitsWithItsStatus() throws Exception {
        Path out = dir.resolve("preempted");
        Path log = dir.resolve("preempted.log");
        Process p = launch(trainArgs(init, out, "100000"), log);
        try {
            // wait (bounded) until the run has taken two steps
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (lines(out.resolve("metrics.jsonl")) < 2 && p.isAlive() && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            assertTrue(p.isAlive(), "the run ended early: " + Files.readString(log));
            assertTrue(lines(out.resolve("metrics.jsonl")) >= 2, "no progress within 120 s: " + Files.readString(log));

            // a second run on the same --out is refused, naming the lock and the process holding it
            Object[] second = inProcess(trainArgs(init, out, "5"));
            assertEquals(1, second[0]);
            String msg = (String) second[1];
            assertTrue(msg.contains(out.resolve(".lock").toString()) && msg.contains("locked by process " + p.pid() + " (vdep train"), msg);
            assertEquals(1, msg.strip().lines().count(), "one line: " + msg);

            p.destroy(); // SIGTERM
            assertTrue(p.waitFor(120, TimeUnit.SECONDS), "no exit within 120 s of SIGTERM: " + Files.readString(log));
        } finally {
            p.destroyForcibly();
        }
        String output = Files.readString(log);
        assertEquals(TrainCommand.EXIT_STOPPED, p.exitValue(), output);
        assertTrue(output.contains("SIGTERM received"), output);
        long steps = lines(out.resolve("metrics.jsonl"));
        String latest = Files.readString(out.resolve("checkpoints/latest"));
        assertEquals(String.format("step-%08d", steps), latest, "the checkpoint holds the last step taken");
        assertTrue(output.contains("stopped on SIGTERM after step " + steps + " of 100000"), output);

        // --resume continues from it (and the lock was released with the process)
        Object[] resumed = inProcess(trainArgs(init, out, Long.toString(steps + 2), "--resume"));
        assertEquals(0, resumed[0], (String) resumed[1]);
        assertEquals(steps + 2, lines(out.resolve("metrics.jsonl")));
    }

    @Test
    void aRunThatCannotFitIsRefusedBeforeLoadingAnything() throws Exception {
        Path huge = dir.resolve("huge");
        Files.createDirectories(huge);
        ObjectMapper json = new ObjectMapper();
        ObjectNode config = (ObjectNode) json.readTree(init.resolve("config.json").toFile());
        // within every per-field bound, but about 16 TB of weights; the weights file is never opened
        ((ObjectNode) config.get("text_config")).put("hidden_size", 32768).put("intermediate_size", 131072).put("num_hidden_layers", 1000)
                .put("num_attention_heads", 256).put("num_key_value_heads", 256);
        Files.writeString(huge.resolve("config.json"), json.writeValueAsString(config));
        Object[] r = inProcess(trainArgs(huge, dir.resolve("huge-out"), "1"));
        assertEquals(1, r[0]);
        String msg = (String) r[1];
        assertTrue(msg.contains("not enough memory for this run: it needs at least") && msg.contains("weights"), msg);
        assertEquals(1, msg.strip().lines().count(), "one line: " + msg);
    }

    @Test
    void imagesOverThePixelLimitAreCountedBadRecords() throws Exception {
        // the demo's images are 32 x 32: a limit of 1000 pixels refuses every one of them
        Object[] r = inProcess(trainArgs(init, dir.resolve("pixels"), "1", "--max-image-pixels", "1000"));
        assertEquals(1, r[0]);
        String msg = (String) r[1];
        assertTrue(msg.contains("image too large"), msg);
        assertFalse(msg.contains("\tat "), msg);
    }
}
