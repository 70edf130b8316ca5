package io.github.vdep.train.data;

import io.github.vdep.train.data.image.ClipImageProcessor;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The endless, multi-epoch stream of training {@link Batch}es over LLaVA conversation records.
 *
 * <p><b>Order.</b> Epoch {@code e} visits the records in the order
 * {@code Collections.shuffle(indices, new Random(seed + e))} (or file order without shuffling).
 * Batches take the next {@code batchSize} usable records of that order; a skipped record is
 * replaced by the following one, and a batch never crosses an epoch boundary (the last batch of an
 * epoch may be smaller). Each batch carries the {@link DataPosition} after it: the epoch and how
 * many records of that epoch's order have been consumed ({@code epochSize()} for the last batch
 * of an epoch). A loader started at a batch's position yields exactly the batches an uninterrupted
 * run yields after it. The stream never ends; the trainer decides when to stop (for example after
 * the batch whose position is {@code (0, epochSize())}).
 *
 * <p><b>Threads.</b> With {@code prefetchBatches > 0} one background thread assembles batches
 * ahead into a bounded queue (with {@code workers > 0}, records are tokenised and images decoded on
 * a worker pool, their results taken in record order). The batches are identical with and without
 * prefetching. ND4J arrays are created in the thread calling {@link #next()}. A failure in the
 * background (a bad record under {@link OnBadRecord#FAIL}, naming it) is thrown from
 * {@link #next()}; the loader is unusable afterwards. {@link #close()} stops the threads.
 *
 * <p>Not thread-safe: one consumer thread.
 */
public final class LlavaDataLoader implements Iterator<Batch>, AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(LlavaDataLoader.class);

    /** A failure of the background thread, queued in place of a batch. */
    private record Failure(Throwable error) {
    }

    private final int epochSize;
    private final int padId;
    private final DataLoaderConfig config;
    private final BadRecordStats stats = new BadRecordStats();
    private final BatchProducer producer;
    private final BlockingQueue<Object> queue;
    private final Thread prefetcher;

    private volatile boolean closed;
    private Throwable failure;
    private DataPosition position;

    /**
     * @param records        the records (not copied; must not change while the loader runs)
     * @param tokenizer      the tokenizer
     * @param template       the conversation template
     * @param imageProcessor the image processor, or null for text-only data
     * @param imageFolder    the folder the records' image paths are relative to, or null
     * @param config         batch, encoding, order, bad-record and threading settings
     * @param start          where to start (use {@link DataPosition#START} for a fresh run)
     * @throws IllegalArgumentException if there are no records, the start position is outside the
     *                                  data, or the tokenizer does not suit the template
     */
    public LlavaDataLoader(List<ConversationRecord> records, TextTokenizer tokenizer, ConversationTemplate template,
            ClipImageProcessor imageProcessor, Path imageFolder, DataLoaderConfig config, DataPosition start) {
        Objects.requireNonNull(records, "records");
        Objects.requireNonNull(config, "config");
        Objects.requireNonNull(start, "start");
        if (records.isEmpty()) {
            throw new IllegalArgumentException("The data loader needs at least one record");
        }
        if (start.epoch() < 0 || start.consumed() < 0 || start.consumed() > records.size()) {
            throw new IllegalArgumentException("Start position " + start + " is outside the data (" + records.size()
                    + " records per epoch)");
        }
        this.epochSize = records.size();
        this.config = config;
        this.padId = tokenizer.padId();
        SampleEncoder encoder = new SampleEncoder(tokenizer, template, config.encoding(), imageFolder);
        this.producer = new BatchProducer(records, encoder, imageProcessor, config, start);
        this.position = start;
        if (config.prefetchBatches() > 0) {
            this.queue = new ArrayBlockingQueue<>(config.prefetchBatches());
            this.prefetcher = new Thread(this::prefetchLoop, "vdep-data-prefetch");
            this.prefetcher.setDaemon(true);
            this.prefetcher.start();
        } else {
            this.queue = null;
            this.prefetcher = null;
        }
        LOG.info("Data loader: {} records per epoch, template {}, batch {}, {} from {}, prefetch {}, workers {}",
                epochSize, template.name(), config.batchSize(),
                config.shuffle() ? "shuffled (seed " + config.seed() + ")" : "in file order", start,
                config.prefetchBatches(), config.workers());
    }

    private void prefetchLoop() {
        try {
            while (!closed) {
                Object item;
                try {
                    item = producer.nextBatch();
                } catch (Throwable t) {
                    item = new Failure(t);
                }
                if (closed) {
                    return;
                }
                queue.put(item);
                if (item instanceof Failure) {
                    return;
                }
            }
        } catch (InterruptedException e) {
            // closing
        }
    }

    /** @return the number of records per epoch (usable or not) */
    public int epochSize() {
        return epochSize;
    }

    /** @return the epoch of {@link #position()} */
    public int epoch() {
        return position.epoch();
    }

    /** @return the position after the last batch returned (the start position before the first) */
    public DataPosition position() {
        return position;
    }

    /** @return the loader's settings */
    public DataLoaderConfig config() {
        return config;
    }

    /**
     * @return the records skipped (under {@link OnBadRecord#SKIP}) on the way to the batches returned
     *         so far, per reason; prefetching does not change the counts
     */
    public BadRecordStats badRecords() {
        return stats;
    }

    /** @return true until the loader is closed: the stream is endless */
    @Override
    public boolean hasNext() {
        return !closed;
    }

    /**
     * @return the next batch
     * @throws BadRecordException     under {@link OnBadRecord#FAIL}, naming the bad record
     * @throws IllegalStateException  if preparing data failed otherwise, or the loader is closed
     * @throws NoSuchElementException never for an open loader
     */
    @Override
    public Batch next() {
        if (closed) {
            throw new IllegalStateException("The data loader is closed");
        }
        if (failure != null) {
            throw rethrow(failure);
        }
        BatchProducer.PendingBatch pending;
        if (queue == null) {
            try {
                pending = producer.nextBatch();
            } catch (RuntimeException | Error e) {
                failure = e;
                throw e;
            }
        } else {
            Object item;
            try {
                item = queue.take();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("Interrupted while waiting for the next batch", e);
            }
            if (item instanceof Failure f) {
                failure = f.error();
                throw rethrow(failure);
            }
            pending = (BatchProducer.PendingBatch) item;
        }
        for (BadRecordException bad : pending.skipped()) {
            stats.record(bad);
            LOG.warn("Skipping record '{}' ({}){}", bad.id(), bad.reason(),
                    bad.detail() == null ? "" : ": " + bad.detail());
        }
        Batch batch = BatchCollator.collate(pending.samples(), padId, pending.position());
        position = pending.position();
        if (position.consumed() == epochSize) {
            LOG.info("Data epoch {} done; {}", position.epoch(), stats.summary());
        }
        return batch;
    }

    private static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) {
            throw r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        throw new IllegalStateException("Data preparation failed: " + t, t);
    }

    /** Stops the background threads; later {@link #next()} calls fail. Idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (prefetcher != null) {
            prefetcher.interrupt();
            try {
                prefetcher.join(TimeUnit.SECONDS.toMillis(10));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (prefetcher.isAlive()) {
                LOG.warn("The data prefetch thread did not stop within 10 s");
            }
            queue.clear();
        }
        producer.close();
        if (stats.total() > 0) {
            LOG.warn("Data loader closed at {}: {}", position, stats.summary());
        }
    }
}
