package io.github.vdep.core.backend;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.vdep.core.autograd.Parameter;
import io.github.vdep.core.autograd.Tape;
import io.github.vdep.core.autograd.Tensor;
import io.github.vdep.core.device.Device;
import io.github.vdep.core.device.DeviceUnavailableException;
import io.github.vdep.core.nn.Linear;
import io.github.vdep.core.nn.Module;
import io.github.vdep.core.ops.F;
import io.github.vdep.core.ops.RegressionLoss;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The device seam, exercised with a device backend whose memory is host arrays
 * ({@link FakeDeviceBackend}): dispatch by device, explicit moves, the one-line errors, and a
 * recorded forward and backward whose values and gradients stay in device storage.
 */
class DeviceSeamTest {
    private static final Device FAKE = new Device(FakeDeviceBackend.TYPE, 0);
    private static final FakeDeviceBackend.Provider PROVIDER = new FakeDeviceBackend.Provider();

    @BeforeAll
    static void register() {
        Backends.register(PROVIDER);
    }

    private static FakeDeviceBackend backend() {
        return (FakeDeviceBackend) Backends.device(FAKE);
    }

    /** Two linears and an MSE, small enough to check by hand against the CPU path. */
    static final class TwoLayers extends Module {
        final Linear a = registerModule("a", new Linear(3, 4, true, DataType.DOUBLE));
        final Linear b = registerModule("b", new Linear(4, 2, true, DataType.DOUBLE));

        TwoLayers() {
            a.initNormal(new java.util.SplittableRandom(1), 0.5);
            b.initNormal(new java.util.SplittableRandom(2), 0.5);
        }

        Tensor loss(Tensor x, Tensor target) {
            return RegressionLoss.MSE.apply(b.forward(F.add(a.forward(x), F.scale(a.forward(x), 0.5))), target);
        }
    }

    @Test
    void cpuTensorsDispatchToTheCpuBackendAndStayNd4jArrays() {
        Tensor x = Tensor.constant(Nd4j.rand(DataType.FLOAT, 2, 3));
        assertSame(Device.CPU, x.device());
        assertSame(Backends.cpu(), Backends.of("add", x, x));
        assertSame(x, x.to(Device.CPU));
        assertTrue(F.add(x, x).value() instanceof INDArray);
    }

    @Test
    void toCopiesBothWaysAndValueOfADeviceTensorFailsInOneLineNamingTheCallerAndDevice() {
        INDArray host = Nd4j.createFromArray(new double[] {1, 2, 3, 4, 5, 6}).reshape(2, 3);
        Tensor d = Tensor.constant(host).to(FAKE);
        assertEquals(FAKE, d.device());
        assertFalse(d.onCpu());
        assertArrayEquals(new long[] {2, 3}, d.shape());
        assertEquals(DataType.DOUBLE, d.dataType());
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> d.value());
        assertTrue(e.getMessage().startsWith("DeviceSeamTest.lambda$"), e.getMessage());
        assertTrue(e.getMessage().endsWith(": value() of Tensor[2, 3](DOUBLE, fake:0) is on fake:0; copy it with .to(Device.CPU)"), e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
        Tensor back = d.to(Device.CPU);
        assertNotSame(host, back.value());
        assertEquals(host, back.value());
        host.putScalar(0, 0, 100);
        assertEquals(1.0, back.value().getDouble(0, 0), "to() copies; it does not alias");
    }

