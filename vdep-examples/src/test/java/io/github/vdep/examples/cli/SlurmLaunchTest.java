package io.github.vdep.examples.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

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
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code vdep train} launched by Slurm's {@code srun} (docs/distributed.md, "Slurm"): two tasks
 * joined through PMIx train to exactly the weights of the same job under {@code mpirun -n 2}, and
 * {@code srun} without {@code --mpi} stops in one line instead of running two worlds of one.
 *
 * <p>Needs a running Slurm cluster that this machine can submit to ({@code sinfo} answers) and the
 * MPI collectives library. Without them the tests are reported as skipped with the reason, unless
 * {@code VDEP_REQUIRE_SLURM=1} makes that a failure. CI has no Slurm; docs/distributed.md says how a
 * one-machine cluster was set up to run them.
 */
class SlurmLaunchTest {
    @TempDir
    static Path dir;
    static DemoDataset.Files data;
    static Path init;

    @BeforeAll
    static void setUp() throws Exception {
        String missing = slurmMissing();
        if (missing != null) {
            if ("1".equals(System.getenv("VDEP_REQUIRE_SLURM"))) {
                fail("VDEP_REQUIRE_SLURM=1 but " + missing);
            }
            Assumptions.abort(missing);
        }
        data = DemoDataset.generate(dir.resolve("data"), 9, 1, DemoModel.IMAGE_SIZE, 3);
        init = DemoModel.create(dir.resolve("init"), data.tokenizer(), data.vocabSize(), 3);
    }

    private static String slurmMissing() {
        if (SlurmLaunchTest.class.getResource("/native/linux-x86_64/libvdepmpi.so") == null) {
            return "the MPI collectives library was not built (no mpi.h at build time)";
        }
        for (String[] probe : List.of(new String[] {"mpirun", "--version"}, new String[] {"sinfo", "--noheader"})) {
            try {
                Process p = new ProcessBuilder(probe).redirectErrorStream(true).start();
                String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                if (p.waitFor() != 0) {
                    return String.join(" ", probe) + " failed: " + out.strip();
                }
            } catch (IOException | InterruptedException e) {
                return "no " + probe[0] + " on the PATH (a Slurm cluster is needed)";
            }
        }
        return null;
    }

    private static List<String> trainArgs(Path out) {
        return List.of("train", "--model", init.toString(), "--data", data.train().toString(), "--images", data.dir().toString(),
                "--template", "vicuna_v1", "--stage", "finetune", "--lr", "3e-3", "--batch-size", "4", "--out", out.toString(),
                "--seed", "5", "--warmup-ratio", "0", "--prefetch", "0", "--steps", "3", "--optimizer", "adamw");
    }

    /** Runs {@code launcher... java ... VdepCli args} to its end and returns its exit code and output. */
    private static Result launch(List<String> launcher, List<String> args) throws Exception {
        List<String> cmd = new ArrayList<>(launcher);
        cmd.addAll(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx1g", "-cp",
                System.getProperty("java.class.path"), VdepCli.class.getName()));
        cmd.addAll(args);
        Path log = Files.createTempFile(dir, "launch", ".log");
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
        // as DataParallelTrainTest: one thread per rank, no single-copy shared memory, yielding waits
        pb.environment().put("OMP_NUM_THREADS", "1");
        pb.environment().put("OMPI_MCA_btl_vader_single_copy_mechanism", "none");
        pb.environment().put("OMPI_MCA_mpi_yield_when_idle", "1");
        Process p = pb.start();
        if (!p.waitFor(300, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail(String.join(" ", launcher) + " did not finish within 300 s: " + Files.readString(log));
        }
        return new Result(p.exitValue(), Files.readString(log, StandardCharsets.UTF_8));
    }

    private record Result(int code, String output) {
    }

    private static List<String> srun(String... options) {
        List<String> cmd = new ArrayList<>(List.of("srun", "-n", "2", "--kill-on-bad-exit=1"));
        cmd.addAll(List.of(options));
        return cmd;
    }

    @Test
    void srunWithPmixTrainsLikeMpirun() throws Exception {
        Path viaSrun = dir.resolve("srun");
        Result s = launch(srun("--mpi=pmix"), trainArgs(viaSrun));
        assertEquals(0, s.code(), s.output());
        assertTrue(s.output().contains("data parallel: 2 ranks"), s.output());

        Path viaMpirun = dir.resolve("mpirun");
        Result m = launch(List.of("mpirun", "--allow-run-as-root", "--oversubscribe", "--bind-to", "none", "-n", "2"), trainArgs(viaMpirun));
        assertEquals(0, m.code(), m.output());

        Map<String, Parameter> a = LlavaCheckpoint.load(viaSrun.resolve("final")).model().namedParameters();
        Map<String, Parameter> b = LlavaCheckpoint.load(viaMpirun.resolve("final")).model().namedParameters();
        Map<String, Parameter> start = LlavaCheckpoint.load(init).model().namedParameters();
        assertEquals(a.keySet(), b.keySet());
        boolean moved = false;
        for (String name : a.keySet()) {
            // the same two ranks and the same MPI reduction: the same bits, whichever launcher
            assertEquals(0.0, maxAbsDiff(a.get(name), b.get(name)), 0.0, name + " differs between srun and mpirun");
            moved |= maxAbsDiff(a.get(name), start.get(name)) > 0;
        }
        assertTrue(moved, "the run should have changed the weights");
        assertEquals(Files.readString(viaSrun.resolve("metrics.jsonl")).lines().count(), 3);
    }

    private static double maxAbsDiff(Parameter x, Parameter y) {
        return x.value().sub(y.value()).amaxNumber().doubleValue();
    }

    @Test
    void srunWithoutAnMpiPluginStopsInOneLine() throws Exception {
        Result r = launch(srun("--mpi=none"), trainArgs(dir.resolve("no-pmi")));
        assertNotEquals(0, r.code(), r.output());
        assertTrue(r.output().contains("without a process-management interface for Open MPI"), r.output());
        assertTrue(r.output().lines().noneMatch(l -> l.contains("OPAL ERROR") || l.contains("MPI_Init")), "vdep stops before MPI starts: " + r.output());
        assertTrue(Files.notExists(dir.resolve("no-pmi").resolve("final")), r.output());
    }
}
