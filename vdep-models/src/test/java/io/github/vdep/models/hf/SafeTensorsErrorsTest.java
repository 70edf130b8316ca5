package io.github.vdep.models.hf;

import static io.github.vdep.models.hf.TensorAssertions.assertCheckpointError;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

/** Every kind of bad input fails with a CheckpointException that names the file and tensor. */
class SafeTensorsErrorsTest {

    @TempDir
    Path tmp;

    private Path file(String name, String header, int dataBytes) throws IOException {
        return RawSafeTensors.write(tmp.resolve(name), RawSafeTensors.build(header, new byte[dataBytes]));
    }

    private static String entry(String name, String dtype, String shape, long begin, long end) {
        return "\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape
                + ",\"data_offsets\":[" + begin + "," + end + "]}";
    }

    @Test
    void truncatedFile() throws IOException {
        Path good = tmp.resolve("model.safetensors");
        SafeTensorsWriter.write(good, Map.of("x.weight", TestTensors.sequence(DataType.FLOAT, 1, 10)), null);
        byte[] bytes = Files.readAllBytes(good);
        Path cut = RawSafeTensors.write(tmp.resolve("cut.safetensors"), Arrays.copyOf(bytes, bytes.length - 8));
        assertCheckpointError(cut, "x.weight", () -> SafeTensorsFile.open(cut),
                "data_offsets [0, 40] exceed the file's data section (32 bytes)", "truncated or corrupt");

        Path inHeader = RawSafeTensors.write(tmp.resolve("cut-header.safetensors"), Arrays.copyOf(bytes, 20));
        assertCheckpointError(inHeader, null, () -> SafeTensorsFile.open(inHeader), "exceeds the file size (20 bytes)");

        Path tiny = RawSafeTensors.write(tmp.resolve("tiny.safetensors"), new byte[] {1, 2, 3});
        assertCheckpointError(tiny, null, () -> SafeTensorsFile.open(tiny), "only 3 bytes");
    }

    @Test
    void headerLengthLargerThanFile() throws IOException {
        byte[] header = "{}".getBytes(StandardCharsets.UTF_8);
        Path big = RawSafeTensors.write(tmp.resolve("big.safetensors"), RawSafeTensors.build(1000, header, new byte[0]));
        assertCheckpointError(big, null, () -> SafeTensorsFile.open(big), "header length 1000 exceeds the file size (10 bytes)");

        Path huge = RawSafeTensors.write(tmp.resolve("huge.safetensors"), RawSafeTensors.build(-1L, header, new byte[0]));
        assertCheckpointError(huge, null, () -> SafeTensorsFile.open(huge), "header length 18446744073709551615");
    }

    @Test
    void headerLengthOverTheLimit() throws IOException {
        // A sparse file: the length passes the file-size check but not the 100 MB limit.
        Path file = tmp.resolve("limit.safetensors");
        Files.write(file, RawSafeTensors.build(SafeTensorsFile.MAX_HEADER_BYTES, "{}".getBytes(StandardCharsets.UTF_8), new byte[0]));
        try (var raf = new java.io.RandomAccessFile(file.toFile(), "rw")) {
            raf.setLength(SafeTensorsFile.MAX_HEADER_BYTES + 16);
        }
        assertCheckpointError(file, null, () -> SafeTensorsFile.open(file), "exceeds the limit");
    }

