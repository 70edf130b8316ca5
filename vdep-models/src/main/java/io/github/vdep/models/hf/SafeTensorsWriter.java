package io.github.vdep.models.hf;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.shape.Shape;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes ND4J arrays as safetensors files readable by Hugging Face tools.
 *
 * <p>Each array is stored in the type that holds it exactly (FLOAT as F32, DOUBLE as F64, HALF as
 * F16, BFLOAT16 as BF16, LONG as I64, INT as I32, SHORT as I16, BYTE as I8, UBYTE as U8, BOOL as
 * BOOL) unless a float dtype is requested, in which case every floating-point array is converted
 * to it (rounding to nearest even). Tensors are written in sorted name order, in row-major order
 * whatever the array's ordering or view, after a header padded with spaces to a multiple of 8
 * bytes. Files are replaced atomically: a crash never leaves a partial file under the final name.
 *
 * <p>Unless the metadata sets {@code "format"}, {@code "format": "pt"} is added, because some
 * versions of {@code transformers} refuse safetensors files without it.
 */
public final class SafeTensorsWriter {

    private static final Logger log = LoggerFactory.getLogger(SafeTensorsWriter.class);

    private static final ObjectMapper JSON = new ObjectMapper();

    /** Size of the staging buffer between Java arrays and the file. */
    private static final int CHUNK_BYTES = 1 << 20;

    private static final long MAX_ARRAY_ELEMENTS = Integer.MAX_VALUE - 8;

    private SafeTensorsWriter() {
    }

    /**
     * Writes tensors to one file, each in its own type.
     *
     * @param file the target file; parent directories are created
     * @param tensors tensors by name
     * @param metadata {@code __metadata__} entries, or {@code null} for none
     * @throws CheckpointException if the file cannot be written
     * @throws IllegalArgumentException for an empty or reserved name, or an unsupported array type
     */
    public static void write(Path file, Map<String, INDArray> tensors, Map<String, String> metadata) {
        write(file, tensors, metadata, null);
    }

    /**
     * Writes tensors to one file, converting every floating-point array to {@code floatDtype}.
     *
     * @param file the target file; parent directories are created
     * @param tensors tensors by name
     * @param metadata {@code __metadata__} entries, or {@code null} for none
     * @param floatDtype F64, F32, F16 or BF16, or {@code null} to keep each array's own type
     * @throws CheckpointException if the file cannot be written
     * @throws IllegalArgumentException for an empty or reserved name, an unsupported array type, or a
     *     non-floating {@code floatDtype}
     */
    public static void write(Path file, Map<String, INDArray> tensors, Map<String, String> metadata,
            SafeTensorDtype floatDtype) {
        Objects.requireNonNull(file, "file");
        List<Entry> entries = plan(tensors, floatDtype);
        writeFile(file, entries, withFormat(metadata));
        log.debug("Wrote {} tensors to {}", entries.size(), file);
    }

    /**
     * Writes tensors as a sharded checkpoint, each tensor in its own type.
     *
     * @param dir the target directory; created if needed
     * @param tensors tensors by name
     * @param maxShardBytes the most tensor data per shard (a larger tensor gets a shard of its own)
     * @return the shard files, in order
     * @throws CheckpointException if a file cannot be written
     * @see #writeSharded(Path, Map, Map, long, SafeTensorDtype)
     */
    public static List<Path> writeSharded(Path dir, Map<String, INDArray> tensors, long maxShardBytes) {
        return writeSharded(dir, tensors, null, maxShardBytes, null);
    }

