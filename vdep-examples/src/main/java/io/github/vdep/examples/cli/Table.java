package io.github.vdep.examples.cli;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;

/** A plain-text summary table printed at the end of a command. */
public final class Table {
    private final List<String[]> rows = new ArrayList<>();

    private Table(String... header) {
        rows.add(header);
    }

    public static Table of(String... header) {
        return new Table(header);
    }

    public Table row(String... cells) {
        rows.add(cells);
        return this;
    }

    public void print(PrintStream out) {
        int cols = rows.get(0).length;
        int[] width = new int[cols];
        for (String[] r : rows) {
            for (int i = 0; i < cols; i++) {
                width[i] = Math.max(width[i], r[i].length());
            }
        }
        StringBuilder sep = new StringBuilder("+");
        for (int w : width) {
            sep.append("-".repeat(w + 2)).append('+');
        }
        out.println(sep);
        for (int j = 0; j < rows.size(); j++) {
            StringBuilder line = new StringBuilder("|");
            for (int i = 0; i < cols; i++) {
                line.append(' ').append(rows.get(j)[i]).append(" ".repeat(width[i] - rows.get(j)[i].length())).append(" |");
            }
            out.println(line);
            if (j == 0) {
                out.println(sep);
            }
        }
        out.println(sep);
    }
}