    @Test
    void garbageJson() throws IOException {
        Path garbage = file("garbage.safetensors", "{\"x\": {\"dtype\": F32, ]]", 0);
        assertCheckpointError(garbage, null, () -> SafeTensorsFile.open(garbage), "header is not valid JSON");

        Path array = file("array.safetensors", "[1, 2, 3]", 0);
        assertCheckpointError(array, null, () -> SafeTensorsFile.open(array), "not a JSON object");

        Path trailing = file("trailing.safetensors", "{} {}", 0);
        assertCheckpointError(trailing, null, () -> SafeTensorsFile.open(trailing), "not valid JSON");

        Path duplicate = file("dup.safetensors", "{" + entry("a", "U8", "[1]", 0, 1) + "," + entry("a", "U8", "[1]", 0, 1) + "}", 1);
        assertCheckpointError(duplicate, null, () -> SafeTensorsFile.open(duplicate), "not valid JSON", "a");

        Path notEntry = file("notentry.safetensors", "{\"a\": 5}", 0);
        assertCheckpointError(notEntry, "a", () -> SafeTensorsFile.open(notEntry), "not a JSON object");

        Path badMeta = file("meta.safetensors", "{\"__metadata__\": {\"step\": 5}}", 0);
        assertCheckpointError(badMeta, null, () -> SafeTensorsFile.open(badMeta), "__metadata__", "'step'", "not a string");
    }

    @Test
    void unknownOrMissingDtype() throws IOException {
        Path unknown = file("fp8.safetensors", "{" + entry("w", "F8_E4M3", "[4]", 0, 4) + "}", 4);
        assertCheckpointError(unknown, "w", () -> SafeTensorsFile.open(unknown), "unsupported dtype 'F8_E4M3'");

        Path missing = file("nodtype.safetensors", "{\"w\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 4);
        assertCheckpointError(missing, "w", () -> SafeTensorsFile.open(missing), "dtype");
    }

    @Test
    void offsetsNotMatchingShape() throws IOException {
        Path tooShort = file("short.safetensors", "{" + entry("w", "F32", "[2,3]", 0, 20) + "}", 24);
        assertCheckpointError(tooShort, "w", () -> SafeTensorsFile.open(tooShort),
                "data_offsets [0, 20] span 20 bytes", "needs 24 bytes");

        Path reversed = file("reversed.safetensors", "{" + entry("w", "U8", "[0]", 8, 4) + "}", 8);
        assertCheckpointError(reversed, "w", () -> SafeTensorsFile.open(reversed), "end before they begin");

        Path negative = file("negative.safetensors", "{" + entry("w", "F32", "[-1,2]", 0, 8) + "}", 8);
        assertCheckpointError(negative, "w", () -> SafeTensorsFile.open(negative), "shape", "non-negative integers");

        Path fractional = file("fraction.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8.5]}}", 8);
        assertCheckpointError(fractional, "w", () -> SafeTensorsFile.open(fractional), "data_offsets");

        Path overflow = file("overflow.safetensors",
                "{" + entry("w", "F32", "[4294967296,4294967296,4294967296]", 0, 8) + "}", 8);
        assertCheckpointError(overflow, "w", () -> SafeTensorsFile.open(overflow), "too large");

        Path overlap = file("overlap.safetensors",
                "{" + entry("a", "F32", "[2]", 0, 8) + "," + entry("b", "F32", "[2]", 4, 12) + "}", 12);
        assertCheckpointError(overlap, "b", () -> SafeTensorsFile.open(overlap), "overlap", "'a'");
    }

    @Test
    void missingFile() {
        Path missing = tmp.resolve("nowhere.safetensors");
        assertCheckpointError(missing, null, () -> SafeTensorsFile.open(missing), "file not found");
    }

    @Test
    void unknownTensorAndBadTarget() throws IOException {
        Path file = tmp.resolve("ok.safetensors");
        SafeTensorsWriter.write(file, Map.of("a", Nd4j.scalar(1f)), null);
        try (SafeTensorsFile st = SafeTensorsFile.open(file)) {
            assertCheckpointError(file, "b", () -> st.load("b"), "is not in this file");
            assertCheckpointError(file, "b", () -> st.info("b"), "is not in this file");
            assertCheckpointError(file, "b", () -> st.fileOf("b"), "is not in this file");
            assertThrows(IllegalArgumentException.class, () -> st.load("a", DataType.UTF8));
        }
    }
}
