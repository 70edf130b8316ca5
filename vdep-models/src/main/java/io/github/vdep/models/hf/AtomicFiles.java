package io.github.vdep.models.hf;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ThreadLocalRandom;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes a file so that its final name only ever refers to complete content: the data goes to a
 * hidden temporary file in the same directory, is flushed to disk, and is then renamed over the
 * target. A crash leaves at worst a stray {@code .*.tmp} file, never a half-written target.
 */
final class AtomicFiles {

    private static final Logger log = LoggerFactory.getLogger(AtomicFiles.class);

    /** Produces the file content. */
    @FunctionalInterface
    interface Body {
        void writeTo(FileChannel channel) throws IOException;
    }

    private AtomicFiles() {
    }

    /**
     * Writes {@code target} atomically, creating its parent directories.
     *
     * @throws CheckpointException naming {@code target} if anything fails; the target is then untouched
     */
    static void write(Path target, Body body) {
        Path dir = target.toAbsolutePath().getParent();
        // Not Files.createTempFile: its owner-only permissions would stick to the renamed checkpoint.
        Path tmp = dir.resolve("." + target.getFileName() + "."
                + Long.toHexString(ThreadLocalRandom.current().nextLong()) + ".tmp");
        boolean moved = false;
        try {
            Files.createDirectories(dir);
            try (FileChannel channel = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                body.writeTo(channel);
                // Without this, a crash soon after the rename can leave the new name with missing data.
                channel.force(true);
            }
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                log.warn("{} does not support atomic renames; replacing {} non-atomically", dir, target);
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
            }
            moved = true;
            syncDirectory(dir);
        } catch (IOException e) {
            throw new CheckpointException(target, "could not be written: " + e, e);
        } finally {
            if (!moved) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException e) {
                    log.warn("Could not delete temporary file {}", tmp, e);
                }
            }
        }
    }

    /** Persists the rename itself; possible on Linux/macOS, not on every platform, hence best effort. */
    private static void syncDirectory(Path dir) {
        try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
            channel.force(true);
        } catch (IOException | UnsupportedOperationException e) {
            log.debug("Could not sync directory {}", dir, e);
        }
    }
}
