package io.github.vdep.models.hf;

import static io.github.vdep.models.hf.TensorAssertions.assertCheckpointError;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Reading {@code torch.save} files made by scripts/fixtures/make_torch_fixtures.py: every storage
 * type, views, shared storages, the legacy format, and refusal of anything but tensors.
 */
class TorchCheckpointFileTest {

    static final Path DIR = resource("torch");
    static final Path MARKER = Path.of("/tmp/vdep-malicious-pickle-ran");

    @TempDir
    Path tmp;

    static Path resource(String name) {
        try {
            return Path.of(TorchCheckpointFileTest.class.getClassLoader().getResource(name).toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    static SafeTensorDtype dtypeOf(String torchName) {
        return switch (torchName) {
            case "float32" -> SafeTensorDtype.F32;
            case "float64" -> SafeTensorDtype.F64;
            case "float16" -> SafeTensorDtype.F16;
            case "bfloat16" -> SafeTensorDtype.BF16;
            case "int64" -> SafeTensorDtype.I64;
            case "int32" -> SafeTensorDtype.I32;
            case "int16" -> SafeTensorDtype.I16;
            case "int8" -> SafeTensorDtype.I8;
            case "uint8" -> SafeTensorDtype.U8;
            case "bool" -> SafeTensorDtype.BOOL;
            default -> throw new IllegalArgumentException(torchName);
        };
    }

    /** Every tensor has torch's dtype, shape and values (exactly: F64 as DOUBLE, the rest as FLOAT or LONG). */
    @ParameterizedTest
    @ValueSource(strings = {"tensors.bin", "tensors-legacy.bin"})
    void readsWhatTorchLoadReads(String fileName) throws IOException {
        JsonNode expected = new ObjectMapper().readTree(DIR.resolve("tensors.expected.json").toFile());
        try (TorchCheckpointFile f = TorchCheckpointFile.open(DIR.resolve(fileName))) {
            Set<String> names = new TreeSet<>();
            expected.fieldNames().forEachRemaining(names::add);
            assertEquals(names, f.names());
            for (Iterator<Map.Entry<String, JsonNode>> it = expected.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                String name = e.getKey();
                JsonNode spec = e.getValue();
                SafeTensorDtype dtype = dtypeOf(spec.get("dtype").asText());
                long[] shape = new long[spec.get("shape").size()];
                for (int i = 0; i < shape.length; i++) {
                    shape[i] = spec.get("shape").get(i).asLong();
                }
                TensorInfo info = f.info(name);
                assertEquals(dtype, info.dtype(), name);
                assertArrayEquals(shape, info.shape(), name);
                JsonNode values = spec.get("values");
                INDArray t = dtype == SafeTensorDtype.F64 ? f.load(name, DataType.DOUBLE) : f.load(name);
                assertArrayEquals(shape, t.shape(), name);
                assertEquals(dtype.defaultDataType() == DataType.FLOAT && dtype == SafeTensorDtype.F64 ? DataType.DOUBLE
                        : dtype.defaultDataType(), t.dataType(), name);
                assertEquals(values.size(), t.length(), name);
                INDArray flat = t.dup('c').reshape(t.length());
                for (int i = 0; i < values.size(); i++) {
                    if (dtype.isFloatingPoint()) {
                        assertEquals(values.get(i).asDouble(), flat.getDouble(i), 0.0, name + "[" + i + "]");
                    } else if (dtype == SafeTensorDtype.BOOL) {
                        assertEquals(values.get(i).asInt() != 0, flat.getDouble(i) != 0, name + "[" + i + "]");
                    } else {
                        assertEquals(values.get(i).asLong(), flat.getLong(i), name + "[" + i + "]");
                    }
                }
            }
        }
    }

    @Test
    void viewsKeepTheirOffsetsIntoSharedStorages() {
        try (TorchCheckpointFile f = TorchCheckpointFile.open(DIR.resolve("tensors.bin"))) {
            // shared_a = storage[0:6], shared_b = storage[4:12] of one 12-element float storage
            assertEquals(0, f.info("shared_a").dataBegin());
            assertEquals(6 * 4, f.info("shared_a").dataEnd());
            assertEquals(4 * 4, f.info("shared_b").dataBegin());
            assertEquals(12 * 4, f.info("shared_b").dataEnd());
            assertEquals(f.load("shared_a").getFloat(1, 1), f.load("shared_b").getFloat(0), 0f);
            // slice = base[1:3, 2:5] of a 4x6 storage: offset 8, last element 2*6+4 = 16
            assertEquals(8 * 4, f.info("slice").dataBegin());
            assertEquals(17 * 4, f.info("slice").dataEnd());
            assertEquals(f.load("transposed").getFloat(2, 1), f.load("slice").getFloat(0, 0), 0f);
            assertEquals(0, f.load("empty").length());
            assertEquals(0, f.load("scalar").rank());
        }
    }

    @Test
    void nestedContainersGiveDottedNamesAndSkipScalars() {
        try (TorchCheckpointFile f = TorchCheckpointFile.open(DIR.resolve("nested.bin"))) {
            assertEquals(Set.of("state.0", "state.1.m"), f.names());
            assertArrayEquals(new long[] {0, 1, 2}, f.load("state.0").toLongVector());
            assertArrayEquals(new float[] {0.5f, 0.5f}, f.load("state.1.m").toFloatVector(), 0f);
        }
    }

    /** The payload would create MARKER through os.system; it must be refused before anything runs. */
    @Test
    void refusesMaliciousPickleWithoutRunningIt() throws IOException {
        Files.deleteIfExists(MARKER);
        Path file = DIR.resolve("malicious.bin");
        assertCheckpointError(file, null, () -> TorchCheckpointFile.open(file), "refusing pickle global posix.system");
        assertCheckpointError(file, null, () -> TensorSources.open(file), "refusing pickle global posix.system");
        assertFalse(Files.exists(MARKER), "the malicious pickle ran");
    }

    @Test
    void refusesOtherGlobalsAndInstantiatingOpcodes() throws IOException {
        // GLOBAL builtins.eval, then REDUCE: pickle.dumps would write this for eval("...")
        Path eval = zipWithPickle("eval.bin", concat(new byte[] {(byte) 0x80, 2}, ascii("cbuiltins\neval\n"),
                ascii("X"), le4(4), ascii("1+1"), ascii(")"), new byte[] {(byte) 0x85}, ascii("R.")));
        assertCheckpointError(eval, null, () -> TorchCheckpointFile.open(eval), "refusing pickle global builtins.eval");
        // NEWOBJ on an allowed class is refused too: nothing is instantiated through cls.__new__
        Path newobj = zipWithPickle("newobj.bin", concat(new byte[] {(byte) 0x80, 2}, ascii("ccollections\nOrderedDict\n)"),
                new byte[] {(byte) 0x81}, ascii(".")));
        assertCheckpointError(newobj, null, () -> TorchCheckpointFile.open(newobj), "refusing pickle opcode NEWOBJ");
        // STACK_GLOBAL (protocol 4) goes through the same table
        Path stack = zipWithPickle("stack.bin", concat(new byte[] {(byte) 0x80, 4}, new byte[] {(byte) 0x8c, 2}, ascii("os"),
                new byte[] {(byte) 0x8c, 6}, ascii("system"), new byte[] {(byte) 0x93}, ascii(".")));
        assertCheckpointError(stack, null, () -> TorchCheckpointFile.open(stack), "refusing pickle global os.system");
    }

    @Test
    void badFilesGiveOneLineErrors() throws IOException {
        Path text = Files.writeString(tmp.resolve("notes.bin"), "hello");
        assertCheckpointError(text, null, () -> TorchCheckpointFile.open(text), "neither a zip archive nor a pickle");
        byte[] whole = Files.readAllBytes(DIR.resolve("tensors.bin"));
        Path truncated = Files.write(tmp.resolve("truncated.bin"), Arrays.copyOf(whole, whole.length / 2));
        assertCheckpointError(truncated, null, () -> TorchCheckpointFile.open(truncated), "truncated or corrupt");
        Path missing = tmp.resolve("missing.bin");
        assertCheckpointError(missing, null, () -> TorchCheckpointFile.open(missing), "file not found");
        Path list = zipWithPickle("list.bin", concat(new byte[] {(byte) 0x80, 2}, ascii("].")));
        assertCheckpointError(list, null, () -> TorchCheckpointFile.open(list), "not a dict of tensors");
        try (TorchCheckpointFile f = TorchCheckpointFile.open(DIR.resolve("tensors.bin"))) {
            assertCheckpointError(DIR.resolve("tensors.bin"), "nope", () -> f.load("nope"), "is not in this file");
        }
    }

    @Test
    void storageTooSmallForItsViewIsCorrupt() throws IOException {
        // a FloatStorage of 2 elements viewed as 3: ('storage', FloatStorage, '0', 'cpu', 2), offset 0, size (3,), stride (1,)
        byte[] pkl = concat(new byte[] {(byte) 0x80, 2}, ascii("}X"), le4(1), ascii("wctorch._utils\n_rebuild_tensor_v2\n("),
                ascii("(X"), le4(7), ascii("storagectorch\nFloatStorage\nX"), le4(1), ascii("0X"), le4(3), ascii("cpuK"), new byte[] {2},
                ascii("tQK"), new byte[] {0}, ascii("K"), new byte[] {3}, new byte[] {(byte) 0x85}, ascii("K"), new byte[] {1},
                new byte[] {(byte) 0x85}, new byte[] {(byte) 0x89}, ascii("}tRs."));
        Path file = tmp.resolve("short.bin");
        try (ZipOutputStream z = new ZipOutputStream(Files.newOutputStream(file))) {
            put(z, "short/data.pkl", pkl);
            put(z, "short/data/0", new byte[8]);
        }
        assertCheckpointError(file, "w", () -> TorchCheckpointFile.open(file), "reaches element 3 of storage '0', which has 2 elements");
    }

    @Test
    void directoriesAndShardIndexesOfBinFiles() throws IOException {
        Path llama = DIR.resolve("tiny/llama-bin");
        try (TensorSource s = TensorSources.openDirectory(llama)) {
            assertInstanceOf(ShardedSafeTensors.class, s);
            assertEquals(llama.resolve("pytorch_model-00002-of-00002.bin").toAbsolutePath().normalize(),
                    s.fileOf("lm_head.weight"));
            assertEquals(SafeTensorDtype.F16, s.info("lm_head.weight").dtype());
            try (TensorSource st = TensorSources.openDirectory(DIR.resolve("tiny/llama-st"))) {
                assertEquals(st.names(), s.names());
                for (String n : st.names()) {
                    TensorAssertions.assertSameTensor(st.load(n), s.load(n));
                }
            }
        }
        try (TensorSource s = TensorSources.openDirectory(DIR.resolve("tiny/clip-bin"))) {
            assertInstanceOf(TorchCheckpointFile.class, s);
        }
        // a .pt file with another name opens by its first bytes
        Path renamed = Files.copy(DIR.resolve("tensors.bin"), tmp.resolve("weights.data"));
        try (TensorSource s = TensorSources.open(renamed)) {
            assertInstanceOf(TorchCheckpointFile.class, s);
        }
    }

    private Path zipWithPickle(String name, byte[] pickle) throws IOException {
        Path file = tmp.resolve(name);
        try (ZipOutputStream z = new ZipOutputStream(Files.newOutputStream(file))) {
            put(z, "archive/data.pkl", pickle);
        }
        return file;
    }

    private static void put(ZipOutputStream z, String name, byte[] data) throws IOException {
        z.putNextEntry(new ZipEntry(name));
        z.write(data);
        z.closeEntry();
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    private static byte[] le4(int v) {
        return new byte[] {(byte) v, (byte) (v >> 8), (byte) (v >> 16), (byte) (v >> 24)};
    }

    private static byte[] concat(byte[]... parts) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.write(p);
        }
        return out.toByteArray();
    }
}
