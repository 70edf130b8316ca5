package io.github.vdep.models.hf;

import static io.github.vdep.models.hf.TensorAssertions.assertSameTensor;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

class SafeTensorsRoundTripTest {

    @TempDir
    Path tmp;

    private Path roundTripFile(Map<String, INDArray> tensors) {
        Path file = tmp.resolve("rt.safetensors");
        SafeTensorsWriter.write(file, tensors, null);
        return file;
    }

    /** Values that exercise the range of each type, including negatives where the type has them. */
    private static INDArray sample(DataType type) {
        double[] values = {0, 1, -2, 3.5, -100.25, 127, 65504, 1e-3};
        INDArray base = Nd4j.create(values, new long[] {2, 4}, DataType.DOUBLE);
        return switch (type) {
            case BOOL -> Nd4j.create(new boolean[] {true, false, false, true, true, true, false, true}, new long[] {2, 4}, DataType.BOOL);
            case UBYTE -> Nd4j.create(new double[] {0, 1, 2, 3, 128, 200, 254, 255}, new long[] {2, 4}, DataType.DOUBLE).castTo(type);
            case BYTE -> Nd4j.create(new double[] {0, 1, -2, 3, -128, 127, -1, 5}, new long[] {2, 4}, DataType.DOUBLE).castTo(type);
            case LONG -> Nd4j.create(new long[] {Long.MIN_VALUE, Long.MAX_VALUE, -1, 0, 1, 1L << 40, -(1L << 40), 7}, new long[] {2, 4}, DataType.INT64);
            case INT -> Nd4j.create(new int[] {Integer.MIN_VALUE, Integer.MAX_VALUE, -1, 0, 1, 1 << 20, -(1 << 20), 7}, new long[] {2, 4}, DataType.INT32);
            case SHORT -> Nd4j.create(new double[] {-32768, 32767, -1, 0, 1, 300, -300, 7}, new long[] {2, 4}, DataType.DOUBLE).castTo(type);
            case DOUBLE -> Nd4j.create(new double[] {Math.PI, -Math.E, 1e300, -1e-300, 0, Double.MIN_VALUE, 1, -1}, new long[] {2, 4}, DataType.DOUBLE);
            default -> base.castTo(type);
        };
    }

    @ParameterizedTest
    @EnumSource(value = DataType.class, names = {"DOUBLE", "FLOAT", "HALF", "BFLOAT16", "LONG", "INT", "SHORT", "BYTE", "UBYTE", "BOOL"})
    void roundTripsEachDtype(DataType type) {
        INDArray original = sample(type);
        try (SafeTensorsFile st = SafeTensorsFile.open(roundTripFile(Map.of("t", original)))) {
            TensorInfo info = st.info("t");
            assertEquals(SafeTensorDtype.of(type), info.dtype());
            assertArrayEquals(new long[] {2, 4}, info.shape());
            assertEquals(8L * info.dtype().byteSize(), info.byteLength());

            assertSameTensor(original, st.load("t", type));
            INDArray byDefault = st.load("t");
            assertEquals(info.dtype().defaultDataType(), byDefault.dataType());
            if (type != DataType.DOUBLE) {
                // Every other type widens to its default type without loss.
                assertSameTensor(original.castTo(byDefault.dataType()), byDefault);
            }
        }
    }

    @Test
    void roundTripsRanksZeroToFour() {
        Map<String, INDArray> tensors = new HashMap<>();
        tensors.put("r0", Nd4j.scalar(2.5f));
        tensors.put("r1", TestTensors.sequence(DataType.FLOAT, 1, 5));
        tensors.put("r2", TestTensors.sequence(DataType.FLOAT, 1, 2, 3));
        tensors.put("r3", TestTensors.sequence(DataType.FLOAT, 1, 2, 3, 4));
        tensors.put("r4", TestTensors.sequence(DataType.FLOAT, 1, 2, 1, 3, 2));
        tensors.put("empty", Nd4j.create(DataType.FLOAT, 0, 4));
        tensors.put("scalar.long", Nd4j.scalar(-9L));
        try (SafeTensorsFile st = SafeTensorsFile.open(roundTripFile(tensors))) {
            tensors.forEach((name, expected) -> assertSameTensor(expected, st.load(name)));
            assertEquals(0, st.info("r0").rank());
            assertEquals(1, st.info("r0").numel());
            assertEquals(0, st.info("empty").numel());
        }
    }

