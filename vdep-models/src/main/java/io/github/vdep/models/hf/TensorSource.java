package io.github.vdep.models.hf;

import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Named tensors stored in one or more checkpoint files, loaded on demand.
 *
 * <p>Implementations validate their headers when opened, so a source that opened successfully
 * only fails later on I/O errors, unknown names, or (for sharded sources) shards that are missing
 * or disagree with their index. All errors are {@link CheckpointException}s naming the file.
 */
public interface TensorSource extends AutoCloseable {

    /**
     * Returns the names of all tensors.
     *
     * @return an unmodifiable set, sorted by name
     */
    Set<String> names();

    /**
     * Returns the header entry of a tensor.
     *
     * @param name a tensor name
     * @return its dtype, shape and byte range
     * @throws CheckpointException if there is no such tensor
     */
    TensorInfo info(String name);

    /**
     * Loads a tensor as its default type: FLOAT (float32) for every floating-point type, LONG for
     * every integer type, BOOL for BOOL. The result is 'c'-ordered, detached from any workspace,
     * and rank 0 for a scalar.
     *
     * @param name a tensor name
     * @return a new array owned by the caller
     * @throws CheckpointException if there is no such tensor or it cannot be read
     */
    INDArray load(String name);

    /**
     * Loads a tensor converted to the given type. F64 data loaded as DOUBLE is exact; other
     * conversions go through the default type of {@link #load(String)}.
     *
     * @param name a tensor name
     * @param target the ND4J type of the result
     * @return a new array owned by the caller
     * @throws CheckpointException if there is no such tensor or it cannot be read
     * @throws IllegalArgumentException if {@code target} is not a numeric or boolean type
     */
    INDArray load(String name, DataType target);

    /**
     * Returns the file that stores a tensor.
     *
     * @param name a tensor name
     * @return the path of the file holding it
     * @throws CheckpointException if there is no such tensor
     */
    Path fileOf(String name);

    /**
     * Returns free-form metadata: the {@code __metadata__} header entry of a single file, or the
     * {@code metadata} object of a sharded checkpoint's index.
     *
     * @return an unmodifiable map, empty when the checkpoint has none
     */
    Map<String, String> metadata();

    /** Releases the open files. Arrays already loaded stay valid. */
    @Override
    void close();
}
