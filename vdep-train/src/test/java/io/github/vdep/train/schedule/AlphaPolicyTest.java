package io.github.vdep.train.schedule;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** The alpha specs and the adaptive policies' arithmetic and state. */
class AlphaPolicyTest {
    @Test
    void parsesEverySpec() {
        assertEquals(AlphaSchedule.constant(0.5), AlphaSchedule.parse("0.5"));
        assertEquals(new AlphaSchedule("linear", 0, 1, 0, 0), AlphaSchedule.parse("linear:0:1"));
        assertEquals(AlphaSchedule.lossRatio(0.3, 1.0), AlphaSchedule.parse("ratio:0.3"));
        assertEquals(AlphaSchedule.lossRatio(0.3, 0.1), AlphaSchedule.parse("ratio:0.3:0.1"));
        assertEquals(AlphaSchedule.gradNorm(0.5, 1), AlphaSchedule.parse("gradnorm:0.5"));
        assertEquals(AlphaSchedule.gradNorm(0.5, 4), AlphaSchedule.parse("GradNorm:0.5:4"));
        for (String spec : new String[] {"0.5", "linear:0.0:1.0", "ratio:0.3:0.1", "gradnorm:0.5:4"}) {
            assertEquals(AlphaSchedule.parse(spec), AlphaSchedule.parse(AlphaSchedule.parse(spec).toString()), spec);
        }
        for (String bad : new String[] {"ratio", "ratio:x", "gradnorm:1:0", "gradnorm:1:1.5", "-1", "ratio:-1", "cosine:1"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> AlphaSchedule.parse(bad), bad);
            assertTrue(e.getMessage().contains("alpha"), e.getMessage());
        }
    }

    @Test
    void fixedSchedulesIgnoreObservations() {
        AlphaPolicy p = AlphaSchedule.parse("linear:0:1").policy();
        p.observeLosses(2.0, 1.0);
        assertEquals(0.5, p.alphaAt(2, 3), 1e-15);
        assertFalse(p.measuresGradientsNow());
        assertTrue(p.state().isEmpty());
    }

    @Test
    void lossRatioTracksTheMovingAverages() {
        AlphaPolicy p = AlphaSchedule.parse("ratio:0.5:0.2").policy();
        assertEquals(0.2, p.alphaAt(1, 10), 0.0, "the first value until an image loss is seen");
        p.observeLosses(2.0, null);
        assertEquals(0.2, p.alphaAt(2, 10), 0.0, "a step without image loss is not an observation");
        p.observeLosses(2.0, 4.0);
        assertEquals(0.5 * 2.0 / 4.0, p.alphaAt(2, 10), 1e-15, "bias-corrected: the first observation alone");
        p.observeLosses(1.0, 1.0);
        double text = 0.9 * 0.1 * 2.0 + 0.1 * 1.0;
        double image = 0.9 * 0.1 * 4.0 + 0.1 * 1.0;
        assertEquals(0.5 * text / image, p.alphaAt(3, 10), 1e-15);
        p.observeLosses(Double.NaN, 1.0);
        assertEquals(0.5 * text / image, p.alphaAt(4, 10), 1e-15, "non-finite losses are ignored");
    }

    @Test
    void gradNormMeasuresEveryKthVdepStepAndBalancesTheNorms() {
        AlphaPolicy p = AlphaSchedule.parse("gradnorm:2:3").policy();
        assertTrue(p.measuresGradientsNow());
        assertEquals(2 * 3.0 / 0.5, p.observeGradientNorms(3.0, 0.5), 1e-12);
        assertFalse(p.measuresGradientsNow());
        assertFalse(p.measuresGradientsNow());
        assertTrue(p.measuresGradientsNow());
        assertEquals(12.0, p.alphaAt(5, 10), 1e-12, "alpha holds between measurements");
        assertEquals(12.0, p.observeGradientNorms(3.0, 0.0), 1e-12, "a step without image gradient is not an observation");
        assertThrows(IllegalStateException.class, () -> AlphaSchedule.parse("ratio:1").policy().observeGradientNorms(1, 1));
    }

    @Test
    void stateRoundTripsAndAMissingStateIsRefused() {
        AlphaPolicy p = AlphaSchedule.parse("ratio:0.5").policy();
        p.observeLosses(2.0, 4.0);
        p.observeLosses(1.5, 0.7);
        Map<String, Double> state = p.state();
        AlphaPolicy q = AlphaSchedule.parse("ratio:0.5").policy();
        q.restore(state);
        assertEquals(p.alphaAt(3, 9), q.alphaAt(3, 9), 0.0);
        p.observeLosses(1.1, 0.3);
        q.observeLosses(1.1, 0.3);
        assertEquals(p.alphaAt(4, 9), q.alphaAt(4, 9), 0.0);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> AlphaSchedule.parse("gradnorm:1").policy().restore(Map.of()));
        assertTrue(e.getMessage().contains("--alpha gradnorm"), e.getMessage());
    }
}
