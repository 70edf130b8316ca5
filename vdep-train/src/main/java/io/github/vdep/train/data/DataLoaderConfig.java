package io.github.vdep.train.data;

import io.github.vdep.train.data.image.ImageLoader;
import java.util.Objects;

/**
 * Settings of a {@link LlavaDataLoader}.
 *
 * @param batchSize       samples per batch (the last batch of an epoch may be smaller)
 * @param encoding        image token id, patches per image and maximum length
 * @param shuffle         whether each epoch visits the records in a shuffled order
 * @param seed            the shuffle seed: epoch {@code e} uses
 *                        {@code Collections.shuffle(indices, new Random(seed + e))}
 * @param onBadRecord     what to do with records that cannot be used
 * @param prefetchBatches batches prepared ahead by a background thread; 0 prepares each batch in
 *                        the caller's thread when it is asked for
 * @param workers         threads that tokenise and decode images (results are used in record
 *                        order, so the batches do not depend on it); 0 does that work in the
 *                        thread that assembles batches
 * @param maxImagePixels  images declaring more pixels (width x height, read from the file's header
 *                        before decoding) are bad records; Pillow's {@code Image.MAX_IMAGE_PIXELS}
 *                        by default
 */
public record DataLoaderConfig(int batchSize, EncodingConfig encoding, boolean shuffle, long seed,
        OnBadRecord onBadRecord, int prefetchBatches, int workers, long maxImagePixels) {

    /** LLaVA's (Hugging Face Trainer's) default seed. */
    public static final long DEFAULT_SEED = 42;

    /** Validates the values. */
    public DataLoaderConfig {
        if (batchSize <= 0) {
            throw new IllegalArgumentException("batchSize must be positive, got " + batchSize);
        }
        Objects.requireNonNull(encoding, "encoding");
        Objects.requireNonNull(onBadRecord, "onBadRecord");
        if (prefetchBatches < 0) {
            throw new IllegalArgumentException("prefetchBatches must be >= 0, got " + prefetchBatches);
        }
        if (workers < 0) {
            throw new IllegalArgumentException("workers must be >= 0, got " + workers);
        }
        if (maxImagePixels < 1) {
            throw new IllegalArgumentException("maxImagePixels must be positive, got " + maxImagePixels);
        }
    }

    /** Settings with the default image pixel limit ({@link ImageLoader#DEFAULT_MAX_PIXELS}). */
    public DataLoaderConfig(int batchSize, EncodingConfig encoding, boolean shuffle, long seed, OnBadRecord onBadRecord,
            int prefetchBatches, int workers) {
        this(batchSize, encoding, shuffle, seed, onBadRecord, prefetchBatches, workers, ImageLoader.DEFAULT_MAX_PIXELS);
    }

    /**
     * @param pixels the largest image (width x height) to decode
     * @return a copy with this limit
     */
    public DataLoaderConfig withMaxImagePixels(long pixels) {
        return new DataLoaderConfig(batchSize, encoding, shuffle, seed, onBadRecord, prefetchBatches, workers, pixels);
    }

    /**
     * Defaults: shuffled with seed {@value #DEFAULT_SEED}, bad records skipped, 2 batches
     * prefetched, 1 worker thread.
     *
     * @param batchSize samples per batch
     * @param encoding  encoding settings
     * @return the settings
     */
    public static DataLoaderConfig of(int batchSize, EncodingConfig encoding) {
        return new DataLoaderConfig(batchSize, encoding, true, DEFAULT_SEED, OnBadRecord.SKIP, 2, 1);
    }

    /**
     * @param on   whether to shuffle
     * @param seed the shuffle seed
     * @return a copy with these shuffle settings
     */
    public DataLoaderConfig withShuffle(boolean on, long seed) {
        return new DataLoaderConfig(batchSize, encoding, on, seed, onBadRecord, prefetchBatches, workers, maxImagePixels);
    }

    /**
     * @param policy the bad-record policy
     * @return a copy with it
     */
    public DataLoaderConfig withOnBadRecord(OnBadRecord policy) {
        return new DataLoaderConfig(batchSize, encoding, shuffle, seed, policy, prefetchBatches, workers, maxImagePixels);
    }

    /**
     * @param batches batches to prepare ahead (0: none, no background thread)
     * @param threads worker threads (0: none)
     * @return a copy with these settings
     */
    public DataLoaderConfig withPrefetch(int batches, int threads) {
        return new DataLoaderConfig(batchSize, encoding, shuffle, seed, onBadRecord, batches, threads, maxImagePixels);
    }
}
