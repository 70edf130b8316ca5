package io.github.vdep.examples.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.vdep.examples.demo.DemoDataset;
import io.github.vdep.examples.demo.DemoModel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A disk that fills up during a checkpoint, for real: {@code vdep train} writes to a small tmpfs
 * (mounted in a private mount namespace with {@code unshare}, so no root is needed where user
 * namespaces are allowed). The run stops with one line naming the checkpoint, the previous one
 * stays intact, and after space is freed {@code --resume} continues from it to weights identical,
 * byte for byte, to an uninterrupted run's. Where {@code unshare} cannot mount (some containers),
 * the test is reported as skipped with that reason; {@code TrainerFaultsTest} covers the same
 * handling with an output directory that becomes unusable.
 */
class DiskFullTest {
    @TempDir
    Path dir;

    private static String quote(String s) {
        return "'" + s.replace("'", "'\\''") + "'";
    }

    private static long pages(Path tree) throws IOException {
        try (Stream<Path> files = Files.walk(tree)) {
            long total = 0;
            for (Path f : (Iterable<Path>) files.filter(Files::isRegularFile)::iterator) {
                total += (Files.size(f) + 4095) / 4096;
            }
            return total;
        }
    }

    private static int run(List<String> cmd, Path log, int seconds) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            assertTrue(p.waitFor(seconds, TimeUnit.SECONDS), "no exit within " + seconds + " s: " + Files.readString(log));
            return p.exitValue();
        } finally {
            p.destroyForcibly();
        }
    }

    @Test
    void aDiskThatFillsDuringACheckpointKeepsThePreviousOneAndResumeContinues() throws Exception {
        Path probe = dir.resolve("probe");
        Files.createDirectories(probe);
        int can = run(List.of("unshare", "-rm", "sh", "-c", "mount -t tmpfs -o size=64k tmpfs " + quote(probe.toString())),
                dir.resolve("probe.log"), 30);
        Assumptions.assumeTrue(can == 0, () -> "unshare cannot mount a tmpfs here: " + readQuietly(dir.resolve("probe.log")));

        DemoDataset.Files data = DemoDataset.generate(dir.resolve("data"), 48, 8, DemoModel.IMAGE_SIZE, 3);
        TrainProcessTest.data = data;
        Path init = DemoModel.create(dir.resolve("init"), data.tokenizer(), data.vocabSize(), 3);

        // the uninterrupted reference, and the size of one checkpoint
        Path straight = dir.resolve("straight");
        assertEquals(0, VdepCli.execute(TrainProcessTest.trainArgs(init, straight, "6", "--save-every", "1").toArray(String[]::new)));
        long checkpointPages = pages(straight.resolve("checkpoints/step-00000001"));

        // room for the lock, metrics, two checkpoints and half of a third
        Path mnt = dir.resolve("mnt");
        Files.createDirectories(mnt);
        long kib = 4 * (4 + 2 * checkpointPages + checkpointPages / 2);
        Path out = mnt.resolve("out");
        Path saved = dir.resolve("saved");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String cli = quote(java) + " -Xmx1g -cp " + quote(System.getProperty("java.class.path")) + " " + VdepCli.class.getName() + " ";
        StringBuilder train = new StringBuilder();
        for (String a : TrainProcessTest.trainArgs(init, out, "6", "--save-every", "1")) {
            train.append(quote(a)).append(' ');
        }
        String script = String.join("\n",
                "mount -t tmpfs -o size=" + kib + "k tmpfs " + quote(mnt.toString()) + " || exit 90",
                cli + train + "; echo \"first exit $?\"",
                "echo \"latest $(cat " + quote(out.resolve("checkpoints/latest").toString()) + ")\"",
                "echo \"listing $(ls -a " + quote(out.resolve("checkpoints").toString()) + " | tr '\\n' ' ')\"",
                "mount -o remount,size=256m " + quote(mnt.toString()) + " || exit 91",
                cli + train + "--resume; echo \"resume exit $?\"",
                "mkdir -p " + quote(saved.toString()) + " && cp -r " + quote(out.resolve("final").toString()) + " " + quote(saved.toString()));
        Path log = dir.resolve("full.log");
        assertEquals(0, run(List.of("unshare", "-rm", "sh", "-c", script), log, 300), readQuietly(log));
        String output = Files.readString(log);
        assertTrue(output.contains("first exit 1"), output);
        assertTrue(output.contains("checkpoint step-00000003 could not be written under " + out.resolve("checkpoints"))
                && output.contains("No space left on device")
                && output.contains("the previous checkpoint " + out.resolve("checkpoints/step-00000002") + " is intact"), output);
        assertTrue(output.contains("latest step-00000002"), output);
        String listing = output.lines().filter(l -> l.startsWith("listing ")).findFirst().orElseThrow();
        assertEquals("listing . .. latest step-00000001 step-00000002 ", listing, "the partial copy was removed");
        assertTrue(output.contains("resuming at step 2 of 6") && output.contains("resume exit 0"), output);
        assertArrayEquals(Files.readAllBytes(straight.resolve("final/model.safetensors")), Files.readAllBytes(saved.resolve("final/model.safetensors")),
                "the resumed run's weights equal the uninterrupted run's, bit for bit");
    }

    private static String readQuietly(Path f) {
        try {
            return Files.readString(f);
        } catch (IOException e) {
            return e.toString();
        }
    }
}
