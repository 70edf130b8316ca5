package io.github.vdep.train.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** Values of Hugging Face's get_cosine_schedule_with_warmup, stepped after the optimizer. */
class LrScheduleTest {

    @Test
    void warmupThenCosineAsHuggingFace() {
        // 100 steps, ratio 0.03 -> ceil(3.0) = 3 warmup steps
        LrSchedule s = LrSchedule.of(LrSchedule.Kind.COSINE, 1e-3, 100, 0.03);
        assertEquals(3, s.warmupSteps());
        assertEquals(0.0, s.at(1), 0);
        assertEquals(1e-3 / 3, s.at(2), 1e-15);
        assertEquals(2e-3 / 3, s.at(3), 1e-15);
        assertEquals(1e-3, s.at(4), 1e-15);
        // progress (s-1-3)/97: halfway at s-1 = 3 + 48.5
        assertEquals(1e-3 * 0.5 * (1 + Math.cos(Math.PI * 50.0 / 97)), s.at(54), 1e-15);
        assertEquals(1e-3 * 0.5 * (1 + Math.cos(Math.PI * 96.0 / 97)), s.at(100), 1e-15);
    }

    @Test
    void constantAndRoundedWarmup() {
        LrSchedule c = LrSchedule.of(LrSchedule.Kind.CONSTANT, 2e-5, 10, 0.0);
        assertEquals(2e-5, c.at(1), 0);
        assertEquals(2e-5, c.at(10), 0);
        assertEquals(1, LrSchedule.of(LrSchedule.Kind.COSINE, 1, 10, 0.03).warmupSteps());
    }
}
