package io.github.vdep.train.distributed;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import io.github.vdep.train.data.Batch;
import io.github.vdep.train.data.DataPosition;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class DataParallelTest {
    /** A fake world of {@code size} ranks seen from {@code rank}: only rank() and size() are used by sharding. */
    private static DataParallel rank(int rank, int size) {
        return new DataParallel(new Collectives() {
            public int rank() {
                return rank;
            }

            public int size() {
                return size;
            }

            public String description() {
                return "test";
            }

            public void sumInPlace(List<INDArray> arrays) {
            }

            public void sum(double[] values) {
            }

            public void min(long[] values) {
            }

            public void max(long[] values) {
            }

            public void broadcast(List<INDArray> arrays, int root) {
            }

            public void barrier() {
            }

            public double seconds() {
                return 0;
            }

            public void abort(int exitCode) {
            }

            public void close() {
            }
        });
    }

    /** 5 samples of lengths 2, 5, 3, 1, 4 (right padded to 5); samples 1, 2 and 4 have an image whose pixels hold its sample index. */
    private static Batch batch() {
        int[] lengths = {2, 5, 3, 1, 4};
        long[][] ids = new long[5][5];
        long[][] mask = new long[5][5];
        long[][] labels = new long[5][5];
        for (int i = 0; i < 5; i++) {
            for (int j = 0; j < 5; j++) {
                boolean real = j < lengths[i];
                ids[i][j] = real ? 10 * i + j : 0;
                mask[i][j] = real ? 1 : 0;
                labels[i][j] = real ? 10 * i + j : -100;
            }
        }
        int[] imageSample = {1, 2, 4};
        INDArray pixels = Nd4j.create(DataType.FLOAT, 3, 3, 2, 2);
        for (int k = 0; k < 3; k++) {
            pixels.slice(k).assign(imageSample[k]);
        }
        return new Batch(Nd4j.createFromArray(ids), Nd4j.createFromArray(mask), Nd4j.createFromArray(labels), pixels, imageSample,
                List.of("a", "b", "c", "d", "e"), new DataPosition(1, 5));
    }

    @Test
    void oneRankTrainsOnTheWholeBatch() {
        Batch b = batch();
        assertSame(b, DataParallel.single().shard(b));
        assertEquals(0, DataParallel.single().shardStart(5));
    }

    @Test
    void ranksSplitTheGlobalBatchEvenlyTrimmedToTheirLongestSample() {
        Batch b = batch();
        Batch r0 = rank(0, 2).shard(b); // rows 0, 1
        Batch r1 = rank(1, 2).shard(b); // rows 2, 3, 4
        assertEquals(List.of("a", "b"), r0.sampleIds());
        assertEquals(List.of("c", "d", "e"), r1.sampleIds());
        assertArrayEquals(new long[] {2, 5}, r0.inputIds().shape());
        assertArrayEquals(new long[] {3, 4}, r1.inputIds().shape());
        assertEquals(b.inputIds().getRow(3).get(org.nd4j.linalg.indexing.NDArrayIndex.interval(0, 4)), r1.inputIds().getRow(1));
        assertEquals(b.labels().getRow(4).get(org.nd4j.linalg.indexing.NDArrayIndex.interval(0, 4)), r1.labels().getRow(2));
        assertArrayEquals(new int[] {1}, r0.imageSample());
        assertArrayEquals(new int[] {0, 2}, r1.imageSample());
        assertEquals(1.0, r0.pixelValues().getDouble(0, 0, 0, 0));
        assertEquals(2.0, r1.pixelValues().getDouble(0, 0, 0, 0));
        assertEquals(4.0, r1.pixelValues().getDouble(1, 2, 1, 1));
        assertEquals(b.position(), r1.position());
        assertEquals(2, rank(1, 2).shardStart(5));
    }

    @Test
    void aShortLastBatchCanLeaveARankWithout() {
        Batch one = rank(0, 1).shard(batch());
        Batch b = new Batch(one.inputIds().getRows(0), one.attentionMask().getRows(0), one.labels().getRows(0), null, new int[0],
                List.of("a"), one.position());
        assertNull(rank(0, 2).shard(b));
        assertEquals(List.of("a"), rank(1, 2).shard(b).sampleIds());
        assertNull(rank(1, 2).shard(b).pixelValues());
    }
}
