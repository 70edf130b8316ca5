package io.github.vdep.models.hf;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One safetensors file, memory-mapped read-only.
 *
 * <p>Layout: an 8-byte little-endian header length N, N bytes of UTF-8 JSON mapping tensor names
 * to {@code {"dtype", "shape", "data_offsets"}} (plus an optional {@code "__metadata__"} map of
 * strings), then the data section, to which the offsets are relative. The header is fully
 * validated by {@link #open(Path)}; tensor data is mapped only while a tensor is loaded, in
 * pieces of at most 1 GiB, so files and tensors beyond 2 GB work.
 *
 * <p>Instances are safe for concurrent {@code load} calls.
 */
public final class SafeTensorsFile implements TensorSource {

    /** Conventional name of a single-file Hugging Face checkpoint. */
    public static final String DEFAULT_FILE_NAME = "model.safetensors";

    /** Same limit as the reference implementation: anything larger is not a real header. */
    static final long MAX_HEADER_BYTES = 100_000_000L;

    /** A multiple of every element size, so no element straddles two mapped pieces. */
    static final long DEFAULT_MAP_CHUNK_BYTES = 1L << 30;

    /** Java arrays cannot be larger than this (VM header words). */
    private static final long MAX_ARRAY_ELEMENTS = Integer.MAX_VALUE - 8;

    private static final String METADATA_KEY = "__metadata__";

    private static final Logger log = LoggerFactory.getLogger(SafeTensorsFile.class);

    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private final Path file;
    private final FileChannel channel;
    private final long dataStart;
    private final long mapChunkBytes;
    private final Map<String, TensorInfo> tensors;
    private final Map<String, String> metadata;

    private SafeTensorsFile(Path file, FileChannel channel, long dataStart, long mapChunkBytes,
            Map<String, TensorInfo> tensors, Map<String, String> metadata) {
        this.file = file;
        this.channel = channel;
        this.dataStart = dataStart;
        this.mapChunkBytes = mapChunkBytes;
        this.tensors = tensors;
        this.metadata = metadata;
    }

    /**
     * Opens a safetensors file and validates its header.
     *
     * @param file the file
     * @return the open file; close it to release the file handle
     * @throws CheckpointException if the file is missing, unreadable, or not a valid safetensors
     *     file (bad header length, invalid JSON, unknown dtype, offsets inconsistent with the shape,
     *     outside the data section, or overlapping)
     */
    public static SafeTensorsFile open(Path file) {
        return open(file, DEFAULT_MAP_CHUNK_BYTES);
    }

    /** As {@link #open(Path)}, mapping data in pieces of {@code mapChunkBytes} (tests use tiny ones). */
    static SafeTensorsFile open(Path file, long mapChunkBytes) {
        Objects.requireNonNull(file, "file");
        if (mapChunkBytes <= 0 || mapChunkBytes % 8 != 0 || mapChunkBytes > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("map chunk size must be a positive multiple of 8 below 2^31: " + mapChunkBytes);
        }
        FileChannel channel;
        try {
            channel = FileChannel.open(file, StandardOpenOption.READ);
        } catch (NoSuchFileException e) {
            throw new CheckpointException(file, "file not found", e);
        } catch (IOException e) {
            throw new CheckpointException(file, "cannot be opened: " + e, e);
        }
        try {
            SafeTensorsFile opened = readHeader(file, channel, mapChunkBytes);
            log.debug("Opened {}: {} tensors, data section at byte {}", file, opened.tensors.size(), opened.dataStart);
            return opened;
        } catch (RuntimeException e) {
            closeQuietly(channel);
            throw e;
        } catch (IOException e) {
            closeQuietly(channel);
            throw new CheckpointException(file, "header could not be read: " + e, e);
        }
    }

    /**
     * Returns the path this file was opened from.
     *
     * @return the path
     */
    public Path path() {
        return file;
    }

    /**
     * Returns the {@code __metadata__} header entry.
     *
     * @return an unmodifiable map, empty when the header has none
     */
    @Override
    public Map<String, String> metadata() {
        return metadata;
    }

    @Override
    public Set<String> names() {
        return tensors.keySet();
    }

    @Override
    public TensorInfo info(String name) {
        TensorInfo info = tensors.get(name);
        if (info == null) {
            throw new CheckpointException(file, name, "is not in this file (" + tensors.size() + " tensors)");
        }
        return info;
    }

    @Override
    public INDArray load(String name) {
        TensorInfo info = info(name);
        return read(info, info.dtype().defaultDataType());
    }

    @Override
    public INDArray load(String name, DataType target) {
        Objects.requireNonNull(target, "target");
        if (!target.isNumerical() && target != DataType.BOOL) {
            throw new IllegalArgumentException("cannot load a tensor as " + target);
        }
        return read(info(name), target);
    }

    @Override
    public Path fileOf(String name) {
        info(name);
        return file;
    }

    @Override
    public void close() {
        try {
            channel.close();
        } catch (IOException e) {
            log.warn("Closing {} failed", file, e);
        }
    }

    @Override
    public String toString() {
        return "SafeTensorsFile[" + file + ", " + tensors.size() + " tensors]";
    }

    @SuppressWarnings("try") // the workspace scope is used only for its side effect
    private INDArray read(TensorInfo info, DataType target) {
        long numel = info.numel();
        if (numel > MAX_ARRAY_ELEMENTS) {
            throw new CheckpointException(file, info.name(), "has " + numel
                    + " elements; more than 2^31 - 9 elements cannot be loaded into one array");
        }
        int n = (int) numel;
        long[] shape = info.shape();
        long[] strides = Nd4j.getStrides(shape, 'c');
        SafeTensorDtype dtype = info.dtype();
        // Loaded weights outlive any caller scope, so they must not be placed in an open workspace.
        try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
            INDArray result;
            if (dtype == SafeTensorDtype.F64 && target == DataType.DOUBLE) {
                double[] data = new double[n];
                forEachPiece(info, (piece, index) -> ElementDecoder.toDoubles(piece, data, index));
                result = Nd4j.create(data, shape, strides, 'c', DataType.DOUBLE);
            } else if (dtype.isFloatingPoint()) {
                float[] data = new float[n];
                forEachPiece(info, (piece, index) -> ElementDecoder.toFloats(dtype, piece, data, index));
                result = Nd4j.create(data, shape, strides, 'c', DataType.FLOAT);
            } else if (dtype.isInteger()) {
                long[] data = new long[n];
                forEachPiece(info, (piece, index) -> ElementDecoder.toLongs(dtype, piece, data, index));
                result = Nd4j.create(data, shape, strides, 'c', DataType.INT64);
            } else {
                boolean[] data = new boolean[n];
                forEachPiece(info, (piece, index) -> ElementDecoder.toBooleans(piece, data, index));
                result = Nd4j.create(data, shape, strides, 'c', DataType.BOOL);
            }
            return result.dataType() == target ? result : result.castTo(target);
        }
    }

    /** Receives one mapped piece of a tensor and the index of its first element. */
    @FunctionalInterface
    private interface PieceConsumer {
        void accept(ByteBuffer piece, int firstElement);
    }

    private void forEachPiece(TensorInfo info, PieceConsumer consumer) {
        long base = dataStart + info.dataBegin();
        long length = info.byteLength();
        int elementSize = info.dtype().byteSize();
        try {
            // Mapping past the end of a file that shrank since open() would crash the VM (SIGBUS).
            long size = channel.size();
            if (base + length > size) {
                throw new CheckpointException(file, info.name(), "ends at byte " + (base + length)
                        + " but the file now has " + size + " bytes; it was truncated after being opened");
            }
            for (long pos = 0; pos < length; pos += mapChunkBytes) {
                long pieceLength = Math.min(mapChunkBytes, length - pos);
                MappedByteBuffer piece = channel.map(FileChannel.MapMode.READ_ONLY, base + pos, pieceLength);
                consumer.accept(piece, (int) (pos / elementSize));
            }
        } catch (ClosedChannelException e) {
            throw new IllegalStateException(file + ": already closed", e);
        } catch (IOException e) {
            throw new CheckpointException(file, info.name(), "could not be read: " + e, e);
        }
    }

    private static SafeTensorsFile readHeader(Path file, FileChannel channel, long mapChunkBytes) throws IOException {
        long size = channel.size();
        if (size < 8) {
            throw new CheckpointException(file, "has only " + size
                    + " bytes, fewer than the 8-byte header length; the file is truncated or not a safetensors file");
        }
        ByteBuffer lengthBytes = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        readFully(channel, lengthBytes, 0);
        long headerLength = lengthBytes.getLong(0);
        // The length is unsigned on disk; a negative long is simply enormous.
        if (headerLength < 0 || headerLength > size - 8) {
            throw new CheckpointException(file, "header length " + Long.toUnsignedString(headerLength)
                    + " exceeds the file size (" + size + " bytes); the file is truncated or not a safetensors file");
        }
        if (headerLength >= MAX_HEADER_BYTES) {
            throw new CheckpointException(file, "header length " + headerLength + " exceeds the limit of "
                    + MAX_HEADER_BYTES + " bytes; this is not a safetensors file");
        }
        ByteBuffer headerBytes = ByteBuffer.allocate((int) headerLength);
        readFully(channel, headerBytes, 8);
        long dataStart = 8 + headerLength;
        long dataLength = size - dataStart;

        JsonNode root;
        try {
            root = JSON.readTree(headerBytes.array());
        } catch (JsonProcessingException e) {
            throw new CheckpointException(file, "header is not valid JSON: " + e.getOriginalMessage(), e);
        }
        if (root == null || !root.isObject()) {
            throw new CheckpointException(file, "header is not a JSON object");
        }

        Map<String, TensorInfo> tensors = new TreeMap<>();
        Map<String, String> metadata = Map.of();
        for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> field = it.next();
            if (field.getKey().equals(METADATA_KEY)) {
                metadata = parseMetadata(file, field.getValue());
            } else {
                tensors.put(field.getKey(), parseEntry(file, field.getKey(), field.getValue(), dataLength));
            }
        }
        checkNoOverlap(file, tensors);
        return new SafeTensorsFile(file, channel, dataStart, mapChunkBytes,
                Collections.unmodifiableMap(tensors), metadata);
    }

    private static Map<String, String> parseMetadata(Path file, JsonNode node) {
        if (!node.isObject()) {
            throw new CheckpointException(file, "header entry __metadata__ is not a JSON object");
        }
        Map<String, String> metadata = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!e.getValue().isTextual()) {
                throw new CheckpointException(file, "__metadata__ value of '" + e.getKey()
                        + "' is not a string: " + e.getValue());
            }
            metadata.put(e.getKey(), e.getValue().textValue());
        }
        return Collections.unmodifiableMap(metadata);
    }

    private static TensorInfo parseEntry(Path file, String name, JsonNode node, long dataLength) {
        if (!node.isObject()) {
            throw new CheckpointException(file, name, "header entry is not a JSON object: " + node);
        }
        JsonNode dtypeNode = node.get("dtype");
        if (dtypeNode == null || !dtypeNode.isTextual()) {
            throw new CheckpointException(file, name, "has no string \"dtype\"");
        }
        SafeTensorDtype dtype = SafeTensorDtype.fromName(dtypeNode.textValue()).orElseThrow(() ->
                new CheckpointException(file, name, "has unsupported dtype '" + dtypeNode.textValue()
                        + "' (supported: " + Arrays.toString(SafeTensorDtype.values()) + ")"));
        long[] shape = nonNegativeLongs(file, name, node, "shape", -1);
        long[] offsets = nonNegativeLongs(file, name, node, "data_offsets", 2);
        long begin = offsets[0];
        long end = offsets[1];
        String range = "data_offsets [" + begin + ", " + end + "]";
        if (end < begin) {
            throw new CheckpointException(file, name, range + " end before they begin");
        }
        long needed;
        try {
            needed = Math.multiplyExact(TensorInfo.numel(shape), dtype.byteSize());
        } catch (ArithmeticException e) {
            throw new CheckpointException(file, name, "shape " + Arrays.toString(shape) + " is too large", e);
        }
        if (end - begin != needed) {
            throw new CheckpointException(file, name, range + " span " + (end - begin) + " bytes but shape "
                    + Arrays.toString(shape) + " of " + dtype + " needs " + needed + " bytes");
        }
        if (end > dataLength) {
            throw new CheckpointException(file, name, range + " exceed the file's data section ("
                    + dataLength + " bytes); the file is truncated or corrupt");
        }
        return new TensorInfo(name, dtype, shape, begin, end);
    }

    /** Reads an array of non-negative integers; {@code length} -1 means any length. */
    private static long[] nonNegativeLongs(Path file, String name, JsonNode entry, String key, int length) {
        JsonNode node = entry.get(key);
        if (node == null || !node.isArray() || (length >= 0 && node.size() != length)) {
            throw new CheckpointException(file, name, "has no valid \"" + key + "\" array"
                    + (length >= 0 ? " of " + length + " integers" : "") + ": " + node);
        }
        long[] values = new long[node.size()];
        for (int i = 0; i < values.length; i++) {
            JsonNode v = node.get(i);
            if (!v.isIntegralNumber() || !v.canConvertToLong() || v.longValue() < 0) {
                throw new CheckpointException(file, name, "has invalid \"" + key + "\" " + node
                        + "; entries must be non-negative integers");
            }
            values[i] = v.longValue();
        }
        return values;
    }

    private static void checkNoOverlap(Path file, Map<String, TensorInfo> tensors) {
        List<TensorInfo> byOffset = new ArrayList<>();
        for (TensorInfo t : tensors.values()) {
            if (t.byteLength() > 0) {
                byOffset.add(t);
            }
        }
        byOffset.sort(Comparator.comparingLong(TensorInfo::dataBegin));
        for (int i = 1; i < byOffset.size(); i++) {
            TensorInfo prev = byOffset.get(i - 1);
            TensorInfo cur = byOffset.get(i);
            if (cur.dataBegin() < prev.dataEnd()) {
                throw new CheckpointException(file, cur.name(), "data_offsets [" + cur.dataBegin() + ", "
                        + cur.dataEnd() + "] overlap those of tensor '" + prev.name() + "' ["
                        + prev.dataBegin() + ", " + prev.dataEnd() + "]");
            }
        }
    }

    private static void readFully(FileChannel channel, ByteBuffer dst, long position) throws IOException {
        long pos = position;
        while (dst.hasRemaining()) {
            int n = channel.read(dst, pos);
            if (n < 0) {
                throw new EOFException("unexpected end of file at byte " + pos);
            }
            pos += n;
        }
    }

    private static void closeQuietly(FileChannel channel) {
        try {
            channel.close();
        } catch (IOException e) {
            log.debug("Ignoring failure to close a channel after an error", e);
        }
    }
}
