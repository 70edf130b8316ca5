package io.github.vdep.train.trainer;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;

/**
 * An exclusive lock on a run's output directory ({@code out/.lock}), so that two runs with the same
 * output cannot interleave their checkpoints and metrics. The lock is the operating system's
 * ({@link FileChannel#tryLock()}): it ends with the process that holds it, even on SIGKILL, so a
 * stale lock file never blocks a later run. The file records the holder's process id and start
 * time, which the refusal names.
 */
public final class OutputLock implements AutoCloseable {
    /** The lock file's name inside the output directory. */
    public static final String FILE = ".lock";

    private final Path file;
    private final FileChannel channel;
    private final FileLock lock;

    private OutputLock(Path file, FileChannel channel, FileLock lock) {
        this.file = file;
        this.channel = channel;
        this.lock = lock;
    }

    /**
     * Takes the lock, creating the directory.
     *
     * @param outDir the output directory
     * @param what what holds it, written to the lock file (e.g. {@code "vdep train"})
     * @throws OutputLockedException naming the lock file and the process holding it
     * @throws IOException if the directory or the lock file cannot be created
     */
    public static OutputLock acquire(Path outDir, String what) throws IOException {
        Files.createDirectories(outDir);
        Path file = outDir.resolve(FILE);
        FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
        FileLock lock;
        try {
            lock = channel.tryLock();
        } catch (OverlappingFileLockException e) {
            lock = null; // held by this very process
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
        if (lock == null) {
            String holder = Files.readString(file, StandardCharsets.UTF_8).trim().replace('\n', ' ');
            channel.close();
            throw new OutputLockedException(outDir + " is in use by another run: " + file + " is locked by "
                    + (holder.isEmpty() ? "another process" : holder) + "; wait for it to finish or choose another --out");
        }
        try {
            String info = "process " + ProcessHandle.current().pid() + " (" + what + ", started " + Instant.now() + ")\n";
            channel.truncate(0);
            channel.write(ByteBuffer.wrap(info.getBytes(StandardCharsets.UTF_8)), 0);
            channel.force(true);
        } catch (IOException e) {
            lock.release();
            channel.close();
            throw e;
        }
        return new OutputLock(file, channel, lock);
    }

    /** @return the lock file */
    public Path file() {
        return file;
    }

    /** Releases the lock (the file stays: deleting it could race with a run that just opened it). */
    @Override
    public void close() throws IOException {
        try {
            lock.release();
        } finally {
            channel.close();
        }
    }

    /** The output directory is locked by another run. */
    public static final class OutputLockedException extends IllegalStateException {
        private static final long serialVersionUID = 1L;

        OutputLockedException(String message) {
            super(message);
        }
    }
}
