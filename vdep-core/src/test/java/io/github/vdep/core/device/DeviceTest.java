package io.github.vdep.core.device;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class DeviceTest {
    @Test
    void parsesTheDeviceOptionValues() {
        assertEquals(Device.CPU, Device.parse("cpu"));
        assertTrue(Device.parse("cpu").isCpu());
        assertEquals(Device.cuda(0), Device.parse("cuda"));
        assertEquals(Device.cuda(3), Device.parse("cuda:3"));
        assertFalse(Device.parse("cuda:1").isCpu());
        assertEquals("cuda:1", Device.parse("cuda:1").toString());
        assertEquals("cpu", Device.CPU.toString());
    }

    @Test
    void rejectsAnythingElseInOneLine() {
        for (String bad : new String[] {"gpu", "cuda:", "cuda:-1", "cpu:1", "CUDA", "", "cuda:0:1", "mps"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Device.parse(bad), bad);
            assertEquals("device '" + bad + "' is not cpu, cuda or cuda:N", e.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> new Device("cpu", 1));
        assertThrows(IllegalArgumentException.class, () -> new Device("Cuda", 0));
    }
}
