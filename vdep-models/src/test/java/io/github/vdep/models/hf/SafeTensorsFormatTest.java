package io.github.vdep.models.hf;

import static io.github.vdep.models.hf.TensorAssertions.assertSameTensor;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Proves the on-disk format independently: files built byte by byte, and writer output parsed by hand. */
class SafeTensorsFormatTest {

    @TempDir
    Path tmp;

    /** Every dtype, a scalar, an empty tensor, metadata, and trailing-space header padding. */
    private Path handBuiltFile() throws IOException {
        String header = "{\"__metadata__\":{\"format\":\"pt\",\"note\":\"hand made\"},"
                + "\"a\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]},"
                + "\"b\":{\"dtype\":\"I32\",\"shape\":[3],\"data_offsets\":[16,28]},"
                + "\"c\":{\"dtype\":\"F16\",\"shape\":[6],\"data_offsets\":[28,40]},"
                + "\"d\":{\"dtype\":\"BF16\",\"shape\":[2,2],\"data_offsets\":[40,48]},"
                + "\"e\":{\"dtype\":\"I8\",\"shape\":[2],\"data_offsets\":[48,50]},"
                + "\"f\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[50,52]},"
                + "\"g\":{\"dtype\":\"BOOL\",\"shape\":[3],\"data_offsets\":[52,55]},"
                + "\"h\":{\"dtype\":\"F64\",\"shape\":[],\"data_offsets\":[55,63]},"
                + "\"i\":{\"dtype\":\"I64\",\"shape\":[1,1],\"data_offsets\":[63,71]},"
                + "\"j\":{\"dtype\":\"I16\",\"shape\":[2],\"data_offsets\":[71,75]},"
                + "\"empty\":{\"dtype\":\"F32\",\"shape\":[0,3],\"data_offsets\":[75,75]}}     ";
        ByteBuffer d = RawSafeTensors.data(75);
        d.putFloat(1.5f).putFloat(-2f).putFloat(3.25f).putFloat(1e-3f);
        d.putInt(7).putInt(-8).putInt(Integer.MAX_VALUE);
        for (int bits : new int[] {0x3C00, 0xC100, 0x7BFF, 0x0001, 0x7C00, 0x7E00}) {
            d.putShort((short) bits);
        }
        for (int bits : new int[] {0x3F80, 0xC020, 0xFF80, 0x0001}) {
            d.putShort((short) bits);
        }
        d.put((byte) -128).put((byte) 127);
        d.put((byte) 200).put((byte) 1);
        d.put((byte) 1).put((byte) 0).put((byte) 1);
        d.putDouble(Math.PI);
        d.putLong(Long.MIN_VALUE);
        d.putShort((short) -300).putShort((short) 300);
        return RawSafeTensors.write(tmp.resolve("hand.safetensors"), RawSafeTensors.build(header, d.array()));
    }

