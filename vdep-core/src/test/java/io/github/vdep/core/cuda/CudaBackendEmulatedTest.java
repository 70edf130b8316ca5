package io.github.vdep.core.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.vdep.core.autograd.Tape;
import io.github.vdep.core.autograd.Tensor;
import io.github.vdep.core.backend.Backends;
import io.github.vdep.core.backend.DeviceBackend;
import io.github.vdep.core.check.PrimitiveChecks;
import io.github.vdep.core.device.Device;
import io.github.vdep.core.device.DeviceStorage;
import io.github.vdep.core.ops.F;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * {@link CudaBackend}'s Java side (shape checks, strides, kernel arguments, gradient bookkeeping,
 * memory) on {@link HostCudaApi}, a host emulation of the kernels: every primitive of the
 * selfcheck against the CPU path. What this cannot check is the CUDA code itself.
 */
class CudaBackendEmulatedTest {
    static final Device EMU = new Device("emu", 0);

    @BeforeAll
    static void register() {
        Backends.register(HostCudaApi.provider("emu", 256L << 20));
    }

    @Test
    void everyPrimitiveMatchesTheCpuPath() {
        List<PrimitiveChecks.Result> results = PrimitiveChecks.run(EMU);
        StringBuilder failed = new StringBuilder();
        for (PrimitiveChecks.Result r : results) {
            if (!r.passed()) {
                failed.append(r).append('\n');
            }
        }
        assertTrue(failed.length() == 0, failed.toString());
    }

    @Test
    void halfAndBfloat16ChekpointsBecomeFloatOnTheDevice() {
        DeviceBackend be = Backends.device(EMU);
        INDArray values = Nd4j.createFromArray(new float[] {1.5f, -2.25f, 0.099975586f, 65504f, 3.0517578E-5f, 0f}).reshape(2, 3);
        for (DataType t : new DataType[] {DataType.HALF, DataType.BFLOAT16}) {
            INDArray stored = values.castTo(t);
            DeviceStorage s = be.upload(stored, DataType.FLOAT);
            INDArray back = be.download(s);
            assertArrayEquals(new long[] {2, 3}, back.shape());
            assertEquals(stored.castTo(DataType.FLOAT), back, t.toString());
            s.release();
        }
    }

    @Test
    void aTrainingStepReusesTheCachedBlocks() {
        CudaBackend be = (CudaBackend) Backends.device(EMU);
        io.github.vdep.core.autograd.Parameter w = new io.github.vdep.core.autograd.Parameter("w", Nd4j.rand(DataType.FLOAT, 16, 8));
        w.moveTo(EMU);
        INDArray xs = Nd4j.rand(DataType.FLOAT, 4, 8);
        long raw = -1;
        for (int step = 0; step < 4; step++) {
            Tensor x = Tensor.constant(xs).to(EMU);
            try (Tape tape = Tape.record(true)) { // as the Trainer records: values released once backward is past them
                Tensor loss = F.sum(F.gelu(F.linear(x, w, null)));
                tape.backward(loss);
                loss.storage().release();
            }
            w.zeroGrad();
            x.storage().release();
            if (step == 1) {
                raw = be.allocator().rawAllocations();
            }
        }
        assertEquals(raw, be.allocator().rawAllocations(), "steps after the first two allocate nothing new from the device");
    }
}
