package io.github.vdep.examples.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/** The command line run in this JVM with its stdout and stderr captured (for the CLI tests). */
record CapturedRun(int code, String out, String err) {

    static CapturedRun of(String... args) {
        PrintStream out = System.out;
        PrintStream err = System.err;
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        ByteArrayOutputStream e = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(o, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(e, true, StandardCharsets.UTF_8));
            int code = VdepCli.execute(args);
            return new CapturedRun(code, o.toString(StandardCharsets.UTF_8), e.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
    }

    /** Runs {@code args}, failing (with both outputs) unless the exit code is {@code expectedExit}: {stdout, stderr}. */
    static String[] expect(int expectedExit, String... args) {
        CapturedRun r = of(args);
        assertEquals(expectedExit, r.code, "exit code; stdout:\n" + r.out + "\nstderr:\n" + r.err);
        return new String[] {r.out, r.err};
    }

    /** {exit code, stdout, stderr}. */
    Object[] asArray() {
        return new Object[] {code, out, err};
    }
}