    /**
     * Writes tensors as a sharded checkpoint: {@code model-0000k-of-0000n.safetensors} files filled
     * in sorted name order up to {@code maxShardBytes} of data each, then
     * {@value ShardedSafeTensors#INDEX_FILE_NAME} with {@code total_size} and the metadata. The
     * index is written last, so it never names a shard that is not complete. Shards of an earlier
     * checkpoint with a different shard count are not deleted.
     *
     * @param dir the target directory; created if needed
     * @param tensors tensors by name
     * @param metadata entries for every shard's {@code __metadata__} and the index's metadata, or
     *     {@code null}
     * @param maxShardBytes the most tensor data per shard (a larger tensor gets a shard of its own)
     * @param floatDtype F64, F32, F16 or BF16, or {@code null} to keep each array's own type
     * @return the shard files, in order
     * @throws CheckpointException if a file cannot be written
     * @throws IllegalArgumentException for a non-positive {@code maxShardBytes}, an empty or
     *     reserved name, an unsupported array type, or a non-floating {@code floatDtype}
     */
    public static List<Path> writeSharded(Path dir, Map<String, INDArray> tensors, Map<String, String> metadata,
            long maxShardBytes, SafeTensorDtype floatDtype) {
        Objects.requireNonNull(dir, "dir");
        if (maxShardBytes <= 0) {
            throw new IllegalArgumentException("maxShardBytes must be positive: " + maxShardBytes);
        }
        List<Entry> entries = plan(tensors, floatDtype);
        List<List<Entry>> shards = new ArrayList<>();
        List<Entry> current = new ArrayList<>();
        long currentBytes = 0;
        long totalBytes = 0;
        for (Entry e : entries) {
            if (!current.isEmpty() && currentBytes + e.bytes() > maxShardBytes) {
                shards.add(current);
                current = new ArrayList<>();
                currentBytes = 0;
            }
            current.add(e);
            currentBytes += e.bytes();
            totalBytes += e.bytes();
        }
        shards.add(current);

        Map<String, String> shardMetadata = withFormat(metadata);
        Map<String, String> weightMap = new TreeMap<>();
        List<Path> files = new ArrayList<>();
        for (int k = 0; k < shards.size(); k++) {
            String name = shardFileName(k + 1, shards.size());
            Path file = dir.resolve(name);
            writeFile(file, shards.get(k), shardMetadata);
            shards.get(k).forEach(e -> weightMap.put(e.name(), name));
            files.add(file);
        }

        ObjectNode index = JSON.createObjectNode();
        ObjectNode indexMetadata = index.putObject("metadata");
        indexMetadata.put("total_size", totalBytes);
        if (metadata != null) {
            new TreeMap<>(metadata).forEach((k, v) -> {
                if (!k.equals("total_size")) {
                    indexMetadata.put(k, v);
                }
            });
        }
        ObjectNode map = index.putObject("weight_map");
        weightMap.forEach(map::put);
        Path indexFile = dir.resolve(ShardedSafeTensors.INDEX_FILE_NAME);
        byte[] indexBytes;
        try {
            indexBytes = JSON.writer(SerializationFeature.INDENT_OUTPUT).writeValueAsBytes(index);
        } catch (JsonProcessingException e) {
            throw new CheckpointException(indexFile, "could not be serialized: " + e.getOriginalMessage(), e);
        }
        AtomicFiles.write(indexFile, channel -> writeFully(channel, ByteBuffer.wrap(indexBytes)));
        log.debug("Wrote {} tensors in {} shards to {}", entries.size(), shards.size(), dir);
        return Collections.unmodifiableList(files);
    }

