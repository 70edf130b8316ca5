package io.github.vdep.models.hf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.function.Executable;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/** Exact comparisons of arrays and checks of {@link CheckpointException} messages. */
final class TensorAssertions {

    private TensorAssertions() {
    }

    /** Same type, shape and bit-exact values (NaN equal to NaN), whatever the orderings. */
    static void assertSameTensor(INDArray expected, INDArray actual) {
        assertEquals(expected.dataType(), actual.dataType(), "data type");
        assertArrayEquals(expected.shape(), actual.shape(), "shape");
        assertEquals(expected.rank(), actual.rank(), "rank");
        if (expected.isEmpty()) {
            assertTrue(actual.isEmpty(), "expected an empty array");
            return;
        }
        DataType t = expected.dataType();
        if (t == DataType.INT64 || t == DataType.INT32 || t == DataType.INT16 || t == DataType.INT8
                || t == DataType.UINT8 || t == DataType.BOOL) {
            assertArrayEquals(expected.dup('c').data().asLong(), actual.dup('c').data().asLong(), "values");
        } else {
            assertArrayEquals(expected.dup('c').data().asDouble(), actual.dup('c').data().asDouble(), "values");
        }
    }

    /**
     * Asserts that the call fails with a CheckpointException that names the file (and the tensor
     * if given) and contains each fragment.
     */
    static CheckpointException assertCheckpointError(Path file, String tensor, Executable call, String... fragments) {
        CheckpointException e = assertThrows(CheckpointException.class, call);
        String message = e.getMessage();
        assertTrue(message.contains(file.getFileName().toString()), () -> "file not named in: " + message);
        assertEquals(file.getFileName(), e.file().getFileName(), "file()");
        if (tensor != null) {
            assertTrue(message.contains("'" + tensor + "'"), () -> "tensor not named in: " + message);
            assertEquals(tensor, e.tensor().orElse(null), "tensor()");
        }
        for (String f : fragments) {
            assertTrue(message.contains(f), () -> "'" + f + "' not in: " + message);
        }
        return e;
    }
}
