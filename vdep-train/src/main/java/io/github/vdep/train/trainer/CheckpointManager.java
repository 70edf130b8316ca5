package io.github.vdep.train.trainer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.vdep.core.autograd.Parameter;
import io.github.vdep.models.hf.CheckpointException;
import io.github.vdep.models.hf.SafeTensorsFile;
import io.github.vdep.models.hf.SafeTensorsWriter;
import io.github.vdep.train.data.DataPosition;
import io.github.vdep.train.optim.Optimizer;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Training checkpoints under {@code out/checkpoints/step-NNNNNNNN/}: the trainable parameters
 * ({@code trainable.safetensors}, full model names), the optimizer state
 * ({@code optimizer.safetensors}) and {@code trainer_state.json} (step, data position, seed, and
 * an adaptive alpha policy's state under {@code alpha_policy}).
 * Frozen parameters are not repeated: they come from the model the run starts from.
 *
 * <p>Atomicity: a checkpoint is written into a hidden {@code .tmp-step-*} directory, flushed to
 * disk, and only then renamed to its final name, after which the {@code latest} pointer is
 * replaced atomically. A crash at any point leaves either the previous checkpoint or the new
 * one, never a half-written directory under a valid name. A write that fails (disk full, output
 * not writable) removes its partial copy and leaves the previous checkpoint and {@code latest} as
 * they were ({@link CheckpointWriteException}).
 */
public final class CheckpointManager {
    private static final Logger LOG = LoggerFactory.getLogger(CheckpointManager.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    static final String TRAINABLE = "trainable.safetensors";
    static final String OPTIMIZER = "optimizer.safetensors";
    static final String STATE = "trainer_state.json";
    static final String LATEST = "latest";

    private final Path root;
    private final int worldSize;
    private final int keep;

    /** A manager keeping every checkpoint. */
    public CheckpointManager(Path root) {
        this(root, 0, 1);
    }

    /**
     * @param root the checkpoints directory
     * @param keep how many of the newest checkpoints to keep (0 = all); older ones are removed only
     *        after a new one is complete
     * @param worldSize the ranks of the data-parallel run writing them: its checkpoints resume only with as many
     */
    public CheckpointManager(Path root, int keep, int worldSize) {
        if (keep < 0) {
            throw new IllegalArgumentException("the number of checkpoints to keep must be >= 0, got " + keep);
        }
        this.root = root;
        this.keep = keep;
        this.worldSize = worldSize;
    }

    public Path root() {
        return root;
    }

    /**
     * Writes a checkpoint for {@code state.step()} and points {@code latest} at it.
     *
     * @throws CheckpointWriteException if it cannot be written (disk full, directory not writable):
     *         the partial copy is removed, the previous checkpoint and {@code latest} are untouched
     */
    public Path save(TrainerState state, Map<String, Parameter> trainable, Optimizer optimizer) {
        String name = String.format("step-%08d", state.step());
        Path tmp = root.resolve(".tmp-" + name);
        Path dir = root.resolve(name);
        try {
            Files.createDirectories(root);
            deleteRecursively(tmp);
            Files.createDirectories(tmp);
            Map<String, INDArray> weights = new TreeMap<>();
            // saving copies device weights back to the host (no copy on the CPU)
            trainable.forEach((n, p) -> weights.put(n, p.to(io.github.vdep.core.device.Device.CPU).value()));
            SafeTensorsWriter.write(tmp.resolve(TRAINABLE), weights, Map.of("format", "pt"));
            SafeTensorsWriter.write(tmp.resolve(OPTIMIZER), new TreeMap<>(optimizer.state()), Map.of("format", "pt", "optimizer", optimizer.name()));
            ObjectNode s = JSON.createObjectNode();
            s.put("step", state.step());
            s.put("epoch", state.position().epoch());
            s.put("consumed", state.position().consumed());
            s.put("bad_steps", state.badSteps());
            s.put("seed", state.seed());
            s.put("optimizer", state.optimizer());
            s.put("trainable_parameters", trainable.size());
            s.put("world_size", worldSize);
            if (!state.alphaState().isEmpty()) {
                ObjectNode alpha = s.putObject("alpha_policy");
                state.alphaState().forEach(alpha::put);
            }
            Files.writeString(tmp.resolve(STATE), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(s));
            fsyncDirectory(tmp);
            deleteRecursively(dir);
            Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
            Path pointer = root.resolve(LATEST + ".tmp");
            Files.writeString(pointer, name);
            Files.move(pointer, root.resolve(LATEST), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException | RuntimeException e) {
            throw failed(name, tmp, e);
        }
        LOG.info("checkpoint written: {}", dir);
        if (keep > 0) {
            prune(dir);
        }
        return dir;
    }

    /**
     * Removes the partial copies ({@code .tmp-step-*}) a killed run left behind; only the run that
     * holds the output (see {@link OutputLock}) may call this.
     */
    public void removePartials() throws IOException {
        if (!Files.isDirectory(root)) {
            return;
        }
        try (Stream<Path> dirs = Files.list(root)) {
            for (Path d : (Iterable<Path>) dirs.filter(d -> d.getFileName().toString().startsWith(".tmp-step-"))::iterator) {
                LOG.info("removing {}, the partial copy of an interrupted checkpoint write", d);
                deleteRecursively(d);
            }
        }
    }

    /** Removes the partial copy and describes the failure with what is left to resume from. */
    private CheckpointWriteException failed(String name, Path tmp, Exception e) {
        try {
            deleteRecursively(tmp);
            Files.deleteIfExists(root.resolve(LATEST + ".tmp"));
        } catch (IOException | RuntimeException cleanup) {
            e.addSuppressed(cleanup);
        }
        String previous;
        try {
            previous = latest().map(p -> "the previous checkpoint " + p + " is intact; continue from it with --resume once the output is writable")
                    .orElse("there is no earlier checkpoint");
        } catch (IOException | RuntimeException scan) {
            previous = "the earlier checkpoints were left as they were";
        }
        String cause = e instanceof CheckpointException ? e.getMessage() : e.toString();
        return new CheckpointWriteException("checkpoint " + name + " could not be written under " + root + " (" + cause + "); " + previous, e);
    }

    /** Keeps the newest {@code keep} complete checkpoints, the one just written always among them. */
    private void prune(Path written) {
        try (Stream<Path> dirs = Files.list(root)) {
            List<Path> complete = dirs.filter(d -> d.getFileName().toString().startsWith("step-") && Files.isRegularFile(d.resolve(STATE))
                    && d.getFileName().toString().compareTo(written.getFileName().toString()) < 0)
                    .sorted(Comparator.comparing((Path d) -> d.getFileName().toString()).reversed()).toList();
            for (Path old : complete.subList(Math.min(complete.size(), keep - 1), complete.size())) {
                deleteRecursively(old);
                LOG.info("removed {} (--save-total-limit {})", old, keep);
            }
        } catch (IOException | RuntimeException e) {
            LOG.warn("could not remove old checkpoints under {}: {}", root, e.toString());
        }
    }

    /** The newest complete checkpoint, if any ({@code latest}, else the highest complete step directory). */
    public Optional<Path> latest() throws IOException {
        Path pointer = root.resolve(LATEST);
        if (Files.isRegularFile(pointer)) {
            Path dir = root.resolve(Files.readString(pointer).trim());
            if (Files.isRegularFile(dir.resolve(STATE))) {
                return Optional.of(dir);
            }
            LOG.warn("{} names {}, which is not a complete checkpoint; scanning for another", pointer, dir);
        }
        if (!Files.isDirectory(root)) {
            return Optional.empty();
        }
        try (Stream<Path> dirs = Files.list(root)) {
            return dirs.filter(d -> d.getFileName().toString().startsWith("step-") && Files.isRegularFile(d.resolve(STATE)))
                    .max(Comparator.comparing(d -> d.getFileName().toString()));
        }
    }

    /** Loads a checkpoint into the trainable parameters and the optimizer; returns its state. */
    public TrainerState load(Path dir, Map<String, Parameter> trainable, Optimizer optimizer) throws IOException {
        JsonNode s;
        try {
            s = JSON.readTree(dir.resolve(STATE).toFile());
        } catch (IOException e) {
            throw new CheckpointException(dir.resolve(STATE), "cannot be read: " + e.getMessage(), e);
        }
        int ranks = s.path("world_size").asInt(1);
        if (ranks != worldSize) {
            throw new CheckpointException(dir.resolve(STATE), "was written by a run of " + ranks + " rank(s) but this run has " + worldSize
                    + "; resume with " + ranks + " rank(s) (the global batch and the data shards depend on it)");
        }
        String opt = s.path("optimizer").asText();
        if (!opt.equals(optimizer.name())) {
            throw new CheckpointException(dir.resolve(STATE), "was written with optimizer '" + opt + "' but this run uses '" + optimizer.name() + "'");
        }
        try (SafeTensorsFile weights = SafeTensorsFile.open(dir.resolve(TRAINABLE))) {
            if (!weights.names().equals(trainable.keySet())) {
                throw new CheckpointException(dir.resolve(TRAINABLE), "holds " + weights.names().size() + " trainable tensors but this run trains "
                        + trainable.size() + " (different --stage or --trainable?)");
            }
            for (Map.Entry<String, Parameter> e : trainable.entrySet()) {
                INDArray v = weights.load(e.getKey(), e.getValue().dataType());
                if (!Arrays.equals(v.shape(), e.getValue().shape())) {
                    throw new CheckpointException(dir.resolve(TRAINABLE), e.getKey(), "has shape " + Arrays.toString(v.shape())
                            + " but the model has " + Arrays.toString(e.getValue().shape()));
                }
                e.getValue().load(v);
            }
        }
        try (SafeTensorsFile state = SafeTensorsFile.open(dir.resolve(OPTIMIZER))) {
            Map<String, INDArray> map = new LinkedHashMap<>();
            for (String n : state.names()) {
                map.put(n, state.load(n));
            }
            optimizer.loadState(map);
        } catch (IllegalArgumentException e) {
            throw new CheckpointException(dir.resolve(OPTIMIZER), e.getMessage(), e);
        }
        Map<String, Double> alpha = new LinkedHashMap<>();
        s.path("alpha_policy").fields().forEachRemaining(e -> alpha.put(e.getKey(), e.getValue().asDouble()));
        return new TrainerState(s.path("step").asLong(), new DataPosition(s.path("epoch").asInt(), s.path("consumed").asLong()),
                s.path("bad_steps").asInt(), s.path("seed").asLong(), opt, alpha);
    }

    private static void fsyncDirectory(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                try (FileChannel ch = FileChannel.open(f, StandardOpenOption.WRITE)) {
                    ch.force(true);
                }
            }
        }
    }

    private static void deleteRecursively(Path p) throws IOException {
        if (!Files.exists(p)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(p)) {
            for (Path q : (Iterable<Path>) walk.sorted(Comparator.reverseOrder())::iterator) {
                Files.delete(q);
            }
        }
    }
}
