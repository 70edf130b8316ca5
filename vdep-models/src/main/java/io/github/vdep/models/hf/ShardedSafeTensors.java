package io.github.vdep.models.hf;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A checkpoint split over several files, described by an index such as
 * {@code model.safetensors.index.json}:
 * {@code {"metadata": {...}, "weight_map": {"tensor name": "model-00001-of-00002.safetensors"}}}.
 * The shards may be safetensors files or PyTorch {@code .bin} files (with
 * {@value TorchCheckpointFile#INDEX_FILE_NAME}); each is opened by {@link TensorSources#openFile(Path)}.
 *
 * <p>Every shard named by the index must exist when the checkpoint is opened; a shard is mapped
 * and its header parsed only when one of its tensors is first used. Instances are safe for
 * concurrent use.
 */
public final class ShardedSafeTensors implements TensorSource {

    /** Conventional name of the index of a sharded Hugging Face checkpoint. */
    public static final String INDEX_FILE_NAME = "model.safetensors.index.json";

    private static final Logger log = LoggerFactory.getLogger(ShardedSafeTensors.class);

    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private final Path indexFile;
    private final Map<String, Path> weightMap;
    private final Map<String, String> metadata;
    private final Map<Path, TensorSource> openShards = new LinkedHashMap<>();
    private boolean closed;

    private ShardedSafeTensors(Path indexFile, Map<String, Path> weightMap, Map<String, String> metadata) {
        this.indexFile = indexFile;
        this.weightMap = weightMap;
        this.metadata = metadata;
    }

    /**
     * Opens the sharded checkpoint in a directory through its {@value #INDEX_FILE_NAME}.
     *
     * @param dir the checkpoint directory
     * @return the checkpoint; close it to release the shards it opened
     * @throws CheckpointException if the index is missing or malformed, or a shard is missing
     */
    public static ShardedSafeTensors open(Path dir) {
        return openIndex(dir.resolve(INDEX_FILE_NAME));
    }

    /**
     * Opens a sharded checkpoint through an index file of any name; shard names are resolved
     * against the index's directory.
     *
     * @param indexFile the index JSON file
     * @return the checkpoint; close it to release the shards it opened
     * @throws CheckpointException if the index is missing or malformed, or a shard is missing
     */
    public static ShardedSafeTensors openIndex(Path indexFile) {
        Objects.requireNonNull(indexFile, "indexFile");
        JsonNode root;
        try {
            root = JSON.readTree(Files.readAllBytes(indexFile));
        } catch (NoSuchFileException e) {
            throw new CheckpointException(indexFile, "file not found", e);
        } catch (JsonProcessingException e) {
            throw new CheckpointException(indexFile, "is not valid JSON: " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new CheckpointException(indexFile, "cannot be read: " + e, e);
        }
        if (root == null || !root.isObject()) {
            throw new CheckpointException(indexFile, "is not a JSON object");
        }
        JsonNode map = root.get("weight_map");
        if (map == null || !map.isObject()) {
            throw new CheckpointException(indexFile, "has no \"weight_map\" object");
        }
        Path dir = indexFile.toAbsolutePath().getParent();
        Map<String, Path> weightMap = new TreeMap<>();
        Set<Path> shards = new TreeSet<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = map.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!e.getValue().isTextual()) {
                throw new CheckpointException(indexFile, e.getKey(), "maps to a non-string shard name: " + e.getValue());
            }
            Path shard = dir.resolve(e.getValue().textValue()).normalize();
            // Index files are downloaded from the internet: never follow them out of the checkpoint.
            if (!shard.startsWith(dir.normalize())) {
                throw new CheckpointException(indexFile, e.getKey(), "maps to '" + e.getValue().textValue()
                        + "', which lies outside the checkpoint directory");
            }
            weightMap.put(e.getKey(), shard);
            shards.add(shard);
        }
        for (Path shard : shards) {
            if (!Files.isRegularFile(shard)) {
                throw new CheckpointException(indexFile, "names shard '" + shard.getFileName()
                        + "', which does not exist in " + dir);
            }
        }
        Map<String, String> metadata = new LinkedHashMap<>();
        JsonNode meta = root.get("metadata");
        if (meta != null && !meta.isNull()) {
            if (!meta.isObject()) {
                throw new CheckpointException(indexFile, "\"metadata\" is not a JSON object");
            }
            // Values such as total_size are numbers in real indexes; keep them as their JSON text.
            meta.fields().forEachRemaining(e -> metadata.put(e.getKey(),
                    e.getValue().isTextual() ? e.getValue().textValue() : e.getValue().toString()));
        }
        log.debug("Opened {}: {} tensors in {} shards", indexFile, weightMap.size(), shards.size());
        return new ShardedSafeTensors(indexFile, Collections.unmodifiableMap(weightMap),
                Collections.unmodifiableMap(metadata));
    }

    /**
     * Returns the index file this checkpoint was opened from.
     *
     * @return the index path
     */
    public Path indexFile() {
        return indexFile;
    }

    /**
     * Returns the shard files, each once.
     *
     * @return the distinct shard paths named by the index, sorted
     */
    public Set<Path> shardFiles() {
        return Collections.unmodifiableSet(new TreeSet<>(weightMap.values()));
    }

    /**
     * Returns the index's {@code metadata} object; non-string values (such as {@code total_size})
     * are given as their JSON text.
     *
     * @return an unmodifiable map, empty when the index has none
     */
    @Override
    public Map<String, String> metadata() {
        return metadata;
    }

    @Override
    public Set<String> names() {
        return weightMap.keySet();
    }

    @Override
    public TensorInfo info(String name) {
        return shardFor(name).info(name);
    }

    @Override
    public INDArray load(String name) {
        return shardFor(name).load(name);
    }

    @Override
    public INDArray load(String name, DataType target) {
        return shardFor(name).load(name, target);
    }

    @Override
    public Path fileOf(String name) {
        return shardPath(name);
    }

    @Override
    public synchronized void close() {
        closed = true;
        for (TensorSource shard : openShards.values()) {
            shard.close();
        }
        openShards.clear();
    }

    @Override
    public String toString() {
        return "ShardedSafeTensors[" + indexFile + ", " + weightMap.size() + " tensors]";
    }

    private Path shardPath(String name) {
        Path shard = weightMap.get(name);
        if (shard == null) {
            throw new CheckpointException(indexFile, name, "is not in the weight_map (" + weightMap.size() + " tensors)");
        }
        return shard;
    }

    /** Opens the tensor's shard on first use and checks that the shard really holds the tensor. */
    private TensorSource shardFor(String name) {
        Path path = shardPath(name);
        TensorSource shard;
        synchronized (this) {
            if (closed) {
                throw new IllegalStateException(indexFile + ": already closed");
            }
            shard = openShards.get(path);
            if (shard == null) {
                shard = TensorSources.openFile(path);
                openShards.put(path, shard);
            }
        }
        if (!shard.names().contains(name)) {
            throw new CheckpointException(path, name, "is mapped to this shard by " + indexFile.getFileName()
                    + " but the shard does not contain it");
        }
        return shard;
    }
}
