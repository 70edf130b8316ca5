package io.github.vdep.examples.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import io.github.vdep.core.autograd.Parameter;
import io.github.vdep.examples.demo.DemoDataset;
import io.github.vdep.examples.demo.DemoModel;
import io.github.vdep.models.hf.LlavaCheckpoint;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code vdep train} as a 2-rank MPI job ({@code mpirun -n 2}) on the demo's tiny model: it trains
 * exactly like one process with twice the batch, a killed rank ends the job quickly with a message
 * naming it, and the job resumes from its checkpoint to the weights of an uninterrupted run.
 *
 * <p>Needs {@code mpirun} and the MPI collectives library (built when mpi.h is found). Without them
 * the tests are reported as skipped, unless {@code VDEP_REQUIRE_MPI=1} (CI sets it) makes that a failure.
 */
class DataParallelTrainTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    @TempDir
    static Path dir;
    static DemoDataset.Files data;
    static Path train;
    static Path init;

    @BeforeAll
    static void setUp() throws Exception {
        String missing = mpiMissing();
        if (missing != null) {
            if ("1".equals(System.getenv("VDEP_REQUIRE_MPI"))) {
                fail("VDEP_REQUIRE_MPI=1 but " + missing);
            }
            Assumptions.abort(missing);
        }
        data = DemoDataset.generate(dir.resolve("data"), 9, 1, DemoModel.IMAGE_SIZE, 3);
        // 17 records: with a global batch of 8 each epoch ends with a batch of one sample, which
        // leaves rank 0's shard empty
        ArrayNode records = (ArrayNode) JSON.readTree(data.train().toFile());
        while (records.size() > 17) {
            records.remove(records.size() - 1);
        }
        train = dir.resolve("train17.json");
        JSON.writeValue(train.toFile(), records);
        init = DemoModel.create(dir.resolve("init"), data.tokenizer(), data.vocabSize(), 3);
    }

    private static String mpiMissing() {
        if (DataParallelTrainTest.class.getResource("/native/linux-x86_64/libvdepmpi.so") == null) {
            return "the MPI collectives library was not built (no mpi.h at build time)";
        }
        try {
            Process p = new ProcessBuilder("mpirun", "--version").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor() == 0 ? null : "mpirun --version failed";
        } catch (IOException | InterruptedException e) {
            return "no mpirun on the PATH";
        }
    }

    private static List<String> trainArgs(Path out, int batch, String... extra) {
        List<String> a = new ArrayList<>(List.of("train", "--model", init.toString(), "--data", train.toString(), "--images",
                data.dir().toString(), "--template", "vicuna_v1", "--stage", "finetune", "--lr", "3e-3", "--batch-size",
                Integer.toString(batch), "--out", out.toString(), "--seed", "5", "--warmup-ratio", "0", "--prefetch", "0"));
        a.addAll(List.of(extra));
        return a;
    }

    /** {@code mpirun -n ranks java ... VdepCli args} (started, not waited for). */
    private static Process mpirun(int ranks, Path log, List<String> args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of("mpirun", "--allow-run-as-root", "--oversubscribe", "--bind-to", "none", "-n",
                Integer.toString(ranks), Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx1g",
                "-cp", System.getProperty("java.class.path"), VdepCli.class.getName()));
        cmd.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
        // one thread per rank on the 2-core CI machine; no single-copy shared memory (not allowed in containers)
        pb.environment().put("OMP_NUM_THREADS", "1");
        pb.environment().put("OMPI_MCA_btl_vader_single_copy_mechanism", "none");
        // a waiting rank yields its core instead of polling (the ranks share 2 cores)
        pb.environment().put("OMPI_MCA_mpi_yield_when_idle", "1");
        return pb.start();
    }

    private static String run(int ranks, Path out, List<String> args) throws Exception {
        Files.createDirectories(out);
        Path log = out.resolveSibling(out.getFileName() + ".log");
        Process p = mpirun(ranks, log, args);
        if (!p.waitFor(240, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail("mpirun -n " + ranks + " did not finish within 240 s: " + Files.readString(log));
        }
        String text = Files.readString(log, StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), text);
        return text;
    }

    private static List<JsonNode> metrics(Path out) throws IOException {
        List<JsonNode> rows = new ArrayList<>();
        for (String line : Files.readAllLines(out.resolve("metrics.jsonl"))) {
            rows.add(JSON.readTree(line));
        }
        return rows;
    }

    /** The largest absolute difference between two saved models' parameters. */
    private static double maxDiff(Path a, Path b) {
        return diffs(a, b, null)[0];
    }

    /** {max |a - b|, ||a - b|| / ||a - from||} over all parameters of saved models (the second with {@code from} only). */
    private static double[] diffs(Path a, Path b, Path from) {
        Map<String, Parameter> pa = LlavaCheckpoint.load(a).model().namedParameters();
        Map<String, Parameter> pb = LlavaCheckpoint.load(b).model().namedParameters();
        Map<String, Parameter> p0 = from == null ? null : LlavaCheckpoint.load(from).model().namedParameters();
        assertEquals(pa.keySet(), pb.keySet());
        double max = 0;
        double diff2 = 0;
        double moved2 = 0;
        for (Map.Entry<String, Parameter> e : pa.entrySet()) {
            INDArray d = e.getValue().value().sub(pb.get(e.getKey()).value()).castTo(DataType.DOUBLE);
            max = Math.max(max, d.amaxNumber().doubleValue());
            if (p0 != null) {
                double n = d.norm2Number().doubleValue();
                diff2 += n * n;
                double m = e.getValue().value().sub(p0.get(e.getKey()).value()).castTo(DataType.DOUBLE).norm2Number().doubleValue();
                moved2 += m * m;
            }
        }
        return new double[] {max, p0 == null ? Double.NaN : Math.sqrt(diff2 / moved2)};
    }

    /**
     * Trains 1 process x 8 and 2 ranks x 4 and compares: the largest weight difference must stay
     * under {@code maxAbs}, and the difference relative to how far the weights moved under
     * {@code relative}; losses, modes, tokens and epochs must agree step by step.
     */
    private void twoRanksTrainLikeOneProcessWithTwiceTheBatch(String name, double maxAbs, double relative, String... extra) throws Exception {
        Path single = dir.resolve(name + "-single");
        assertEquals(0, VdepCli.execute(trainArgs(single, 8, extra).toArray(String[]::new)));
        Path two = dir.resolve(name + "-two");
        String log = run(2, two, trainArgs(two, 4, extra));
        assertTrue(log.contains("data parallel: 2 ranks"), log);

        double trained = maxDiff(init, single.resolve("final"));
        double[] d = diffs(single.resolve("final"), two.resolve("final"), init);
        System.out.printf("%s: weights moved by up to %.3g; 2 ranks x 4 vs 1 process x 8: max |difference| %.3g, relative to the movement %.3g%n",
                name, trained, d[0], d[1]);
        assertTrue(trained > 10 * maxAbs, "the run should move the weights: " + trained);
        assertTrue(d[0] < maxAbs, name + ": 2 ranks x 4 differ from 1 process x 8 by up to " + d[0] + " (weights moved by " + trained + ")");
        assertTrue(d[1] < relative, name + ": 2 ranks x 4 differ from 1 process x 8 by " + d[1] + " of the weights' movement");

        List<JsonNode> a = metrics(single);
        List<JsonNode> b = metrics(two);
        assertEquals(a.size(), b.size());
        for (int i = 0; i < a.size(); i++) {
            assertEquals(a.get(i).get("mode").asText(), b.get(i).get("mode").asText(), "mode of step " + (i + 1));
            assertEquals(a.get(i).get("tokens").asLong(), b.get(i).get("tokens").asLong(), "tokens of step " + (i + 1));
            assertEquals(a.get(i).get("epoch").asInt(), b.get(i).get("epoch").asInt(), "epoch of step " + (i + 1));
            double loss = a.get(i).get("loss").asDouble();
            assertEquals(loss, b.get(i).get("loss").asDouble(), 1e-5 * Math.max(1, Math.abs(loss)), "loss of step " + (i + 1));
            assertTrue(b.get(i).get("comm_seconds").asDouble() > 0, "communication time of step " + (i + 1));
        }
    }

    @Test
    void sgdWithPerSampleModesAndAccumulation() throws Exception {
        // VDEP and LLaVA samples mixed in every batch: the image loss is the mean over the global
        // batch's VDEP samples. Micro-batches 8,8 | 1,8 | 8,1: the one-sample batches end an epoch
        // and leave rank 0's shard empty.
        twoRanksTrainLikeOneProcessWithTwiceTheBatch("sgd", 2e-6, 1e-4, "--optimizer", "sgd", "--mode-policy", "per-sample", "--grad-accum",
                "2", "--steps", "3", "--lr-schedule", "constant");
    }

    @Test
    void adamwWithAlternatingModes() throws Exception {
        // Adam divides by the gradient's running RMS: where a gradient is near eps (1e-8), float
        // summation noise changes that element's update by a fair part of lr. The bulk must agree
        // to float precision (relative), single elements to a small fraction of lr (3e-3).
        twoRanksTrainLikeOneProcessWithTwiceTheBatch("adamw", 3e-4, 1e-3, "--optimizer", "adamw", "--steps", "4", "--weight-decay", "0.01");
    }

    private static final String[] COMMON = {"--steps", "14", "--save-every", "2", "--lr-schedule", "constant"};
    private static Path straight;

    /** An uninterrupted 2-rank run of {@link #COMMON}'s 14 steps (made once, for the kill and the SIGTERM tests). */
    private static synchronized Path straight() throws Exception {
        if (straight == null) {
            Path out = dir.resolve("straight");
            run(2, out, trainArgs(out, 4, COMMON));
            straight = out;
        }
        return straight;
    }

    @Test
    void aKilledRankEndsTheJobAndTheJobResumesExactly() throws Exception {
        String[] common = COMMON;
        Path straight = straight();

        Path killed = dir.resolve("killed");
        Files.createDirectories(killed);
        Path log = dir.resolve("killed.log");
        Process job = mpirun(2, log, trainArgs(killed, 4, common));
        ProcessHandle rank1 = rankAfterFirstCheckpoint(job, killed, log, 1);
        rank1.destroyForcibly();
        long killedAt = System.nanoTime();
        boolean ended = job.waitFor(60, TimeUnit.SECONDS);
        double seconds = (System.nanoTime() - killedAt) / 1e9;
        String text = Files.readString(log);
        if (!ended) {
            job.destroyForcibly();
        }
        assertTrue(ended, "the job still ran 60 s after rank 1 was killed: " + text);
        assertNotEquals(0, job.exitValue(), text);
        assertTrue(text.contains("rank 1"), "the message names the killed rank: " + text);
        assertTrue(Files.notExists(killed.resolve("final")), "the killed job must not have finished: " + text);
        System.out.printf("killed rank 1; the job ended %.1f s later%n", seconds);

        // another world size is refused in one line
        java.io.ByteArrayOutputStream err = new java.io.ByteArrayOutputStream();
        java.io.PrintStream saved = System.err;
        int code;
        try {
            System.setErr(new java.io.PrintStream(err, true));
            List<String> one = trainArgs(killed, 8, common);
            one.add("--resume");
            code = VdepCli.execute(one.toArray(String[]::new));
        } finally {
            System.setErr(saved);
        }
        assertEquals(1, code);
        assertTrue(err.toString().contains("was written by a run of 2 rank(s) but this run has 1"), err.toString());

        List<String> resume = trainArgs(killed, 4, common);
        resume.add("--resume");
        run(2, killed, resume);
        assertEquals(0.0, maxDiff(straight.resolve("final"), killed.resolve("final")), 0.0, "resumed weights");
        List<JsonNode> a = metrics(straight);
        List<JsonNode> b = metrics(killed);
        assertEquals(14, a.size());
        assertEquals(14, b.size());
        for (int i = 0; i < a.size(); i++) {
            assertEquals(a.get(i).get("loss").asDouble(), b.get(i).get("loss").asDouble(), 0.0, "loss of step " + (i + 1));
        }
    }

    @Test
    void sigtermToOneRankCheckpointsOnceStopsAllRanksAndResumesExactly() throws Exception {
        Path straight = straight();
        // no periodic checkpoints: the only one before the end must be the stop's
        List<String> args = trainArgs(dir.resolve("stopped"), 4, "--steps", "14", "--save-every", "0", "--lr-schedule", "constant");
        Path out = dir.resolve("stopped");
        Files.createDirectories(out);
        Path log = dir.resolve("stopped.log");
        Process job = mpirun(2, log, args);
        // after the first step (metrics.jsonl has a line), SIGTERM to rank 1 only, as a scheduler preempting one node would
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
        Path metrics = out.resolve("metrics.jsonl");
        while (!Files.isRegularFile(metrics) || Files.readAllLines(metrics).isEmpty()) {
            assertTrue(job.isAlive(), "the job ended before its first step: " + Files.readString(log));
            assertTrue(System.nanoTime() < deadline, "no step within 180 s: " + Files.readString(log));
            Thread.sleep(10);
        }
        ProcessHandle rank1 = rank(job, 1).orElseThrow(() -> new AssertionError("rank 1 not found under mpirun"));
        assertEquals(0, new ProcessBuilder("kill", "-TERM", Long.toString(rank1.pid())).start().waitFor());
        boolean ended = job.waitFor(60, TimeUnit.SECONDS);
        String text = Files.readString(log);
        if (!ended) {
            job.destroyForcibly();
        }
        assertTrue(ended, "the job still ran 60 s after SIGTERM to rank 1: " + text);
        assertEquals(TrainCommand.EXIT_STOPPED, job.exitValue(), "mpirun's status is the ranks' stop status: " + text);
        assertTrue(text.contains("SIGTERM received"), text);
        assertTrue(Files.notExists(out.resolve("final")), "a stopped job has no final model: " + text);
        // exactly one checkpoint, at the step every rank stopped after, which is the last step in metrics.jsonl
        List<Path> checkpoints;
        try (java.util.stream.Stream<Path> s = Files.list(out.resolve("checkpoints"))) {
            checkpoints = s.filter(Files::isDirectory).toList();
        }
        List<JsonNode> steps = metrics(out);
        long stoppedAfter = steps.get(steps.size() - 1).get("step").asLong();
        assertTrue(stoppedAfter < 14, "the job stopped early: " + stoppedAfter);
        assertEquals(List.of(out.resolve("checkpoints").resolve(String.format("step-%08d", stoppedAfter))), checkpoints, text);
        assertTrue(text.contains("stopped on SIGTERM (rank 1) after step " + stoppedAfter + " of 14"), text);
        System.out.printf("SIGTERM to rank 1 after step 1: the job stopped after step %d with one checkpoint%n", stoppedAfter);

        List<String> resume = new ArrayList<>(args);
        resume.add("--resume");
        run(2, out, resume);
        assertEquals(0.0, maxDiff(straight.resolve("final"), out.resolve("final")), 0.0, "resumed weights");
        List<JsonNode> a = metrics(straight);
        List<JsonNode> b = metrics(out);
        assertEquals(14, b.size());
        for (int i = 0; i < a.size(); i++) {
            assertEquals(a.get(i).get("loss").asDouble(), b.get(i).get("loss").asDouble(), 0.0, "loss of step " + (i + 1));
        }
    }

    @Test
    void anExplicitBackendWithOneRankTrainsExactlyLikeOneProcess() throws Exception {
        // what scripts/gpu-check.sh does with NCCL on a single GPU, here with MPI on the CPU: the
        // data-parallel path (sharding, loss weights, all-reduce, broadcast) with a world of one
        String[] extra = {"--steps", "3", "--optimizer", "adamw", "--mode-policy", "per-sample"};
        // both under mpirun -n 1, so both have its environment (one thread: the same float summation order)
        Path plain = dir.resolve("plain");
        assertTrue(run(1, plain, trainArgs(plain, 4, extra)).contains("vdep train: "));
        Path one = dir.resolve("one-rank");
        List<String> args = trainArgs(one, 4, extra);
        args.addAll(List.of("--ddp-backend", "mpi"));
        String log = run(1, one, args);
        assertTrue(log.contains("data parallel: 1 ranks (mpirun (Open MPI), Open MPI"), log);
        assertEquals(0.0, maxDiff(plain.resolve("final"), one.resolve("final")), 0.0, "one MPI rank against one process");
        List<JsonNode> a = metrics(plain);
        List<JsonNode> b = metrics(one);
        for (int i = 0; i < a.size(); i++) {
            assertEquals(a.get(i).get("loss").asDouble(), b.get(i).get("loss").asDouble(), 0.0, "loss of step " + (i + 1));
        }
    }

    @Test
    void aRankThatHangsEndsTheJobAfterTheTimeout() throws Exception {
        Path out = dir.resolve("hung");
        Files.createDirectories(out);
        Path log = dir.resolve("hung.log");
        Process job = mpirun(2, log, trainArgs(out, 4, "--steps", "14", "--save-every", "2", "--lr-schedule", "constant",
                "--dist-timeout", "20"));
        ProcessHandle rank1 = rankAfterFirstCheckpoint(job, out, log, 1);
        // SIGSTOP: rank 1 neither dies nor answers; rank 0's next collective waits for it
        assertEquals(0, new ProcessBuilder("kill", "-STOP", Long.toString(rank1.pid())).start().waitFor());
        long stoppedAt = System.nanoTime();
        boolean ended = job.waitFor(60, TimeUnit.SECONDS);
        double seconds = (System.nanoTime() - stoppedAt) / 1e9;
        String text = Files.readString(log);
        if (!ended) {
            rank1.destroyForcibly();
            job.destroyForcibly();
        }
        assertTrue(ended, "the job still ran 60 s after rank 1 stopped answering: " + text);
        assertNotEquals(0, job.exitValue(), text);
        assertTrue(text.contains("vdep: rank 0 of 2: ") && text.contains("for the other ranks (timeout 20 s): a rank died or hangs"), text);
        assertTrue(seconds >= 20, "not before the timeout: " + seconds);
        System.out.printf("stopped rank 1; the job ended %.1f s later (timeout 20 s)%n", seconds);
    }

    /** Waits for the job's first checkpoint (step 2) and returns the process of {@code rank}. */
    private static ProcessHandle rankAfterFirstCheckpoint(Process job, Path out, Path log, int rank) throws Exception {
        Path firstCheckpoint = out.resolve("checkpoints").resolve("step-00000002");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
        while (!Files.isDirectory(firstCheckpoint)) {
            assertTrue(job.isAlive(), "the job ended before its first checkpoint: " + Files.readString(log));
            assertTrue(System.nanoTime() < deadline, "no checkpoint within 180 s: " + Files.readString(log));
            Thread.sleep(10);
        }
        return rank(job, rank).orElseThrow(() -> new AssertionError("rank " + rank + " not found under mpirun"));
    }

    /** The process of the given rank among the job's descendants (read from its environment). */
    private static Optional<ProcessHandle> rank(Process job, int rank) {
        String wanted = "OMPI_COMM_WORLD_RANK=" + rank;
        return job.descendants().filter(h -> {
            try {
                String env = Files.readString(Path.of("/proc", Long.toString(h.pid()), "environ"), StandardCharsets.ISO_8859_1);
                return h.info().command().map(c -> c.endsWith("java")).orElse(false) && List.of(env.split("\0")).contains(wanted);
            } catch (IOException e) {
                return false;
            }
        }).findFirst();
    }
}
