package io.github.vdep.core.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** The grouping that makes the GPU's scatter-add (embedding backward) reproducible. */
class RowGroupsTest {

    @Test
    void positionsAreGroupedByTargetRowInOrder() {
        RowGroups g = RowGroups.of(new int[] {5, 2, 5, 7, 2, 5});
        assertArrayEquals(new int[] {5, 2, 7}, g.rows());
        assertArrayEquals(new int[] {0, 3, 5, 6}, g.offsets());
        assertArrayEquals(new int[] {0, 2, 5, 1, 4, 3}, g.positions());
        assertEquals(3, g.distinct());
    }

    @Test
    void emptyAndDistinctInputs() {
        RowGroups e = RowGroups.of(new int[0]);
        assertEquals(0, e.distinct());
        assertArrayEquals(new int[] {0}, e.offsets());
        RowGroups d = RowGroups.of(new int[] {3, 1, 0});
        assertArrayEquals(new int[] {3, 1, 0}, d.rows());
        assertArrayEquals(new int[] {0, 1, 2, 3}, d.offsets());
        assertArrayEquals(new int[] {0, 1, 2}, d.positions());
    }
}
