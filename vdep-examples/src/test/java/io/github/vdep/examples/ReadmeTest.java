package io.github.vdep.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.vdep.examples.cli.VdepCli;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The README's two set-up commands are the ones CI runs: the first (build, then the demo) is
 * executed exactly as written by .ci/readme-first-command after the suite; the second is .ci/run's
 * test command. This test keeps the three in step and checks the demo command line parses.
 */
class ReadmeTest {
    static final Path ROOT = Path.of("..");

    static List<String> setUpCommands() throws Exception {
        List<String> commands = new ArrayList<>();
        boolean inside = false;
        for (String line : Files.readAllLines(ROOT.resolve("README.md"))) {
            if (line.startsWith("```bash")) {
                inside = true;
            } else if (line.startsWith("```") && inside) {
                break;
            } else if (inside && !line.isBlank() && !line.startsWith("#")) {
                commands.add(line.trim());
            }
        }
        return commands;
    }

    @Test
    void readmeHasExactlyTwoSetUpCommandsAndCiRunsThem() throws Exception {
        List<String> commands = setUpCommands();
        assertEquals(List.of("./mvnw -q -B -DskipTests package && ./vdep demo", "./mvnw -B -ntp verify"), commands);
        String ci = Files.readString(ROOT.resolve(".ci/run"));
        assertTrue(ci.lines().anyMatch(l -> l.trim().equals(commands.get(1))), ".ci/run runs the README's test command");
        assertTrue(ci.contains("readme-first-command"), ".ci/run runs the README's first command");
        assertTrue(Files.isExecutable(ROOT.resolve("vdep")), "the ./vdep launcher is executable");
        assertTrue(Files.isExecutable(ROOT.resolve("mvnw")), "the Maven wrapper is executable");
    }

    @Test
    void theDemoCommandNeedsNoArguments() {
        // `vdep demo --help` parses the same command line the README runs, without running it
        assertEquals(0, VdepCli.execute("demo", "--help"));
    }
}
