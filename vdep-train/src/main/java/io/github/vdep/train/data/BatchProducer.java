package io.github.vdep.train.data;

import io.github.vdep.train.data.image.ClipImageProcessor;
import io.github.vdep.train.data.image.ImageDecodeException;
import io.github.vdep.train.data.image.ImageLoader;
import io.github.vdep.train.data.image.ImageTooLargeException;
import io.github.vdep.train.data.image.RgbImage;
import java.nio.file.Files;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Walks the (shuffled, multi-epoch) record order and assembles batches of usable samples,
 * replacing skipped records by the next ones. Not thread-safe: one thread calls
 * {@link #nextBatch()}; encoding may run ahead on a worker pool, but results are taken strictly in
 * record order, so batches do not depend on the number of workers.
 */
final class BatchProducer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(BatchProducer.class);

    /**
     * A prepared batch before collation.
     *
     * @param samples  the usable samples
     * @param position the position after the batch
     * @param skipped  the bad records skipped since the previous batch (under SKIP)
     */
    record PendingBatch(List<LoadedSample> samples, DataPosition position, List<BadRecordException> skipped) {
    }

    /** The result of preparing one record: a sample, a bad record, or an unexpected failure. */
    private record Outcome(String id, LoadedSample sample, BadRecordException bad, Throwable error) {
    }

    private final List<ConversationRecord> records;
    private final SampleEncoder encoder;
    private final ClipImageProcessor imageProcessor;
    private final DataLoaderConfig config;
    private final ExecutorService pool;
    private final int lookahead;
    private final ArrayDeque<Future<Outcome>> pending = new ArrayDeque<>();

    private int epoch;
    private int cursor;
    private int nextSubmit;
    private int[] order;
    private boolean epochFromStart;
    private long usableInEpoch;
    private BadRecordStats epochBad;
    private List<BadRecordException> skipped = new ArrayList<>();

    BatchProducer(List<ConversationRecord> records, SampleEncoder encoder, ClipImageProcessor imageProcessor,
            DataLoaderConfig config, DataPosition start) {
        this.records = records;
        this.encoder = encoder;
        this.imageProcessor = imageProcessor;
        this.config = config;
        if (config.workers() > 0) {
            AtomicInteger n = new AtomicInteger();
            this.pool = Executors.newFixedThreadPool(config.workers(), r -> {
                Thread t = new Thread(r, "vdep-data-worker-" + n.incrementAndGet());
                t.setDaemon(true);
                return t;
            });
            this.lookahead = Math.max(4 * config.workers(), 2);
        } else {
            this.pool = null;
            this.lookahead = 0;
        }
        startEpoch(start.epoch(), (int) start.consumed());
    }

    /**
     * The record order of an epoch.
     *
     * @param size    number of records
     * @param shuffle whether to shuffle
     * @param seed    the seed
     * @param epoch   the epoch
     * @return record indices in visiting order
     */
    static int[] epochOrder(int size, boolean shuffle, long seed, int epoch) {
        List<Integer> indices = new ArrayList<>(size);
        for (int i = 0; i < size; i++) {
            indices.add(i);
        }
        if (shuffle) {
            Collections.shuffle(indices, new Random(seed + epoch));
        }
        int[] out = new int[size];
        for (int i = 0; i < size; i++) {
            out[i] = indices.get(i);
        }
        return out;
    }

    private void startEpoch(int e, int consumed) {
        epoch = e;
        cursor = consumed;
        nextSubmit = consumed;
        epochFromStart = consumed == 0;
        usableInEpoch = 0;
        epochBad = new BadRecordStats();
        order = epochOrder(records.size(), config.shuffle(), config.seed(), e);
    }

    /**
     * @return the next batch: up to {@code batchSize} usable samples from the current epoch
     * @throws BadRecordException    under {@link OnBadRecord#FAIL}, for the first bad record
     * @throws IllegalStateException if preparing a record failed unexpectedly, or a whole epoch
     *                               holds no usable record
     */
    PendingBatch nextBatch() {
        int n = records.size();
        List<LoadedSample> samples = new ArrayList<>(config.batchSize());
        while (true) {
            if (cursor >= n) {
                if (!samples.isEmpty()) {
                    return batch(samples, n);
                }
                if (epochFromStart && usableInEpoch == 0) {
                    throw new IllegalStateException("None of the " + n + " records is usable (epoch " + epoch + "): "
                            + epochBad.summary());
                }
                startEpoch(epoch + 1, 0);
                continue;
            }
            Outcome o = take();
            cursor++;
            if (Thread.currentThread().isInterrupted()) {
                // Closing: an interrupted image read is no evidence against the record.
                throw new IllegalStateException("Interrupted while preparing record '" + o.id() + "'");
            }
            if (o.bad() != null) {
                if (config.onBadRecord() == OnBadRecord.FAIL) {
                    throw o.bad();
                }
                epochBad.record(o.bad());
                skipped.add(o.bad());
                continue;
            }
            if (o.error() != null) {
                throw new IllegalStateException("Preparing record '" + o.id() + "' failed: " + o.error(), o.error());
            }
            usableInEpoch++;
            samples.add(o.sample());
            if (samples.size() == config.batchSize()) {
                return batch(samples, cursor);
            }
        }
    }

    private PendingBatch batch(List<LoadedSample> samples, int consumed) {
        PendingBatch b = new PendingBatch(samples, new DataPosition(epoch, consumed), List.copyOf(skipped));
        skipped = new ArrayList<>();
        return b;
    }

    /** The outcome of the record at {@code cursor}, preparing records ahead on the pool. */
    private Outcome take() {
        if (pool == null) {
            return prepare(order[cursor]);
        }
        while (nextSubmit < order.length && nextSubmit < cursor + lookahead) {
            int index = order[nextSubmit++];
            pending.add(pool.submit(() -> prepare(index)));
        }
        Future<Outcome> f = pending.poll();
        try {
            return f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("Interrupted while preparing record '" + records.get(order[cursor]).id()
                    + "'", e);
        } catch (ExecutionException e) {
            return new Outcome(records.get(order[cursor]).id(), null, null, e.getCause());
        }
    }

    /** Encodes a record and loads its image; never throws. */
    private Outcome prepare(int index) {
        ConversationRecord record = records.get(index);
        try {
            EncodedSample sample = encoder.encode(record);
            if (!sample.hasImage()) {
                return new Outcome(record.id(), LoadedSample.textOnly(sample), null, null);
            }
            if (imageProcessor == null) {
                // a set-up error, not the record's: it stops the run whatever --on-bad-record says
                return new Outcome(record.id(), null, null, new IllegalStateException("record '" + record.id()
                        + "' has an image but the data loader has no image processor"));
            }
            if (!Files.exists(sample.imagePath())) {
                throw new BadRecordException(record.id(), BadRecordReason.MISSING_IMAGE,
                        sample.imagePath() + " does not exist");
            }
            RgbImage prepared;
            float[] pixels;
            try {
                RgbImage image = ImageLoader.loadRgb(sample.imagePath(), config.maxImagePixels());
                prepared = imageProcessor.prepare(image);
                pixels = imageProcessor.pixelValues(prepared);
            } catch (ImageTooLargeException e) {
                throw new BadRecordException(record.id(), BadRecordReason.IMAGE_TOO_LARGE, e.getMessage(), e);
            } catch (ImageDecodeException e) {
                throw new BadRecordException(record.id(), BadRecordReason.UNDECODABLE_IMAGE, e.getMessage(), e);
            } catch (IllegalArgumentException | IllegalStateException | IndexOutOfBoundsException e) {
                // a decoded image whose pixels cannot be processed (odd sizes, colour models)
                throw new BadRecordException(record.id(), BadRecordReason.UNDECODABLE_IMAGE,
                        "cannot process " + sample.imagePath() + ": " + e, e);
            }
            return new Outcome(record.id(), new LoadedSample(sample, pixels, prepared.height(), prepared.width()),
                    null, null);
        } catch (BadRecordException e) {
            return new Outcome(record.id(), null, e, null);
        } catch (RuntimeException e) {
            // anything else this record's preparation throws is about the record: --on-bad-record decides
            return new Outcome(record.id(), null, new BadRecordException(record.id(), BadRecordReason.PREPARATION_FAILED,
                    e.toString(), e), null);
        } catch (Error e) {
            return new Outcome(record.id(), null, null, e);
        }
    }

    /**
     * Stops the worker pool (interrupting running work) and waits for the record in preparation to
     * finish: the caller may close the tokenizer next, and a worker still inside its native encode
     * would then read freed memory (a JVM crash, seen in the tests). Safe to call from another thread.
     */
    @Override
    public void close() {
        if (pool == null) {
            return;
        }
        pool.shutdownNow();
        if (Thread.currentThread().getName().startsWith("vdep-data-worker-")) {
            return; // a worker cannot wait for itself
        }
        try {
            if (!pool.awaitTermination(60, TimeUnit.SECONDS)) {
                LOG.warn("data loader workers still running 60 s after close");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
