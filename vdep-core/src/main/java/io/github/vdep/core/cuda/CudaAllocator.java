package io.github.vdep.core.cuda;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * A caching allocator for device memory (as PyTorch's): blocks are rounded up to size classes,
 * and a released block goes to its class's free list for the next request of that class, so
 * steady-state training does no cudaMalloc or cudaFree. When the device is full, the cached
 * blocks are returned to it and the allocation is tried once more; if it still fails,
 * {@link CudaOutOfMemoryException} says in one line what was being allocated, how much, what is
 * in use, and what to lower.
 *
 * <p>Size classes: multiples of 512 bytes up to 1 MiB, then four classes per power of two
 * (2^k, 1.25 2^k, 1.5 2^k, 1.75 2^k), so at most 25% is wasted. Thread-safe.
 */
public final class CudaAllocator {
    static final long SMALL = 512;
    static final long SMALL_LIMIT = 1L << 20;

    private final DeviceMemory memory;
    private final Map<Long, ArrayDeque<Long>> free = new TreeMap<>();
    private final Map<Long, Long> live = new HashMap<>();
    private long inUse;
    private long peak;
    private long cached;
    private long rawAllocations;

    public CudaAllocator(DeviceMemory memory) {
        this.memory = memory;
    }

    /** The size class that serves a request of {@code bytes}. */
    static long sizeClass(long bytes) {
        if (bytes <= 0) {
            return SMALL;
        }
        if (bytes <= SMALL_LIMIT) {
            return (bytes + SMALL - 1) / SMALL * SMALL;
        }
        long pow = Long.highestOneBit(bytes);
        long quarter = pow / 4;
        return (bytes + quarter - 1) / quarter * quarter;
    }

    /**
     * Device memory for at least {@code bytes} bytes; {@code what} names it for the
     * out-of-memory message (for example {@code "attention probabilities [8, 32, 512, 512]"}).
     */
    public synchronized long allocate(long bytes, String what) {
        long size = sizeClass(bytes);
        ArrayDeque<Long> list = free.get(size);
        long address;
        if (list != null && !list.isEmpty()) {
            address = list.pop();
            cached -= size;
        } else {
            address = memory.allocate(size);
            if (address == 0 && cached > 0) {
                releaseCached();
                address = memory.allocate(size);
            }
            if (address == 0) {
                throw new CudaOutOfMemoryException(outOfMemoryMessage(what, bytes));
            }
            rawAllocations++;
        }
        live.put(address, size);
        inUse += size;
        peak = Math.max(peak, inUse);
        return address;
    }

    /** Returns a block from {@link #allocate} to its free list. */
    public synchronized void release(long address) {
        Long size = live.remove(address);
        if (size == null) {
            throw new IllegalStateException(String.format(Locale.ROOT, "device block 0x%x released twice or never allocated", address));
        }
        inUse -= size;
        cached += size;
        free.computeIfAbsent(size, k -> new ArrayDeque<>()).push(address);
    }

    /** Gives every cached (free) block back to the device. */
    public synchronized void releaseCached() {
        for (ArrayDeque<Long> list : free.values()) {
            for (long a : list) {
                memory.free(a);
            }
            list.clear();
        }
        cached = 0;
    }

    /** Bytes held by live blocks (rounded to their size classes). */
    public synchronized long currentBytes() {
        return inUse;
    }

    /** The most {@link #currentBytes()} has been. */
    public synchronized long peakBytes() {
        return peak;
    }

    /** Bytes in the free lists, held from the device but not in use. */
    public synchronized long cachedBytes() {
        return cached;
    }

    /** How many times the device itself was asked for memory. */
    public synchronized long rawAllocations() {
        return rawAllocations;
    }

    /** The device's total memory in bytes, 0 if unknown. */
    public long deviceTotalBytes() {
        return memory.totalBytes();
    }

    /** Starts peak tracking again from the current use. */
    public synchronized void resetPeak() {
        peak = inUse;
    }

    private String outOfMemoryMessage(String what, long bytes) {
        long total = memory.totalBytes();
        return "out of GPU memory allocating " + what + " (" + bytes(bytes) + "): " + bytes(inUse) + " in use by vdep"
                + (total > 0 ? " of " + bytes(total) + " on the device" : "")
                + "; lower --batch-size or --max-length, or use a lower precision";
    }

    /** Bytes in binary units, for example {@code 1.5 GiB}. */
    static String bytes(long b) {
        if (b < 1024) {
            return b + " B";
        }
        String[] units = {"KiB", "MiB", "GiB", "TiB"};
        double v = b;
        int u = -1;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return String.format(Locale.ROOT, "%.1f %s", v, units[u]);
    }
}