    @ParameterizedTest(name = "map chunk {0} bytes")
    @ValueSource(longs = {SafeTensorsFile.DEFAULT_MAP_CHUNK_BYTES, 8, 16})
    void readsHandBuiltFile(long chunk) throws IOException {
        Path file = handBuiltFile();
        try (SafeTensorsFile st = SafeTensorsFile.open(file, chunk)) {
            assertEquals(Set.of("a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "empty"), st.names());
            assertEquals(Map.of("format", "pt", "note", "hand made"), st.metadata());
            assertEquals(new TensorInfo("c", SafeTensorDtype.F16, new long[] {6}, 28, 40), st.info("c"));
            assertEquals(file, st.fileOf("a"));

            assertSameTensor(Nd4j.create(new float[] {1.5f, -2f, 3.25f, 1e-3f}, new long[] {2, 2}, DataType.FLOAT), st.load("a"));
            assertSameTensor(Nd4j.createFromArray(7L, -8L, (long) Integer.MAX_VALUE), st.load("b"));
            assertSameTensor(Nd4j.createFromArray(1f, -2.5f, 65504f, 0x1p-24f, Float.POSITIVE_INFINITY, Float.NaN), st.load("c"));
            assertSameTensor(Nd4j.create(new float[] {1f, -2.5f, Float.NEGATIVE_INFINITY, Float.intBitsToFloat(0x10000)},
                    new long[] {2, 2}, DataType.FLOAT), st.load("d"));
            assertSameTensor(Nd4j.createFromArray(-128L, 127L), st.load("e"));
            assertSameTensor(Nd4j.createFromArray(200L, 1L), st.load("f"));
            assertSameTensor(Nd4j.createFromArray(true, false, true), st.load("g"));
            assertSameTensor(Nd4j.create(new long[] {Long.MIN_VALUE}, new long[] {1, 1}, DataType.INT64), st.load("i"));
            assertSameTensor(Nd4j.createFromArray(-300L, 300L), st.load("j"));

            INDArray scalar = st.load("h");
            assertEquals(0, scalar.rank());
            assertEquals(DataType.FLOAT, scalar.dataType(), "F64 loads as FLOAT by default");
            assertEquals((float) Math.PI, scalar.getFloat(0));
            INDArray exact = st.load("h", DataType.DOUBLE);
            assertEquals(0, exact.rank());
            assertEquals(Math.PI, exact.getDouble(0), 0.0, "F64 loaded as DOUBLE is exact");

            INDArray empty = st.load("empty");
            assertTrue(empty.isEmpty());
            assertArrayEquals(new long[] {0, 3}, empty.shape());

            assertSameTensor(Nd4j.create(new double[] {1.5, -2, 3.25, (double) 1e-3f}, new long[] {2, 2}, DataType.DOUBLE),
                    st.load("a", DataType.DOUBLE));
            assertSameTensor(Nd4j.createFromArray(7, -8, Integer.MAX_VALUE), st.load("b", DataType.INT32));
            assertEquals(DataType.HALF, st.load("c", DataType.HALF).dataType());
        }
    }

    @Test
    void readsFileWhoseDataSectionHasUnusedTrailingBytes() throws IOException {
        String header = "{\"x\":{\"dtype\":\"I32\",\"shape\":[1],\"data_offsets\":[0,4]}}";
        byte[] data = RawSafeTensors.data(12).putInt(42).array();
        Path file = RawSafeTensors.write(tmp.resolve("extra.safetensors"), RawSafeTensors.build(header, data));
        try (SafeTensorsFile st = SafeTensorsFile.open(file)) {
            assertEquals(42L, st.load("x").getLong(0));
            assertTrue(st.metadata().isEmpty());
        }
    }

    @Test
    void writerProducesTheDocumentedLayout() throws IOException {
        Map<String, INDArray> tensors = new LinkedHashMap<>();
        tensors.put("z.bias", Nd4j.createFromArray(1.0f, -2.0f));
        tensors.put("a.ids", Nd4j.createFromArray(5L, -6L, 7L));
        tensors.put("m.half", Nd4j.createFromArray(1.0f, -2.5f).castTo(DataType.HALF));
        Path file = tmp.resolve("layout.safetensors");
        SafeTensorsWriter.write(file, tensors, Map.of("step", "10"));

        byte[] bytes = Files.readAllBytes(file);
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        long n = b.getLong(0);
        assertEquals(0, n % 8, "header padded to a multiple of 8");
        String json = new String(bytes, 8, (int) n, StandardCharsets.UTF_8);
        assertTrue(json.startsWith("{"));
        String body = json.stripTrailing();
        assertTrue(body.endsWith("}"));
        assertTrue(json.substring(body.length()).chars().allMatch(c -> c == ' '), "padding is spaces");

        JsonNode header = new ObjectMapper().readTree(json);
        List<String> keys = new ArrayList<>();
        header.fieldNames().forEachRemaining(keys::add);
        assertEquals(List.of("__metadata__", "a.ids", "m.half", "z.bias"), keys, "metadata first, then sorted names");
        assertEquals("10", header.get("__metadata__").get("step").asText());
        assertEquals("pt", header.get("__metadata__").get("format").asText());

        assertEntry(header.get("a.ids"), "I64", new long[] {3}, 0, 24);
        assertEntry(header.get("m.half"), "F16", new long[] {2}, 24, 28);
        assertEntry(header.get("z.bias"), "F32", new long[] {2}, 28, 36);
        assertEquals(8 + n + 36, bytes.length, "no bytes after the last tensor");

        ByteBuffer data = b.position((int) (8 + n)).slice().order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(5L, data.getLong(0));
        assertEquals(-6L, data.getLong(8));
        assertEquals(7L, data.getLong(16));
        assertEquals((short) 0x3C00, data.getShort(24));
        assertEquals((short) 0xC100, data.getShort(26));
        assertEquals(1.0f, data.getFloat(28));
        assertEquals(-2.0f, data.getFloat(32));
    }

    private static void assertEntry(JsonNode entry, String dtype, long[] shape, long begin, long end) {
        assertEquals(dtype, entry.get("dtype").asText());
        long[] actualShape = new long[entry.get("shape").size()];
        for (int i = 0; i < actualShape.length; i++) {
            actualShape[i] = entry.get("shape").get(i).asLong();
        }
        assertArrayEquals(shape, actualShape, () -> "shape " + Arrays.toString(actualShape));
        assertEquals(begin, entry.get("data_offsets").get(0).asLong());
        assertEquals(end, entry.get("data_offsets").get(1).asLong());
    }
}
