package io.github.vdep.core.device;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** {@code --precision}: parsing, the default, and BF16 refused in one line where no kernels run it. */
class PrecisionTest {

    @Test
    void parsesTheOptionValuesAndTorchNames() {
        assertEquals(Precision.FP32, Precision.parse("fp32"));
        assertEquals(Precision.BF16, Precision.parse("BF16"));
        assertEquals(Precision.BF16, Precision.parse("bfloat16"));
        assertEquals(Precision.FP32, Precision.parse("float32"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Precision.parse("fp16"));
        assertEquals("--precision 'fp16' is not fp32 or bf16", e.getMessage());
    }

    @Test
    void theDefaultIsFp32EverywhereWhileNoDeviceRunsBf16() {
        for (Device d : new Device[] {Device.CPU, Device.cuda(0), Device.cuda(3)}) {
            assertEquals(Precision.FP32, Precision.defaultFor(d), d.toString());
            assertDoesNotThrow(() -> Precision.defaultFor(d).requireSupported(d));
        }
    }

    @Test
    void bf16IsRefusedInOneLineNamingTheOptionOnTheCpuAndOnCuda() {
        PrecisionUnsupportedException cpu = assertThrows(PrecisionUnsupportedException.class, () -> Precision.BF16.requireSupported(Device.CPU));
        assertTrue(cpu.getMessage().startsWith("--precision bf16 is not supported on the CPU"), cpu.getMessage());
        assertTrue(cpu.getMessage().endsWith("use --precision fp32"), cpu.getMessage());
        PrecisionUnsupportedException cuda = assertThrows(PrecisionUnsupportedException.class, () -> Precision.BF16.requireSupported(Device.cuda(1)));
        assertEquals("--precision bf16 on cuda:1: the CUDA BF16 kernels are not built yet; pass --precision fp32", cuda.getMessage());
        for (String m : new String[] {cpu.getMessage(), cuda.getMessage()}) {
            assertTrue(!m.contains("\n"), m);
        }
    }
}