    @Test
    void aCpuOnlyOperationOnADeviceTensorNamesTheOperation() {
        Tensor d = Tensor.constant(Nd4j.rand(DataType.DOUBLE, 2, 3)).to(FAKE);
        // gelu is not implemented by the fake backend: it says so, naming the op, rather than copying
        UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class, () -> F.gelu(d));
        assertEquals("fake device: gelu", e.getMessage());
        // a CPU-only computation reading the device tensor's array fails, naming where
        IllegalStateException e2 = assertThrows(IllegalStateException.class, () -> d.value().sumNumber());
        assertTrue(e2.getMessage().endsWith("is on fake:0; copy it with .to(Device.CPU)"), e2.getMessage());
    }

    @Test
    void inputsOnDifferentDevicesAreAOneLineErrorNamingTheOpAndDevices() {
        Tensor c = Tensor.constant(Nd4j.rand(DataType.DOUBLE, 2, 3));
        Tensor d = c.to(FAKE);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> F.add(c, d));
        assertEquals("add: inputs are on different devices (cpu and fake:0); move them to one device with .to(device)", e.getMessage());
        Tensor w = Tensor.constant(Nd4j.rand(DataType.DOUBLE, 4, 3));
        IllegalArgumentException e2 = assertThrows(IllegalArgumentException.class, () -> F.linear(d, w, null));
        assertEquals("linear: inputs are on different devices (fake:0 and cpu); move them to one device with .to(device)", e2.getMessage());
    }

    @Test
    void aMissingDeviceTypeIsUnavailableWithAReason() {
        DeviceUnavailableException e = assertThrows(DeviceUnavailableException.class, () -> Backends.require(new Device("nodevice", 0)));
        assertEquals("nodevice:0: not available: vdep's nodevice backend is not in this build", e.getMessage());
        DeviceUnavailableException e2 = assertThrows(DeviceUnavailableException.class, () -> Backends.require(new Device(FakeDeviceBackend.TYPE, 1)));
        assertEquals("fake:1: not available: only fake:0 exists", e2.getMessage());
        Backends.require(Device.CPU);
    }

    @Test
    void aModuleTrainsOnTheDeviceWithTheSameNumbersAsOnTheCpuAndNoLeakedStorage() {
        INDArray xs = Nd4j.rand(DataType.DOUBLE, 5, 3).subi(0.5);
        INDArray ts = Nd4j.rand(DataType.DOUBLE, 5, 2);

        TwoLayers cpu = new TwoLayers();
        double cpuLoss;
        try (Tape tape = Tape.record()) {
            Tensor loss = cpu.loss(Tensor.constant(xs), Tensor.constant(ts));
            cpuLoss = loss.item();
            tape.backward(loss);
        }

        TwoLayers dev = new TwoLayers();
        FakeDeviceBackend be = backend();
        int before = be.live; // the backend is shared with the other tests
        Module moved = dev.to(FAKE);
        assertSame(dev, moved);
        assertEquals(FAKE, dev.device());
        int paramStorages = dev.parameters().size();
        assertEquals(before + paramStorages, be.live);
        double devLoss;
        try (Tape tape = Tape.record(true)) {
            Tensor x = Tensor.constant(xs).to(FAKE);
            Tensor t = Tensor.constant(ts).to(FAKE);
            Tensor loss = dev.loss(x, t);
            assertEquals(FAKE, loss.device());
            devLoss = loss.item();
            tape.backward(loss);
            // left: parameters, their gradients, the two inputs and the loss (everything else released by the tape)
            assertEquals(before + 2 * paramStorages + 3, be.live);
            x.storage().release();
            t.storage().release();
            loss.storage().release();
        }
        assertEquals(cpuLoss, devLoss, 1e-12);
        for (var e : cpu.namedParameters().entrySet()) {
            Parameter p = dev.namedParameters().get(e.getKey());
            assertTrue(p.hasGrad(), e.getKey());
            IllegalStateException ge = assertThrows(IllegalStateException.class, () -> p.grad());
            assertTrue(ge.getMessage().contains("grad() of Parameter"), ge.getMessage());
            INDArray g = be.download(p.deviceGrad());
            assertTrue(e.getValue().grad().equalsWithEps(g, 1e-12), e.getKey());
        }
        dev.zeroGrad();
        assertEquals(before + paramStorages, be.live, "zeroGrad releases device gradients");
        dev.to(Device.CPU);
        assertEquals(before, be.live, "moving back releases the device memory");
        for (var e : cpu.namedParameters().entrySet()) {
            assertEquals(e.getValue().value(), dev.namedParameters().get(e.getKey()).value());
        }
    }

    @Test
    void loadingAParameterOnTheDeviceUploadsAndConverts() {
        int before = backend().live;
        TwoLayers dev = new TwoLayers().to(FAKE);
        Parameter w = dev.namedParameters().get("a.weight");
        INDArray half = Nd4j.rand(DataType.DOUBLE, 4, 3).castTo(DataType.HALF);
        w.load(half);
        assertEquals(DataType.DOUBLE, w.dataType());
        assertEquals(half.castTo(DataType.DOUBLE), w.to(Device.CPU).value());
        dev.to(Device.CPU);
        assertEquals(before, backend().live, "the replaced and the moved storages are released");
    }
}
