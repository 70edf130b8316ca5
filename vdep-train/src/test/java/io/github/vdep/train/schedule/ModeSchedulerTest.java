package io.github.vdep.train.schedule;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.vdep.train.loss.BatchMode;
import org.junit.jupiter.api.Test;

class ModeSchedulerTest {

    private static String sequence(ModeScheduler s, int steps) {
        StringBuilder b = new StringBuilder();
        for (int step = 1; step <= steps; step++) {
            b.append(s.modeFor(step, 4, (step - 1) * 4L).kind() == BatchMode.Kind.VDEP ? 'V' : 'L');
        }
        return b.toString();
    }

    @Test
    void alternatingStartsWithVdepAndFollowsTheRatio() {
        assertEquals("VLVLVLVL", sequence(new ModeScheduler(1, 1, ModePolicy.ALTERNATING, 0), 8));
        assertEquals("VVLVVLVV", sequence(new ModeScheduler(2, 1, ModePolicy.ALTERNATING, 0), 8));
        assertEquals("VLLLVLLL", sequence(new ModeScheduler(1, 3, ModePolicy.ALTERNATING, 0), 8));
        assertEquals("LLLLLLLL", sequence(ModeScheduler.llavaOnly(), 8));
        assertEquals("VVVV", sequence(new ModeScheduler(1, 0, ModePolicy.ALTERNATING, 0), 4));
    }

    @Test
    void randomIsSeededReproducibleAndNearTheRatio() {
        String a = sequence(new ModeScheduler(1, 1, ModePolicy.RANDOM, 7), 2000);
        assertEquals(a, sequence(new ModeScheduler(1, 1, ModePolicy.RANDOM, 7), 2000));
        assertTrue(!a.equals(sequence(new ModeScheduler(1, 1, ModePolicy.RANDOM, 8), 2000)));
        long v = a.chars().filter(c -> c == 'V').count();
        assertTrue(v > 900 && v < 1100, "about half VDEP: " + v);
        String skewed = sequence(new ModeScheduler(3, 1, ModePolicy.RANDOM, 7), 2000);
        long v3 = skewed.chars().filter(c -> c == 'V').count();
        assertTrue(v3 > 1400 && v3 < 1600, "about three quarters VDEP: " + v3);
    }

    @Test
    void perSampleSplitsEachBatchInTheRatio() {
        ModeScheduler s = new ModeScheduler(1, 1, ModePolicy.PER_SAMPLE, 0);
        BatchMode m = s.modeFor(1, 4, 0);
        assertEquals(BatchMode.Kind.MIXED, m.kind());
        assertArrayEquals(new boolean[] {true, false, true, false}, m.vdepSamples());
        BatchMode odd = s.modeFor(2, 3, 4);
        assertArrayEquals(new boolean[] {true, false, true}, odd.vdepSamples());
        BatchMode three = new ModeScheduler(1, 2, ModePolicy.PER_SAMPLE, 0).modeFor(1, 6, 0);
        assertArrayEquals(new boolean[] {true, false, false, true, false, false}, three.vdepSamples());
    }

    @Test
    void parsesRatiosAndPolicies() {
        assertArrayEquals(new int[] {2, 3}, ModeScheduler.parseRatio("2:3"));
        assertThrows(IllegalArgumentException.class, () -> ModeScheduler.parseRatio("2-3"));
        assertThrows(IllegalArgumentException.class, () -> new ModeScheduler(0, 0, ModePolicy.ALTERNATING, 0));
        assertEquals(ModePolicy.PER_SAMPLE, ModePolicy.parse("per-sample"));
        assertThrows(IllegalArgumentException.class, () -> ModePolicy.parse("sometimes"));
    }

    @Test
    void alphaSchedules() {
        assertEquals(0.5, AlphaSchedule.parse("0.5").at(7, 10), 0);
        AlphaSchedule lin = AlphaSchedule.parse("linear:0:1");
        assertEquals(0.0, lin.at(1, 11), 1e-12);
        assertEquals(0.5, lin.at(6, 11), 1e-12);
        assertEquals(1.0, lin.at(11, 11), 1e-12);
        AlphaSchedule cos = AlphaSchedule.parse("cosine:1:0");
        assertEquals(1.0, cos.at(1, 11), 1e-12);
        assertEquals(0.5, cos.at(6, 11), 1e-12);
        assertEquals(0.0, cos.at(11, 11), 1e-12);
        assertThrows(IllegalArgumentException.class, () -> AlphaSchedule.parse("big"));
    }
}