    /**
     * Writes a model's weights as Hugging Face's {@code save_pretrained} does: tensors are cut into
     * shards in the given order, a new shard starting when the next tensor would take the current
     * one past {@code maxShardBytes} and a tensor larger than that getting a shard of its own
     * ({@code huggingface_hub.split_torch_state_dict_into_shards}). One shard is written as
     * {@value SafeTensorsFile#DEFAULT_FILE_NAME}; more as {@code model-0000k-of-0000n.safetensors}
     * with {@value ShardedSafeTensors#INDEX_FILE_NAME} ({@code metadata.total_size} and
     * {@code weight_map}, formatted as Python's {@code json.dumps(indent=2, sort_keys=True)}),
     * written after the shards. Weight files of an earlier save in {@code dir} that this one does
     * not replace are then deleted, as {@code save_pretrained} does, so the directory never mixes
     * two checkpoints. Every shard's {@code __metadata__} is {@code {"format": "pt"}}.
     *
     * @param dir the target directory; created if needed
     * @param tensors tensors by name, in the model's order (the order decides the shards)
     * @param options the floating-point type and the shard size
     * @return the weight files written, in order
     * @throws CheckpointException if a file cannot be written or a stale one deleted
     */
    public static List<Path> writePretrained(Path dir, Map<String, INDArray> tensors, SaveOptions options) {
        Objects.requireNonNull(dir, "dir");
        Objects.requireNonNull(options, "options");
        List<Entry> entries = plan(tensors, options.dtype(), false);
        long max = options.maxShardBytes();
        List<List<Entry>> shards = new ArrayList<>();
        List<Entry> current = new ArrayList<>();
        long currentBytes = 0;
        long totalBytes = 0;
        for (Entry e : entries) {
            totalBytes += e.bytes();
            if (e.bytes() > max) {
                shards.add(List.of(e));
                continue;
            }
            if (currentBytes + e.bytes() > max) {
                shards.add(current);
                current = new ArrayList<>();
                currentBytes = 0;
            }
            current.add(e);
            currentBytes += e.bytes();
        }
        if (!current.isEmpty() || shards.isEmpty()) {
            shards.add(current);
        }
        Map<String, String> metadata = withFormat(null);
        List<Path> files = new ArrayList<>();
        Map<String, String> weightMap = new TreeMap<>();
        for (int k = 0; k < shards.size(); k++) {
            String name = shards.size() == 1 ? SafeTensorsFile.DEFAULT_FILE_NAME : shardFileName(k + 1, shards.size());
            List<Entry> shard = new ArrayList<>(shards.get(k));
            shard.sort(java.util.Comparator.comparing(Entry::name));
            Path file = dir.resolve(name);
            writeFile(file, shard, metadata);
            shard.forEach(e -> weightMap.put(e.name(), name));
            files.add(file);
        }
        java.util.Set<Path> keep = new java.util.HashSet<>(files);
        if (shards.size() > 1) {
            Path indexFile = dir.resolve(ShardedSafeTensors.INDEX_FILE_NAME);
            byte[] index = pythonIndexJson(totalBytes, weightMap).getBytes(java.nio.charset.StandardCharsets.UTF_8);
            AtomicFiles.write(indexFile, channel -> writeFully(channel, ByteBuffer.wrap(index)));
            keep.add(indexFile);
        }
        deleteStaleWeights(dir, keep);
        log.debug("Wrote {} tensors as {} in {} file(s) to {}", entries.size(), options.dtype(), files.size(), dir);
        return Collections.unmodifiableList(files);
    }

    /** What {@code json.dumps(index, indent=2, sort_keys=True) + "\n"} gives for a shard index. */
    private static String pythonIndexJson(long totalBytes, Map<String, String> sortedWeightMap) {
        StringBuilder b = new StringBuilder();
        b.append("{\n  \"metadata\": {\n    \"total_size\": ").append(totalBytes).append("\n  },\n  \"weight_map\": {");
        String sep = "\n";
        for (Map.Entry<String, String> e : sortedWeightMap.entrySet()) {
            b.append(sep).append("    ").append(pythonString(e.getKey())).append(": ").append(pythonString(e.getValue()));
            sep = ",\n";
        }
        b.append(sortedWeightMap.isEmpty() ? "}" : "\n  }").append("\n}\n");
        return b.toString();
    }

