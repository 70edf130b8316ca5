package io.github.vdep.models.hf;

import io.github.vdep.models.hf.PickleReader.Tuple;
import java.io.BufferedInputStream;
import java.io.ByteArrayInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A PyTorch checkpoint written by {@code torch.save} ({@code pytorch_model.bin}, {@code .pt},
 * LLaVA's {@code mm_projector.bin}), read without running any of its code.
 *
 * <p>Two formats are read. The zip format (PyTorch 1.6 and later) holds {@code <archive>/data.pkl},
 * a pickle of the saved object whose tensors refer by persistent id to storages stored raw in
 * {@code <archive>/data/<key>}, and {@code <archive>/byteorder} ({@code little} when absent). The
 * legacy format is a sequence of pickles (magic number, protocol version, system info, the object,
 * the storage keys) followed by each storage as an element count and its raw bytes.
 *
 * <p>The pickle is run by {@link PickleReader} with only these globals: the tensor rebuild
 * functions {@code torch._utils._rebuild_tensor_v2}, {@code _rebuild_tensor},
 * {@code _rebuild_parameter} and {@code _rebuild_parameter_with_state}, the storage types
 * {@code torch.{Float,Half,BFloat16,Double,Long,Int,Short,Char,Byte,Bool}Storage}, and
 * {@code collections.OrderedDict}. Anything else, such as the {@code os.system} of a malicious
 * file, is refused with a {@link CheckpointException} naming the file and the global; nothing is
 * ever executed or instantiated.
 *
 * <p>The saved object must be a dict. Its tensors are named by their keys; tensors inside nested
 * dicts, lists and tuples get dotted names ({@code state.0}, {@code state.1.m}); other values
 * (numbers, strings) are not tensors and are left out. Views are kept: each tensor has its
 * storage, offset, shape and strides, several tensors may share a storage, and loading gathers a
 * view into a new 'c'-ordered array. Only the pickle is read when the file is opened (storages
 * are checked against their entries); tensor data is read when a tensor is loaded.
 *
 * <p>Instances are safe for concurrent {@code load} calls.
 */
public final class TorchCheckpointFile implements TensorSource {

    /** Conventional name of a single-file PyTorch checkpoint in a Hugging Face directory. */
    public static final String DEFAULT_FILE_NAME = "pytorch_model.bin";

    /** Conventional name of the index of a sharded PyTorch checkpoint. */
    public static final String INDEX_FILE_NAME = "pytorch_model.bin.index.json";

    private static final Logger log = LoggerFactory.getLogger(TorchCheckpointFile.class);

    /** Java arrays cannot be larger than this (VM header words). */
    private static final long MAX_ARRAY_ELEMENTS = Integer.MAX_VALUE - 8;

    /** First pickle of a legacy file: the number 0x1950a86a20f9469cfc6c. */
    private static final BigInteger LEGACY_MAGIC = new BigInteger("1950a86a20f9469cfc6c", 16);
    private static final long LEGACY_PROTOCOL = 1001;
    /** A data.pkl larger than this is not a weight file's pickle. */
    private static final long MAX_PICKLE_BYTES = 1L << 30;

    /** What {@code torch.save} names each storage type, and its element type. */
    private static final Map<String, SafeTensorDtype> STORAGE_TYPES = Map.of(
            "torch.FloatStorage", SafeTensorDtype.F32,
            "torch.HalfStorage", SafeTensorDtype.F16,
            "torch.BFloat16Storage", SafeTensorDtype.BF16,
            "torch.DoubleStorage", SafeTensorDtype.F64,
            "torch.LongStorage", SafeTensorDtype.I64,
            "torch.IntStorage", SafeTensorDtype.I32,
            "torch.ShortStorage", SafeTensorDtype.I16,
            "torch.CharStorage", SafeTensorDtype.I8,
            "torch.ByteStorage", SafeTensorDtype.U8,
            "torch.BoolStorage", SafeTensorDtype.BOOL);

    /** A storage type global, as it appears in a persistent id. */
    private record StorageType(String name, SafeTensorDtype dtype) {
    }

    /**
     * One storage: its key, element type, length in elements, and where its bytes are: a zip
     * entry, or (legacy format) an absolute file offset.
     */
    private record Storage(String key, SafeTensorDtype dtype, long numel, ZipEntry entry, long fileOffset) {
    }

    /** A tensor as pickled: a strided view of a storage. */
    private record StridedTensor(Storage storage, long offset, long[] shape, long[] stride) {
    }

    private final Path file;
    private final ZipFile zip;
    private final FileChannel channel;
    private final boolean bigEndian;
    private final Map<String, StridedTensor> tensors;
    private final Map<String, TensorInfo> infos;

    private TorchCheckpointFile(Path file, ZipFile zip, FileChannel channel, boolean bigEndian,
            Map<String, StridedTensor> tensors) {
        this.file = file;
        this.zip = zip;
        this.channel = channel;
        this.bigEndian = bigEndian;
        this.tensors = tensors;
        Map<String, TensorInfo> infos = new TreeMap<>();
        tensors.forEach((name, t) -> infos.put(name, infoOf(name, t)));
        this.infos = Collections.unmodifiableMap(infos);
    }

    /**
     * Opens a {@code torch.save} file and reads its pickle.
     *
     * @param file the file
     * @return the open checkpoint; close it to release the file
     * @throws CheckpointException if the file is missing or unreadable, is not a {@code torch.save}
     *     file, asks for a global outside the allowed set, or describes tensors its storages cannot hold
     */
    public static TorchCheckpointFile open(Path file) {
        Objects.requireNonNull(file, "file");
        byte[] head;
        try (InputStream in = Files.newInputStream(file)) {
            head = in.readNBytes(2);
        } catch (NoSuchFileException e) {
            throw new CheckpointException(file, "file not found", e);
        } catch (IOException e) {
            throw new CheckpointException(file, "cannot be opened: " + e, e);
        }
        if (head.length == 2 && head[0] == 'P' && head[1] == 'K') {
            return openZip(file);
        }
        if (head.length == 2 && (head[0] & 0xff) == 0x80) {
            return openLegacy(file);
        }
        throw new CheckpointException(file, "is not a PyTorch checkpoint: it is neither a zip archive nor a pickle"
                + " (torch.save writes one of the two)");
    }

    @Override
    public Set<String> names() {
        return infos.keySet();
    }

    /**
     * {@inheritDoc}
     *
     * <p>For a PyTorch file the byte range is that of the elements the tensor spans within its
     * storage (relative to the storage), which for a view may include elements it skips.
     */
    @Override
    public TensorInfo info(String name) {
        TensorInfo info = infos.get(name);
        if (info == null) {
            throw new CheckpointException(file, name, "is not in this file (" + infos.size() + " tensors)");
        }
        return info;
    }

    @Override
    public INDArray load(String name) {
        TensorInfo info = info(name);
        return read(name, info.dtype().defaultDataType());
    }

    @Override
    public INDArray load(String name, DataType target) {
        Objects.requireNonNull(target, "target");
        if (!target.isNumerical() && target != DataType.BOOL) {
            throw new IllegalArgumentException("cannot load a tensor as " + target);
        }
        info(name);
        return read(name, target);
    }

    @Override
    public Path fileOf(String name) {
        info(name);
        return file;
    }

    /** A {@code torch.save} file has no metadata map. */
    @Override
    public Map<String, String> metadata() {
        return Map.of();
    }

    /**
     * Returns the path this file was opened from.
     *
     * @return the path
     */
    public Path path() {
        return file;
    }

    @Override
    public void close() {
        try {
            if (zip != null) {
                zip.close();
            }
            if (channel != null) {
                channel.close();
            }
        } catch (IOException e) {
            log.warn("Closing {} failed", file, e);
        }
    }

    @Override
    public String toString() {
        return "TorchCheckpointFile[" + file + ", " + infos.size() + " tensors]";
    }

    // ------------------------------------------------------------------ opening

    private static TorchCheckpointFile openZip(Path file) {
        ZipFile zip;
        try {
            zip = new ZipFile(file.toFile());
        } catch (ZipException e) {
            throw new CheckpointException(file, "is not a valid zip archive (" + e.getMessage()
                    + "); the file is truncated or corrupt", e);
        } catch (IOException e) {
            throw new CheckpointException(file, "cannot be opened: " + e, e);
        }
        try {
            String prefix = null;
            for (var it = zip.entries(); it.hasMoreElements(); ) {
                String n = it.nextElement().getName();
                if (n.endsWith("data.pkl") && n.indexOf('/') == n.length() - "data.pkl".length() - 1) {
                    prefix = n.substring(0, n.length() - "data.pkl".length());
                    break;
                }
            }
            if (prefix == null) {
                throw new CheckpointException(file, "is a zip archive without a <archive>/data.pkl entry; it is not a torch.save file");
            }
            boolean bigEndian = false;
            ZipEntry order = zip.getEntry(prefix + "byteorder");
            if (order != null) {
                String o;
                try (InputStream in = zip.getInputStream(order)) {
                    o = new String(in.readNBytes(16), StandardCharsets.US_ASCII).trim();
                }
                if (!o.equals("little") && !o.equals("big")) {
                    throw new CheckpointException(file, prefix + "byteorder is '" + o + "', neither 'little' nor 'big'");
                }
                bigEndian = o.equals("big");
            }
            ZipEntry pkl = zip.getEntry(prefix + "data.pkl");
            if (pkl.getSize() > MAX_PICKLE_BYTES) {
                throw new CheckpointException(file, prefix + "data.pkl has " + pkl.getSize()
                        + " bytes; a weight file's pickle is far smaller");
            }
            Map<String, Storage> storages = new HashMap<>();
            String dataPrefix = prefix + "data/";
            Object root;
            try (InputStream in = new BufferedInputStream(zip.getInputStream(pkl))) {
                root = new PickleReader(file, in, globals(file), pid -> {
                    Tuple t = persistentId(file, pid, 5);
                    StorageType type = (StorageType) t.get(1);
                    String key = String.valueOf(t.get(2));
                    long numel = nonNegative(file, t.get(4), "storage size");
                    return storages.computeIfAbsent(key, k -> {
                        ZipEntry entry = zip.getEntry(dataPrefix + k);
                        if (entry == null) {
                            throw new CheckpointException(file, "pickle refers to storage '" + k + "' but the archive has no "
                                    + dataPrefix + k + " entry; the file is truncated or corrupt");
                        }
                        return new Storage(k, type.dtype(), numel, entry, -1);
                    });
                }).load();
            }
            for (Storage s : storages.values()) {
                long needed = Math.multiplyExact(s.numel(), s.dtype().byteSize());
                if (s.entry().getSize() < needed) {
                    throw new CheckpointException(file, "storage " + dataPrefix + s.key() + " has " + s.entry().getSize()
                            + " bytes but the pickle gives it " + s.numel() + " elements of " + s.dtype() + " (" + needed + " bytes)");
                }
            }
            TorchCheckpointFile opened = new TorchCheckpointFile(file, zip, null, bigEndian, tensorsOf(file, root, storages));
            log.debug("Opened {}: {} tensors in {} storages", file, opened.infos.size(), storages.size());
            return opened;
        } catch (RuntimeException e) {
            closeQuietly(zip);
            throw e;
        } catch (IOException e) {
            closeQuietly(zip);
            throw new CheckpointException(file, "could not be read: " + e, e);
        }
    }

    private static TorchCheckpointFile openLegacy(Path file) {
        FileChannel channel;
        try {
            channel = FileChannel.open(file, StandardOpenOption.READ);
        } catch (IOException e) {
            throw new CheckpointException(file, "cannot be opened: " + e, e);
        }
        try {
            InputStream in = new BufferedInputStream(Files.newInputStream(file));
            long consumed;
            Map<String, Storage> storages = new HashMap<>();
            Object root;
            List<?> keys;
            try (in) {
                PickleReader magic = new PickleReader(file, in, Map.of(), null);
                if (!LEGACY_MAGIC.equals(asBig(magic.load()))) {
                    throw new CheckpointException(file, "is a pickle but not a torch.save file (no PyTorch magic number)");
                }
                PickleReader protocol = new PickleReader(file, in, Map.of(), null);
                Object version = protocol.load();
                if (!Long.valueOf(LEGACY_PROTOCOL).equals(version)) {
                    throw new CheckpointException(file, "has legacy torch.save protocol version " + version
                            + "; only " + LEGACY_PROTOCOL + " is known");
                }
                PickleReader sysInfo = new PickleReader(file, in, Map.of(), null);
                if (sysInfo.load() instanceof Map<?, ?> info && Boolean.FALSE.equals(info.get("little_endian"))) {
                    throw new CheckpointException(file, "was saved on a big-endian machine in the legacy format, which is not supported");
                }
                PickleReader main = new PickleReader(file, in, globals(file), pid -> {
                    Tuple t = persistentId(file, pid, 6);
                    if (t.get(5) != null) {
                        throw new CheckpointException(file, "uses a legacy storage view, which is not supported");
                    }
                    StorageType type = (StorageType) t.get(1);
                    String key = String.valueOf(t.get(2));
                    long numel = nonNegative(file, t.get(4), "storage size");
                    return storages.computeIfAbsent(key, k -> new Storage(k, type.dtype(), numel, null, -1));
                });
                root = main.load();
                PickleReader keyList = new PickleReader(file, in, Map.of(), null);
                Object k = keyList.load();
                if (!(k instanceof List<?> list)) {
                    throw new CheckpointException(file, "legacy storage key list is not a list");
                }
                keys = list;
                consumed = magic.position() + protocol.position() + sysInfo.position() + main.position() + keyList.position();
            }
            // Each storage follows as an 8-byte element count and its bytes, in the order of the key list.
            long pos = consumed;
            long size = channel.size();
            Map<String, Storage> placed = new HashMap<>();
            for (Object key : keys) {
                Storage s = storages.get(String.valueOf(key));
                if (s == null) {
                    throw new CheckpointException(file, "legacy storage key list names '" + key + "', which no tensor uses");
                }
                ByteBuffer count = ByteBuffer.allocate(8).order(java.nio.ByteOrder.LITTLE_ENDIAN);
                readFully(channel, count, pos);
                long numel = count.getLong(0);
                long bytes = Math.multiplyExact(numel, s.dtype().byteSize());
                if (numel != s.numel() || pos + 8 + bytes > size) {
                    throw new CheckpointException(file, "legacy storage '" + key + "' at byte " + pos + " has " + numel
                            + " elements where the pickle gives " + s.numel() + ", or runs past the end of the file");
                }
                placed.put(s.key(), new Storage(s.key(), s.dtype(), numel, null, pos + 8));
                pos += 8 + bytes;
            }
            if (placed.size() != storages.size()) {
                throw new CheckpointException(file, "legacy storage key list misses some of the "
                        + storages.size() + " storages the pickle uses");
            }
            return new TorchCheckpointFile(file, null, channel, false, tensorsOf(file, relink(root, placed), placed));
        } catch (RuntimeException e) {
            closeQuietly(channel);
            throw e;
        } catch (IOException e) {
            closeQuietly(channel);
            throw new CheckpointException(file, "could not be read: " + e, e);
        }
    }

    /** Legacy storages get their file offsets after the pickle; point the tensors at the placed copies. */
    private static Object relink(Object root, Map<String, Storage> placed) {
        if (root instanceof StridedTensor t) {
            return new StridedTensor(placed.get(t.storage().key()), t.offset(), t.shape(), t.stride());
        }
        if (root instanceof Map<?, ?> m) {
            Map<Object, Object> out = new java.util.LinkedHashMap<>();
            m.forEach((k, v) -> out.put(k, relink(v, placed)));
            return out;
        }
        if (root instanceof List<?> l) {
            return l.stream().map(v -> relink(v, placed)).toList();
        }
        if (root instanceof Tuple t) {
            return new Tuple(t.items().stream().map(v -> relink(v, placed)).toList());
        }
        return root;
    }

    private static BigInteger asBig(Object o) {
        if (o instanceof BigInteger b) {
            return b;
        }
        return o instanceof Long l ? BigInteger.valueOf(l) : null;
    }

    /** The allowed globals: storage types as markers, the rebuild functions and OrderedDict as callables. */
    private static Map<String, Object> globals(Path file) {
        Map<String, Object> g = new HashMap<>();
        STORAGE_TYPES.forEach((name, dtype) -> g.put(name, new StorageType(name, dtype)));
        g.put("collections.OrderedDict", (PickleReader.Callable) args -> {
            Map<Object, Object> m = new java.util.LinkedHashMap<>();
            if (args.size() == 1 && args.get(0) instanceof List<?> pairs) {
                for (Object p : pairs) {
                    Tuple kv = (Tuple) p;
                    m.put(kv.get(0), kv.get(1));
                }
            } else if (args.size() != 0) {
                throw new CheckpointException(file, "OrderedDict called with unexpected arguments in the pickle");
            }
            return m;
        });
        g.put("torch._utils._rebuild_tensor_v2", (PickleReader.Callable) args -> rebuildTensor(file, args, 6));
        g.put("torch._utils._rebuild_tensor", (PickleReader.Callable) args -> rebuildTensor(file, args, 4));
        PickleReader.Callable parameter = args -> {
            if (args.size() < 1 || !(args.get(0) instanceof StridedTensor t)) {
                throw new CheckpointException(file, "_rebuild_parameter called without a tensor in the pickle");
            }
            return t;
        };
        g.put("torch._utils._rebuild_parameter", parameter);
        g.put("torch._utils._rebuild_parameter_with_state", parameter);
        return g;
    }

    private static Tuple persistentId(Path file, Object pid, int length) {
        if (!(pid instanceof Tuple t) || t.size() != length || !"storage".equals(t.get(0))) {
            throw new CheckpointException(file, "pickle has a persistent id that is not a torch storage reference: " + pid);
        }
        if (!(t.get(1) instanceof StorageType)) {
            throw new CheckpointException(file, "storage reference names a type that is not a storage type: " + t.get(1));
        }
        return t;
    }

    /** {@code _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])}. */
    private static StridedTensor rebuildTensor(Path file, Tuple args, int minArgs) {
        if (args.size() < minArgs || !(args.get(0) instanceof Storage storage)) {
            throw new CheckpointException(file, "tensor rebuild call in the pickle has unexpected arguments");
        }
        long offset = nonNegative(file, args.get(1), "storage offset");
        long[] shape = longs(file, args.get(2), "size");
        long[] stride = longs(file, args.get(3), "stride");
        if (shape.length != stride.length) {
            throw new CheckpointException(file, "tensor has size " + Arrays.toString(shape) + " but stride "
                    + Arrays.toString(stride));
        }
        return new StridedTensor(storage, offset, shape, stride);
    }

    private static long[] longs(Path file, Object o, String what) {
        if (!(o instanceof Tuple t)) {
            throw new CheckpointException(file, "tensor " + what + " in the pickle is not a tuple: " + o);
        }
        long[] out = new long[t.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = nonNegative(file, t.get(i), what);
        }
        return out;
    }

    private static long nonNegative(Path file, Object o, String what) {
        if (!(o instanceof Long l) || l < 0) {
            throw new CheckpointException(file, what + " in the pickle is not a non-negative integer: " + o);
        }
        return l;
    }

    /** Names the tensors of the saved dict (nested containers get dotted names) and checks each against its storage. */
    private static Map<String, StridedTensor> tensorsOf(Path file, Object root, Map<String, Storage> storages) {
        if (!(root instanceof Map<?, ?> map)) {
            throw new CheckpointException(file, "holds a " + (root == null ? "None" : root.getClass().getSimpleName())
                    + ", not a dict of tensors (a state dict)");
        }
        Map<String, StridedTensor> out = new TreeMap<>();
        collect(file, "", map, out);
        for (Map.Entry<String, StridedTensor> e : out.entrySet()) {
            StridedTensor t = e.getValue();
            long end = spanEnd(t);
            if (end > t.storage().numel()) {
                throw new CheckpointException(file, e.getKey(), "reaches element " + end + " of storage '" + t.storage().key()
                        + "', which has " + t.storage().numel() + " elements; the file is corrupt");
            }
        }
        return Collections.unmodifiableMap(out);
    }

    private static void collect(Path file, String name, Object value, Map<String, StridedTensor> out) {
        String prefix = name.isEmpty() ? "" : name + ".";
        if (value instanceof StridedTensor t) {
            if (out.put(name, t) != null) {
                throw new CheckpointException(file, name, "occurs twice once nested containers are flattened");
            }
        } else if (value instanceof Map<?, ?> m) {
            for (Map.Entry<?, ?> e : m.entrySet()) {
                collect(file, prefix + e.getKey(), e.getValue(), out);
            }
        } else if (value instanceof List<?> l) {
            for (int i = 0; i < l.size(); i++) {
                collect(file, prefix + i, l.get(i), out);
            }
        } else if (value instanceof Tuple t) {
            collect(file, name, t.items(), out);
        }
        // numbers, strings, None: not tensors
    }

    /** One past the last storage element the tensor touches (its offset when it is empty). */
    private static long spanEnd(StridedTensor t) {
        long last = t.offset();
        for (int i = 0; i < t.shape().length; i++) {
            if (t.shape()[i] == 0) {
                return t.offset();
            }
            last = Math.addExact(last, Math.multiplyExact(t.shape()[i] - 1, t.stride()[i]));
        }
        return last + 1;
    }

    private static TensorInfo infoOf(String name, StridedTensor t) {
        int size = t.storage().dtype().byteSize();
        return new TensorInfo(name, t.storage().dtype(), t.shape(), t.offset() * size, spanEnd(t) * size);
    }

    // ------------------------------------------------------------------ loading

    @SuppressWarnings("try") // the workspace scope is used only for its side effect
    private INDArray read(String name, DataType target) {
        StridedTensor t = tensors.get(name);
        TensorInfo info = infos.get(name);
        long numel = info.numel();
        long span = info.byteLength() / info.dtype().byteSize();
        if (numel > MAX_ARRAY_ELEMENTS || span > MAX_ARRAY_ELEMENTS / 8) {
            throw new CheckpointException(file, name, "has " + numel + " elements spanning " + span
                    + " storage elements; tensors this large cannot be loaded into one array");
        }
        ByteBuffer bytes = readSpan(name, t, info);
        SafeTensorDtype dtype = info.dtype();
        int[] gather = isContiguous(t) ? null : gatherIndices(t);
        int n = (int) numel;
        long[] shape = info.shape();
        long[] strides = Nd4j.getStrides(shape, 'c');
        try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
            INDArray result;
            if (dtype == SafeTensorDtype.F64 && target == DataType.DOUBLE) {
                double[] src = new double[(int) span];
                ElementDecoder.toDoubles(bytes, src, 0);
                double[] data = gather == null ? src : new double[n];
                if (gather != null) {
                    for (int i = 0; i < n; i++) {
                        data[i] = src[gather[i]];
                    }
                }
                result = Nd4j.create(data, shape, strides, 'c', DataType.DOUBLE);
            } else if (dtype.isFloatingPoint()) {
                float[] src = new float[(int) span];
                ElementDecoder.toFloats(dtype, bytes, src, 0);
                float[] data = gather == null ? src : new float[n];
                if (gather != null) {
                    for (int i = 0; i < n; i++) {
                        data[i] = src[gather[i]];
                    }
                }
                result = Nd4j.create(data, shape, strides, 'c', DataType.FLOAT);
            } else if (dtype.isInteger()) {
                long[] src = new long[(int) span];
                ElementDecoder.toLongs(dtype, bytes, src, 0);
                long[] data = gather == null ? src : new long[n];
                if (gather != null) {
                    for (int i = 0; i < n; i++) {
                        data[i] = src[gather[i]];
                    }
                }
                result = Nd4j.create(data, shape, strides, 'c', DataType.INT64);
            } else {
                boolean[] src = new boolean[(int) span];
                ElementDecoder.toBooleans(bytes, src, 0);
                boolean[] data = gather == null ? src : new boolean[n];
                if (gather != null) {
                    for (int i = 0; i < n; i++) {
                        data[i] = src[gather[i]];
                    }
                }
                result = Nd4j.create(data, shape, strides, 'c', DataType.BOOL);
            }
            return result.dataType() == target ? result : result.castTo(target);
        }
    }

    /** The bytes of the storage elements [offset, spanEnd), little-endian. */
    private ByteBuffer readSpan(String name, StridedTensor t, TensorInfo info) {
        int length = (int) info.byteLength();
        byte[] data;
        try {
            if (zip != null) {
                try (InputStream in = zip.getInputStream(t.storage().entry())) {
                    long skip = info.dataBegin();
                    while (skip > 0) {
                        long s = in.skip(skip);
                        if (s <= 0) {
                            throw new EOFException("storage entry ends before byte " + info.dataBegin());
                        }
                        skip -= s;
                    }
                    data = in.readNBytes(length);
                }
            } else {
                ByteBuffer buf = ByteBuffer.allocate(length);
                readFully(channel, buf, t.storage().fileOffset() + info.dataBegin());
                data = buf.array();
            }
        } catch (IOException e) {
            throw new CheckpointException(file, name, "could not be read: " + e, e);
        } catch (IllegalStateException e) {
            throw new IllegalStateException(file + ": already closed", e);
        }
        if (data.length != length) {
            throw new CheckpointException(file, name, "storage '" + t.storage().key() + "' ends early; the file is truncated");
        }
        if (bigEndian) {
            int size = info.dtype().byteSize();
            for (int i = 0; i < data.length; i += size) {
                for (int a = i, b = i + size - 1; a < b; a++, b--) {
                    byte x = data[a];
                    data[a] = data[b];
                    data[b] = x;
                }
            }
        }
        return ByteBuffer.wrap(data);
    }

    private static boolean isContiguous(StridedTensor t) {
        long expected = 1;
        for (int i = t.shape().length - 1; i >= 0; i--) {
            if (t.shape()[i] != 1 && t.stride()[i] != expected) {
                return t.shape()[i] == 0;
            }
            expected *= t.shape()[i];
        }
        return true;
    }

    /** For each element in 'c' order, its index relative to the tensor's storage offset. */
    private static int[] gatherIndices(StridedTensor t) {
        long[] shape = t.shape();
        long[] stride = t.stride();
        int n = (int) TensorInfo.numel(shape);
        int[] out = new int[n];
        long[] index = new long[shape.length];
        long at = 0;
        for (int i = 0; i < n; i++) {
            out[i] = (int) at;
            for (int d = shape.length - 1; d >= 0; d--) {
                index[d]++;
                at += stride[d];
                if (index[d] < shape[d]) {
                    break;
                }
                at -= index[d] * stride[d];
                index[d] = 0;
            }
        }
        return out;
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

    private static void closeQuietly(AutoCloseable c) {
        try {
            c.close();
        } catch (Exception e) {
            log.debug("Ignoring failure to close after an error", e);
        }
    }
}
