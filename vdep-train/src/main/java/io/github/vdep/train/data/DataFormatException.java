package io.github.vdep.train.data;

import java.nio.file.Path;

/**
 * A data file that cannot be read as a LLaVA JSON list or JSON Lines file (invalid JSON, not a
 * list, unreadable). The message names the file and the line (and column where known). Problems
 * inside one otherwise parseable record are not file errors: see {@link BadRecordException}.
 */
public class DataFormatException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /** Not serialised: {@link Path} implementations are not serialisable. */
    private final transient Path file;
    private final long line;
    private final long column;

    /**
     * @param file    the offending file
     * @param line    1-based line number, or -1 when unknown
     * @param column  1-based column number, or -1 when unknown
     * @param problem what is wrong
     * @param cause   the underlying error, may be null
     */
    public DataFormatException(Path file, long line, long column, String problem, Throwable cause) {
        super(format(file, line, column, problem), cause);
        this.file = file;
        this.line = line;
        this.column = column;
    }

    private static String format(Path file, long line, long column, String problem) {
        StringBuilder sb = new StringBuilder("Invalid data file ").append(file);
        if (line > 0) {
            sb.append(", line ").append(line);
            if (column > 0) {
                sb.append(", column ").append(column);
            }
        }
        return sb.append(": ").append(problem).toString();
    }

    /** @return the offending file */
    public Path file() {
        return file;
    }

    /** @return the 1-based line number, or -1 when unknown */
    public long line() {
        return line;
    }

    /** @return the 1-based column number, or -1 when unknown */
    public long column() {
        return column;
    }
}