    /** A JSON string as Python's json module writes it (ensure_ascii: non-ASCII as \\uXXXX). */
    private static String pythonString(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                case '\b' -> b.append("\\b");
                case '\f' -> b.append("\\f");
                default -> {
                    if (c < 0x20 || c > 0x7f) {
                        b.append(String.format("\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        return b.append('"').toString();
    }

    /** Deletes model.safetensors, model-*-of-*.safetensors and their index when not in {@code keep}. */
    private static void deleteStaleWeights(Path dir, java.util.Set<Path> keep) {
        java.util.regex.Pattern weights = java.util.regex.Pattern.compile(
                "model(-\\d{5}-of-\\d{5})?\\.safetensors|" + java.util.regex.Pattern.quote(ShardedSafeTensors.INDEX_FILE_NAME));
        try (java.util.stream.Stream<Path> listing = java.nio.file.Files.list(dir)) {
            for (Path f : listing.toList()) {
                if (!keep.contains(f) && weights.matcher(f.getFileName().toString()).matches()) {
                    java.nio.file.Files.delete(f);
                    log.debug("Deleted {} left by an earlier save", f);
                }
            }
        } catch (IOException e) {
            throw new CheckpointException(dir, "could not delete the weight files of an earlier save: " + e, e);
        }
    }

    /**
     * Returns the Hugging Face name of shard {@code k} of {@code n}.
     *
     * @param k the 1-based shard number
     * @param n the number of shards
     * @return e.g. {@code model-00001-of-00003.safetensors}
     */
    public static String shardFileName(int k, int n) {
        return String.format("model-%05d-of-%05d.safetensors", k, n);
    }

    /** One tensor to write, with its on-disk type and data size. */
    private record Entry(String name, INDArray array, SafeTensorDtype dtype, long[] shape, long bytes) {
    }

    private static List<Entry> plan(Map<String, INDArray> tensors, SafeTensorDtype floatDtype) {
        return plan(tensors, floatDtype, true);
    }

    private static List<Entry> plan(Map<String, INDArray> tensors, SafeTensorDtype floatDtype, boolean sorted) {
        Objects.requireNonNull(tensors, "tensors");
        if (floatDtype != null && !floatDtype.isFloatingPoint()) {
            throw new IllegalArgumentException("floatDtype must be a floating-point type: " + floatDtype);
        }
        List<Entry> entries = new ArrayList<>();
        for (Map.Entry<String, INDArray> e : (sorted ? new TreeMap<>(tensors) : tensors).entrySet()) {
            String name = e.getKey();
            INDArray array = e.getValue();
            if (name.isEmpty() || name.equals("__metadata__")) {
                throw new IllegalArgumentException("invalid tensor name '" + name + "'");
            }
            Objects.requireNonNull(array, () -> "tensor '" + name + "' is null");
            SafeTensorDtype dtype;
            try {
                dtype = floatDtype != null && array.dataType().isFPType()
                        ? floatDtype : SafeTensorDtype.of(array.dataType());
            } catch (IllegalArgumentException ex) {
                throw new IllegalArgumentException("tensor '" + name + "': " + ex.getMessage(), ex);
            }
            if (array.length() > MAX_ARRAY_ELEMENTS) {
                throw new IllegalArgumentException("tensor '" + name + "' has more than 2^31 - 9 elements");
            }
            entries.add(new Entry(name, array, dtype, array.shape(), array.length() * dtype.byteSize()));
        }
        return entries;
    }

    private static Map<String, String> withFormat(Map<String, String> metadata) {
        Map<String, String> result = new TreeMap<>();
        if (metadata != null) {
            result.putAll(metadata);
        }
        result.putIfAbsent("format", "pt");
        return result;
    }

    private static void writeFile(Path file, List<Entry> entries, Map<String, String> metadata) {
        // __metadata__ first, then the tensors in order, as the reference implementation does.
        ObjectNode header = JSON.createObjectNode();
        if (!metadata.isEmpty()) {
            ObjectNode meta = header.putObject("__metadata__");
            metadata.forEach(meta::put);
        }
        long offset = 0;
        for (Entry e : entries) {
            ObjectNode node = header.putObject(e.name());
            node.put("dtype", e.dtype().name());
            ArrayNode shape = node.putArray("shape");
            Arrays.stream(e.shape()).forEach(shape::add);
            node.putArray("data_offsets").add(offset).add(offset + e.bytes());
            offset += e.bytes();
        }
        byte[] json;
        try {
            json = JSON.writeValueAsBytes(header);
        } catch (JsonProcessingException ex) {
            throw new CheckpointException(file, "header could not be serialized: " + ex.getOriginalMessage(), ex);
        }
        // Padding to 8 bytes keeps every tensor aligned for zero-copy readers.
        int padded = (json.length + 7) & ~7;
        ByteBuffer head = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
        head.putLong(padded).put(json);
        while (head.hasRemaining()) {
            head.put((byte) ' ');
        }
        head.flip();
        AtomicFiles.write(file, channel -> {
            writeFully(channel, head);
            ByteBuffer buffer = ByteBuffer.allocateDirect(CHUNK_BYTES).order(ByteOrder.LITTLE_ENDIAN);
            for (Entry e : entries) {
                writeData(channel, e, buffer);
            }
        });
    }

    /** Fills {@code buffer} (cleared, little-endian) with elements {@code [from, from + count)}. */
    @FunctionalInterface
    private interface Filler {
        void fill(ByteBuffer buffer, int from, int count);
    }

    private static void writeData(FileChannel channel, Entry e, ByteBuffer buffer) throws IOException {
        INDArray array = rowMajor(e.array());
        int n = (int) array.length();
        if (n == 0) {
            return;
        }
        Filler filler = switch (e.dtype()) {
            case F64 -> {
                double[] src = array.data().asDouble();
                yield (b, from, count) -> b.asDoubleBuffer().put(src, from, count);
            }
            case F32 -> {
                float[] src = array.data().asFloat();
                yield (b, from, count) -> b.asFloatBuffer().put(src, from, count);
            }
            case F16 -> {
                float[] src = array.data().asFloat();
                yield (b, from, count) -> {
                    for (int i = from; i < from + count; i++) {
                        b.putShort(HalfPrecision.floatToF16Bits(src[i]));
                    }
                };
            }
            case BF16 -> {
                float[] src = array.data().asFloat();
                yield (b, from, count) -> {
                    for (int i = from; i < from + count; i++) {
                        b.putShort(HalfPrecision.floatToBf16Bits(src[i]));
                    }
                };
            }
            case I64 -> {
                long[] src = array.data().asLong();
                yield (b, from, count) -> b.asLongBuffer().put(src, from, count);
            }
            case I32 -> {
                int[] src = array.data().asInt();
                yield (b, from, count) -> b.asIntBuffer().put(src, from, count);
            }
            case I16 -> {
                int[] src = array.data().asInt();
                yield (b, from, count) -> {
                    for (int i = from; i < from + count; i++) {
                        b.putShort((short) src[i]);
                    }
                };
            }
            case I8, U8 -> {
                int[] src = array.data().asInt();
                yield (b, from, count) -> {
                    for (int i = from; i < from + count; i++) {
                        b.put((byte) src[i]);
                    }
                };
            }
            case BOOL -> {
                int[] src = array.data().asInt();
                yield (b, from, count) -> {
                    for (int i = from; i < from + count; i++) {
                        b.put(src[i] != 0 ? (byte) 1 : (byte) 0);
                    }
                };
            }
        };
        int size = e.dtype().byteSize();
        int perChunk = buffer.capacity() / size;
        for (int from = 0; from < n; from += perChunk) {
            int count = Math.min(perChunk, n - from);
            buffer.clear();
            filler.fill(buffer, from, count);
            // View-buffer puts do not move the byte buffer's position, so set the bounds explicitly.
            buffer.position(0).limit(count * size);
            writeFully(channel, buffer);
        }
    }

    /** Returns the array itself when its buffer already is exactly its row-major content. */
    @SuppressWarnings("try") // the workspace scope is used only for its side effect
    private static INDArray rowMajor(INDArray array) {
        if (array.isEmpty()) {
            return array;
        }
        boolean dense = array.ordering() == 'c'
                && !array.isView()
                && array.offset() == 0
                && Shape.hasDefaultStridesForShape(array)
                && array.data().length() == array.length();
        if (dense) {
            return array;
        }
        // A temporary copy: keep it out of any workspace the caller may have open.
        try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
            return array.dup('c');
        }
    }

    private static void writeFully(FileChannel channel, ByteBuffer buffer) throws IOException {
        while (buffer.hasRemaining()) {
            channel.write(buffer);
        }
    }
}
