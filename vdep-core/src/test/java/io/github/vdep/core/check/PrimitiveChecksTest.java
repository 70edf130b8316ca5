package io.github.vdep.core.check;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.vdep.core.device.Device;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.factory.Nd4j;

/**
 * {@code vdep selfcheck --device cpu}'s primitive table: the native CPU kernels against ND4J's
 * operations, every primitive forward and backward. (On a GPU the same code compares CUDA with
 * the CPU.)
 */
class PrimitiveChecksTest {

    @Test
    void everyPrimitivePassesOnTheCpu() {
        List<PrimitiveChecks.Result> results = PrimitiveChecks.run(Device.CPU);
        assertTrue(results.size() >= 35, "cases: " + results.size());
        StringBuilder failed = new StringBuilder();
        for (PrimitiveChecks.Result r : results) {
            if (!r.passed()) {
                failed.append(r).append('\n');
            }
        }
        assertTrue(failed.length() == 0, failed.toString());
    }

    @Test
    void theErrorMeasureCatchesWrongValuesShapesAndNaN() {
        var ref = Nd4j.createFromArray(new float[] {1, -4, 2});
        assertEquals(0.0, PrimitiveChecks.error(ref, ref.dup()));
        assertEquals(0.25, PrimitiveChecks.error(ref, Nd4j.createFromArray(new float[] {1, -3, 2})), 1e-7);
        assertTrue(PrimitiveChecks.error(ref, Nd4j.createFromArray(new float[] {1, -4, 2.001f})) > PrimitiveChecks.TOLERANCE);
        assertEquals(Double.POSITIVE_INFINITY, PrimitiveChecks.error(ref, Nd4j.createFromArray(new float[] {1, Float.NaN, 2})));
        assertEquals(Double.POSITIVE_INFINITY, PrimitiveChecks.error(ref, ref.reshape(3, 1)));
        assertEquals(Double.POSITIVE_INFINITY, PrimitiveChecks.error(ref, null));
    }
}
