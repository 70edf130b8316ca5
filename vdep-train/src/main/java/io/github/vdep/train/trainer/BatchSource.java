package io.github.vdep.train.trainer;

import io.github.vdep.train.data.Batch;
import io.github.vdep.train.data.DataPosition;
import java.util.Iterator;

/** Opens the (endless, multi-epoch) batch stream at a position; the iterator is closed if AutoCloseable. */
@FunctionalInterface
public interface BatchSource {
    Iterator<Batch> open(DataPosition from);
}
