package io.github.vdep.examples.library;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.vdep.examples.cli.VdepCli;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * Every complete {@code ./vdep ...} command line in the user guides' bash blocks parses: the
 * command exists, every option exists, required options are there and values convert. (Lines
 * with {@code ...} placeholders are skipped; nothing is run.)
 */
class DocsCommandLinesTest {
    static final Path DOCS = Path.of("..", "docs");
    static final List<String> GUIDES = List.of("getting-started.md", "real-checkpoints.md", "cuda.md", "evaluation.md", "distributed.md");

    /** The ./vdep command lines of a markdown file's bash blocks, continuation lines joined. */
    static List<String> commandLines(Path file) throws Exception {
        List<String> out = new ArrayList<>();
        boolean inside = false;
        StringBuilder pending = new StringBuilder();
        for (String line : Files.readAllLines(file)) {
            if (!inside) {
                inside = line.startsWith("```bash");
                continue;
            }
            if (line.startsWith("```")) {
                inside = false;
                continue;
            }
            String trimmed = stripComment(line).strip();
            if (trimmed.endsWith("\\")) {
                pending.append(trimmed, 0, trimmed.length() - 1).append(' ');
                continue;
            }
            String full = pending.append(trimmed).toString();
            pending.setLength(0);
            int at = full.indexOf("./vdep ");
            if (at >= 0 && !full.contains("...")) {
                out.add(full.substring(at + "./vdep ".length()));
            }
        }
        return out;
    }

    private static String stripComment(String line) {
        boolean quoted = false;
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (c == '"') {
                quoted = !quoted;
            } else if (c == '#' && !quoted && (i == 0 || Character.isWhitespace(line.charAt(i - 1)))) {
                return line.substring(0, i);
            }
        }
        return line;
    }

    /** Splits on spaces, keeping double-quoted words together (enough for the guides). */
    static String[] words(String commandLine) {
        List<String> words = new ArrayList<>();
        StringBuilder w = new StringBuilder();
        boolean quoted = false;
        for (char c : commandLine.toCharArray()) {
            if (c == '"') {
                quoted = !quoted;
            } else if (c == ' ' && !quoted) {
                if (w.length() > 0) {
                    words.add(w.toString());
                    w.setLength(0);
                }
            } else {
                w.append(c);
            }
        }
        if (w.length() > 0) {
            words.add(w.toString());
        }
        return words.toArray(String[]::new);
    }

    @Test
    void everyDocumentedCommandLineParses() throws Exception {
        int checked = 0;
        for (String guide : GUIDES) {
            for (String line : commandLines(DOCS.resolve(guide))) {
                String[] args = words(line);
                assertDoesNotThrow(() -> new CommandLine(new VdepCli()).parseArgs(args), guide + ": ./vdep " + line);
                checked++;
            }
        }
        // getting-started: demo, train, resume, eval, generate, attention-map; real-checkpoints: two recipes; cuda: demo
        assertTrue(checked >= 9, "found only " + checked + " command lines");
    }

    @Test
    void aMistypedOptionIsCaught() {
        String[] args = words("train --model m --data d.json --out o --grad-acum 2");
        assertTrue(assertThrowsParse(args), "an unknown option must fail to parse");
    }

    private static boolean assertThrowsParse(String[] args) {
        try {
            new CommandLine(new VdepCli()).parseArgs(args);
            return false;
        } catch (CommandLine.ParameterException e) {
            return true;
        }
    }
}
