package io.github.vdep.train.distributed;

import io.github.vdep.core.autograd.Parameter;
import io.github.vdep.core.backend.Backends;
import io.github.vdep.core.device.DeviceStorage;
import io.github.vdep.train.data.Batch;
import io.github.vdep.train.loss.LossNormalizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * What the trainer does differently as one of N data-parallel ranks, in one place; with one rank
 * every method is the identity.
 *
 * <p>The data stream yields the global batch (N times the per-rank batch) on every rank, so the
 * data position, the skipped records and the epoch ends are those of one process with the global
 * batch. Rank r trains on rows {@code [r*n/N, (r+1)*n/N)} of a global batch of n samples. Each
 * shard's text and image losses are weighted by its share of the global supervised tokens and
 * image pairs ({@link #normalizer()}), and the gradients are summed over the ranks before
 * clipping, so the step is the one-process step on the global batch up to float summation order.
 */
public final class DataParallel {
    private final Collectives comm;

    public DataParallel(Collectives comm) {
        this.comm = comm;
    }

    /** One process. */
    public static DataParallel single() {
        return new DataParallel(SingleProcess.INSTANCE);
    }

    public Collectives collectives() {
        return comm;
    }

    public int rank() {
        return comm.rank();
    }

    public int size() {
        return comm.size();
    }

    /**
     * Whether the steps go through the collectives: more than one rank, or a communicator of one
     * rank asked for explicitly ({@code --ddp-backend}; a check of the data-parallel path on one
     * machine, which must then train exactly like a single process).
     */
    public boolean distributed() {
        return !(comm instanceof SingleProcess);
    }

    /** The first row of this rank's shard of a global batch of {@code n} samples. */
    public int shardStart(int n) {
        return (int) ((long) comm.rank() * n / comm.size());
    }

    /** This rank's rows of {@code global}, trimmed to their longest sample; null when the shard is empty (a short last batch). */
    public Batch shard(Batch global) {
        if (comm.size() == 1) {
            return global; // the whole batch, as it is (a trimmed copy could change the float summation order)
        }
        int n = global.size();
        int lo = shardStart(n);
        int hi = (int) ((long) (comm.rank() + 1) * n / comm.size());
        return lo == hi ? null : rows(global, lo, hi);
    }

    /** Weights each shard's losses by its share of the global counts (one small all-reduce per call). */
    public LossNormalizer normalizer() {
        if (!distributed()) {
            return LossNormalizer.WHOLE;
        }
        return (tokens, pairs) -> {
            double[] global = {tokens, pairs};
            comm.sum(global);
            return new double[] {global[0] == 0 ? 0 : tokens / global[0], global[1] == 0 ? 0 : pairs / global[1]};
        };
    }

    /** A rank with an empty shard takes part in the micro-batch's normalizer all the same. */
    public void skipEmptyShard() {
        normalizer().weights(0, 0);
    }

    /**
     * Sums the gradients over the ranks. A parameter no rank computed a gradient for keeps none
     * (as in one process, where the optimizer then skips it); one that some rank lacks counts zeros there.
     */
    public void sumGradients(Collection<Parameter> params) {
        if (!distributed()) {
            return;
        }
        List<Parameter> list = new ArrayList<>(params);
        double[] present = new double[list.size()];
        for (int i = 0; i < present.length; i++) {
            present[i] = list.get(i).hasGrad() ? 1 : 0;
        }
        comm.sum(present);
        // host gradients (a model on the CPU) and device gradients (a model on a GPU); zeros where this rank has none
        List<INDArray> host = new ArrayList<>();
        List<DeviceStorage> device = new ArrayList<>();
        for (int i = 0; i < present.length; i++) {
            Parameter p = list.get(i);
            if (present[i] == 0) {
                continue;
            }
            if (p.onCpu()) {
                host.add(p.gradBuffer());
            } else {
                if (p.deviceGrad() == null) {
                    p.accumulateGradOwned(Backends.device(p.device()).full(p.shape(), p.dataType(), 0));
                }
                device.add(p.deviceGrad());
            }
        }
        comm.sumInPlace(host);
        comm.sumOnDevice(device);
    }

    /** Sums step statistics over the ranks. */
    public void sum(double[] values) {
        comm.sum(values);
    }

    /**
     * Whether {@code flag} is true on any rank (for example a stop request that reached only some
     * ranks): every rank gets the same answer, so they stop at the same step. A collective call:
     * every rank must make it at the same point.
     */
    public boolean anyRank(boolean flag) {
        if (!distributed()) {
            return flag;
        }
        long[] v = {flag ? 1 : 0};
        comm.max(v);
        return v[0] > 0;
    }

    /** Copies rank 0's parameter values to every rank (the initial weights). */
    public void broadcastFromRankZero(Collection<Parameter> params) {
        if (distributed()) {
            comm.broadcast(params.stream().filter(Parameter::onCpu).map(Parameter::value).toList(), 0);
            comm.broadcastOnDevice(params.stream().filter(p -> !p.onCpu()).map(Parameter::storage).toList(), 0);
        }
    }

    /**
     * Fails (on every rank, naming the ranks' values) unless every rank passes the same values.
     *
     * @param what what the values are, for the message
     */
    public void checkSame(String what, long... values) {
        if (!distributed()) {
            return;
        }
        long[] lo = values.clone();
        long[] hi = values.clone();
        comm.min(lo);
        comm.max(hi);
        if (!Arrays.equals(lo, hi)) {
            throw new DistributedException("rank " + comm.rank() + ": the ranks disagree on " + what + " (this rank " + Arrays.toString(values)
                    + ", minimum " + Arrays.toString(lo) + ", maximum " + Arrays.toString(hi) + ")");
        }
    }

    /** Rows [lo, hi) of a batch, with its images, trimmed to the longest of them (right padding). */
    static Batch rows(Batch b, int lo, int hi) {
        INDArray mask = b.attentionMask();
        long t = 0;
        for (int i = lo; i < hi; i++) {
            long[] row = mask.getRow(i).toLongVector();
            for (int j = row.length - 1; j >= 0; j--) {
                if (row[j] != 0) {
                    t = Math.max(t, j + 1);
                    break;
                }
            }
        }
        t = Math.max(t, 1);
        INDArray ids = b.inputIds().get(NDArrayIndex.interval(lo, hi), NDArrayIndex.interval(0, t)).dup('c');
        INDArray m = mask.get(NDArrayIndex.interval(lo, hi), NDArrayIndex.interval(0, t)).dup('c');
        INDArray labels = b.labels().get(NDArrayIndex.interval(lo, hi), NDArrayIndex.interval(0, t)).dup('c');
        int first = 0;
        while (first < b.imageSample().length && b.imageSample()[first] < lo) {
            first++;
        }
        int end = first;
        while (end < b.imageSample().length && b.imageSample()[end] < hi) {
            end++;
        }
        int[] imageSample = new int[end - first];
        for (int i = first; i < end; i++) {
            imageSample[i - first] = b.imageSample()[i] - lo;
        }
        INDArray pixels = end == first ? null
                : b.pixelValues().get(NDArrayIndex.interval(first, end), NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.all()).dup('c');
        return new Batch(ids, m, labels, pixels, imageSample, List.copyOf(b.sampleIds().subList(lo, hi)), b.position());
    }
}