    @Test
    void writesViewsAndFortranOrderInRowMajorOrder() {
        INDArray f = Nd4j.create(new float[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, new long[] {3, 4}, 'f');
        INDArray base = TestTensors.sequence(DataType.FLOAT, 1, 4, 6);
        Map<String, INDArray> tensors = Map.of(
                "fortran", f,
                "columns", base.get(NDArrayIndex.all(), NDArrayIndex.interval(1, 4)),
                "row", base.getRow(2),
                "strided", base.get(NDArrayIndex.interval(0, 2, 4), NDArrayIndex.interval(1, 2, 6)),
                "transposed", base.transpose(),
                "permuted", TestTensors.sequence(DataType.DOUBLE, 1, 2, 3, 4).permute(2, 0, 1),
                "fview", f.get(NDArrayIndex.interval(1, 3), NDArrayIndex.all()));
        try (SafeTensorsFile st = SafeTensorsFile.open(roundTripFile(tensors))) {
            tensors.forEach((name, expected) -> {
                INDArray loaded = st.load(name, expected.dataType());
                assertEquals('c', loaded.ordering());
                assertSameTensor(expected, loaded);
            });
            // Spot-check the logical (not memory) order: fortran[0, 1] is the 4th stored float.
            assertEquals(4f, st.load("fortran").getFloat(0, 1));
            assertArrayEquals(new long[] {6, 4}, st.info("transposed").shape());
            assertArrayEquals(new float[] {2, 3, 4, 8, 9, 10, 14, 15, 16, 20, 21, 22}, st.load("columns").data().asFloat());
            assertArrayEquals(new float[] {2, 4, 6, 14, 16, 18}, st.load("strided").data().asFloat());
            assertArrayEquals(new float[] {13, 14, 15, 16, 17, 18}, st.load("row").data().asFloat());
        }
    }

    @Test
    void writesFloatsAsF16AndBf16OnRequest() {
        float[] values = {1f, -2.5f, 65504f, 0.1f, 1f + 0x1p-11f, 3.14159f, 1e-7f, Float.NaN};
        INDArray floats = Nd4j.createFromArray(values);
        INDArray doubles = floats.castTo(DataType.DOUBLE);
        INDArray ints = Nd4j.createFromArray(1, 2, 3);
        for (SafeTensorDtype target : new SafeTensorDtype[] {SafeTensorDtype.F16, SafeTensorDtype.BF16}) {
            Path file = tmp.resolve(target + ".safetensors");
            SafeTensorsWriter.write(file, Map.of("f", floats, "d", doubles, "i", ints), Map.of(), target);
            try (SafeTensorsFile st = SafeTensorsFile.open(file)) {
                assertEquals(target, st.info("f").dtype());
                assertEquals(target, st.info("d").dtype());
                assertEquals(SafeTensorDtype.I32, st.info("i").dtype(), "integers keep their type");
                float[] expected = new float[values.length];
                for (int i = 0; i < values.length; i++) {
                    expected[i] = target == SafeTensorDtype.F16
                            ? HalfPrecision.f16BitsToFloat(HalfPrecision.floatToF16Bits(values[i]))
                            : HalfPrecision.bf16BitsToFloat(HalfPrecision.floatToBf16Bits(values[i]));
                }
                assertArrayEquals(expected, st.load("f").data().asFloat());
                assertArrayEquals(expected, st.load("d").data().asFloat());
            }
        }
        assertThrows(IllegalArgumentException.class,
                () -> SafeTensorsWriter.write(tmp.resolve("x.safetensors"), Map.of("f", floats), null, SafeTensorDtype.I32));
    }

    @Test
    void roundTripsMetadataAndAddsFormatUnlessGiven() {
        Path a = tmp.resolve("a.safetensors");
        SafeTensorsWriter.write(a, Map.of("x", Nd4j.scalar(1f)), Map.of("step", "100", "model", "llava"));
        try (SafeTensorsFile st = SafeTensorsFile.open(a)) {
            assertEquals(Map.of("step", "100", "model", "llava", "format", "pt"), st.metadata());
        }
        Path b = tmp.resolve("b.safetensors");
        SafeTensorsWriter.write(b, Map.of("x", Nd4j.scalar(1f)), Map.of("format", "np"));
        try (SafeTensorsFile st = SafeTensorsFile.open(b)) {
            assertEquals(Map.of("format", "np"), st.metadata());
        }
    }

    @Test
    void replacesAnExistingFileAndLeavesNoTemporaryFiles() throws IOException {
        Path file = tmp.resolve("model.safetensors");
        SafeTensorsWriter.write(file, Map.of("x", Nd4j.createFromArray(1f, 2f)), null);
        SafeTensorsWriter.write(file, Map.of("y", Nd4j.createFromArray(3L)), null);
        try (SafeTensorsFile st = SafeTensorsFile.open(file)) {
            assertEquals(java.util.Set.of("y"), st.names());
        }
        assertEquals(List.of("model.safetensors"), listDir());
    }

    @Test
    void failedWriteLeavesTheOldFileIntact() throws IOException {
        Path file = tmp.resolve("model.safetensors");
        SafeTensorsWriter.write(file, Map.of("x", Nd4j.createFromArray(1f, 2f)), null);
        byte[] before = Files.readAllBytes(file);
        TensorAssertions.assertCheckpointError(file, null, () -> AtomicFiles.write(file, channel -> {
            channel.write(ByteBuffer.wrap(new byte[] {1, 2, 3}));
            throw new IOException("disk full (simulated)");
        }), "could not be written", "disk full");
        assertArrayEquals(before, Files.readAllBytes(file));
        assertEquals(List.of("model.safetensors"), listDir(), "temporary file removed");

        // Unsupported arrays are rejected before anything is written.
        assertThrows(IllegalArgumentException.class, () -> SafeTensorsWriter.write(file,
                Map.of("u", Nd4j.create(DataType.UINT32, 2)), null));
        assertArrayEquals(before, Files.readAllBytes(file));
        assertThrows(IllegalArgumentException.class, () -> SafeTensorsWriter.write(file,
                Map.of("__metadata__", Nd4j.scalar(1f)), null));
    }

    @Test
    void loadedArraysSurviveClose() {
        Path file = roundTripFile(Map.of("x", Nd4j.createFromArray(1f, 2f, 3f)));
        INDArray x;
        SafeTensorsFile st = SafeTensorsFile.open(file);
        x = st.load("x");
        st.close();
        assertEquals(6f, x.sumNumber().floatValue());
        assertThrows(IllegalStateException.class, () -> st.load("x"));
    }

    private List<String> listDir() throws IOException {
        try (Stream<Path> s = Files.list(tmp)) {
            return s.map(p -> p.getFileName().toString()).sorted().collect(Collectors.toList());
        }
    }
}
