package io.github.vdep.core.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The caching allocator's bookkeeping, on a fake device of fixed capacity. */
class CudaAllocatorTest {

    /** Hands out fake addresses up to a capacity, and checks that frees match allocations. */
    static final class FakeDevice implements DeviceMemory {
        final long capacity;
        long used;
        long next = 0x1000;
        int mallocs;
        int frees;
        final java.util.Map<Long, Long> live = new java.util.HashMap<>();

        FakeDevice(long capacity) {
            this.capacity = capacity;
        }

        @Override
        public long allocate(long bytes) {
            if (used + bytes > capacity) {
                return 0;
            }
            used += bytes;
            mallocs++;
            long a = next;
            next += bytes + 256;
            live.put(a, bytes);
            return a;
        }

        @Override
        public void free(long address) {
            Long b = live.remove(address);
            if (b == null) {
                throw new AssertionError("free of unknown address");
            }
            used -= b;
            frees++;
        }

        @Override
        public long totalBytes() {
            return capacity;
        }
    }

    @Test
    void sizeClassesCoverTheRequestWithBoundedWaste() {
        assertEquals(512, CudaAllocator.sizeClass(1));
        assertEquals(512, CudaAllocator.sizeClass(512));
        assertEquals(1024, CudaAllocator.sizeClass(513));
        assertEquals(1L << 20, CudaAllocator.sizeClass(1L << 20));
        for (long b = 1; b < (1L << 34); b = b * 3 + 7) {
            long c = CudaAllocator.sizeClass(b);
            assertTrue(c >= b, "class " + c + " below request " + b);
            assertTrue(c <= Math.max(512, b * 1.25 + 512), "class " + c + " wastes too much for " + b);
            assertEquals(c, CudaAllocator.sizeClass(c), "a class maps to itself");
        }
    }

    @Test
    void releasedBlocksAreReusedWithoutAskingTheDevice() {
        FakeDevice dev = new FakeDevice(1L << 30);
        CudaAllocator a = new CudaAllocator(dev);
        long x = a.allocate(1000, "x");
        long y = a.allocate(3_000_000, "y");
        assertEquals(2, dev.mallocs);
        assertEquals(1024 + CudaAllocator.sizeClass(3_000_000), a.currentBytes());
        a.release(x);
        a.release(y);
        assertEquals(0, a.currentBytes());
        assertEquals(1024 + CudaAllocator.sizeClass(3_000_000), a.cachedBytes());
        // a training step's worth of the same sizes again: served from the free lists
        for (int step = 0; step < 5; step++) {
            long x2 = a.allocate(1000, "x");
            long y2 = a.allocate(2_900_000, "y"); // same class as 3,000,000
            a.release(y2);
            a.release(x2);
        }
        assertEquals(2, dev.mallocs);
        assertEquals(0, dev.frees);
        assertEquals(2, a.rawAllocations());
    }

    @Test
    void peakAndCurrentBytesFollowUse() {
        CudaAllocator a = new CudaAllocator(new FakeDevice(1L << 30));
        long x = a.allocate(512, "x");
        long y = a.allocate(1024, "y");
        a.release(x);
        long z = a.allocate(512, "z");
        assertEquals(x, z, "the freed block of the same class comes back");
        assertEquals(1536, a.currentBytes());
        assertEquals(1536, a.peakBytes());
        a.release(y);
        a.release(z);
        assertEquals(0, a.currentBytes());
        assertEquals(1536, a.peakBytes());
        a.resetPeak();
        assertEquals(0, a.peakBytes());
    }

    @Test
    void distinctLiveBlocksHaveDistinctAddresses() {
        CudaAllocator a = new CudaAllocator(new FakeDevice(1L << 30));
        Set<Long> seen = new HashSet<>();
        for (int i = 0; i < 100; i++) {
            assertTrue(seen.add(a.allocate(100 + i * 10, "block " + i)));
        }
    }

    @Test
    void aFullDeviceFirstGetsTheCacheBack() {
        FakeDevice dev = new FakeDevice(4L << 20);
        CudaAllocator a = new CudaAllocator(dev);
        long x = a.allocate(3L << 20, "x");
        a.release(x); // cached: the device still holds 3 MiB for vdep
        long y = a.allocate(2L << 20, "y"); // another class: only fits once the cache is freed
        assertNotEquals(0, y);
        assertEquals(1, dev.frees);
        assertEquals(0, a.cachedBytes());
        assertEquals(2L << 20, a.currentBytes());
    }

    @Test
    void outOfMemoryIsOneLineSayingWhatWhyAndWhatToLower() {
        CudaAllocator a = new CudaAllocator(new FakeDevice(8L << 20));
        a.allocate(6L << 20, "weights");
        CudaOutOfMemoryException e = assertThrows(CudaOutOfMemoryException.class,
                () -> a.allocate(4L << 20, "attention probabilities [8, 32, 512, 512]"));
        String m = e.getMessage();
        assertFalse(m.contains("\n"), m);
        assertTrue(m.contains("attention probabilities [8, 32, 512, 512]"), m);
        assertTrue(m.contains("4.0 MiB"), m);
        assertTrue(m.contains("6.0 MiB in use"), m);
        assertTrue(m.contains("8.0 MiB on the device"), m);
        assertTrue(m.contains("--batch-size") && m.contains("--max-length") && m.contains("precision"), m);
        assertEquals(6L << 20, a.currentBytes(), "a failed allocation changes nothing");
    }

    @Test
    void releasingTwiceIsAnError() {
        CudaAllocator a = new CudaAllocator(new FakeDevice(1L << 20));
        long x = a.allocate(100, "x");
        a.release(x);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> a.release(x));
        assertTrue(e.getMessage().contains("released twice"));
    }
}
