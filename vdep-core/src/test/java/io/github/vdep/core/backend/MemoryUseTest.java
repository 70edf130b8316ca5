package io.github.vdep.core.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.github.vdep.core.autograd.Tensor;
import io.github.vdep.core.cuda.HostCudaApi;
import io.github.vdep.core.device.Device;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

/** Peak memory as each backend measures it: plausible numbers that follow an allocation and a reset. */
class MemoryUseTest {

    @Test
    void cpuReportsTheProcessResidentSetWithAResettablePeak() {
        assumeTrue(System.getProperty("os.name").startsWith("Linux"), "/proc is Linux's");
        Backend cpu = Backends.cpu();
        cpu.resetPeakMemory();
        MemoryUse before = cpu.memoryUse();
        assertEquals(MemoryUse.PROCESS_RSS, before.measure());
        assertTrue(before.currentBytes() > 16L << 20 && before.currentBytes() < 1L << 40, "RSS " + before.currentBytes());
        assertTrue(before.peakBytes() >= before.currentBytes());
        // 256 MiB written, then freed (a large malloc is its own mapping, unmapped when freed): the peak must have seen it
        long bytes = 256L << 20;
        org.bytedeco.javacpp.BytePointer big = new org.bytedeco.javacpp.BytePointer(bytes);
        big.fill(1);
        big.deallocate();
        MemoryUse after = cpu.memoryUse();
        assertTrue(after.peakBytes() >= before.currentBytes() + bytes * 9 / 10,
                "peak " + after.peakBytes() + " after touching " + bytes + " bytes on top of " + before.currentBytes());
        if (ProcessMemory.resetPeak()) {
            MemoryUse reset = cpu.memoryUse();
            assertTrue(reset.peakBytes() < after.peakBytes() - bytes / 2, "a reset peak " + reset.peakBytes() + " forgets the freed "
                    + bytes + " bytes (was " + after.peakBytes() + ")");
        }
    }

    @Test
    void aDeviceReportsItsAllocatorBytes() {
        Backends.register(HostCudaApi.provider("emu", 256L << 20));
        Device emu = new Device("emu", 0);
        Backend device = Backends.forDevice(emu);
        device.resetPeakMemory();
        long start = device.memoryUse().currentBytes();
        Tensor t = Tensor.constant(Nd4j.zeros(DataType.FLOAT, 1024, 1024)).to(emu);
        MemoryUse held = device.memoryUse();
        assertEquals(MemoryUse.DEVICE_ALLOCATED, held.measure());
        assertTrue(held.currentBytes() >= start + (4L << 20), "in use " + held.currentBytes());
        assertTrue(held.peakBytes() >= held.currentBytes());
        t.storage().release();
        MemoryUse released = device.memoryUse();
        assertEquals(held.peakBytes(), released.peakBytes(), "the peak stays until a reset");
        assertTrue(released.currentBytes() <= held.currentBytes() - (4L << 20));
        device.resetPeakMemory();
        assertEquals(released.currentBytes(), device.memoryUse().peakBytes());
    }
}
