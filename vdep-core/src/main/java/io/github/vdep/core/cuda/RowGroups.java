package io.github.vdep.core.cuda;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The source positions of a scatter-add grouped by target row (compressed rows), for
 * {@link CudaKernels#scatterAddRows}: each distinct target row is summed by one block in the
 * order of its positions, so the GPU needs no atomics and repeated rows (an embedding's
 * repeated tokens) sum reproducibly.
 *
 * @param rows the distinct target rows, in order of first appearance
 * @param offsets rows.length + 1 entries: row u's positions are positions[offsets[u] .. offsets[u + 1])
 * @param positions source positions, ascending within each row
 */
public record RowGroups(int[] rows, int[] offsets, int[] positions) {
    /** Groups source positions i by their target row {@code targets[i]}. */
    public static RowGroups of(int[] targets) {
        Map<Integer, Integer> slot = new LinkedHashMap<>();
        int[] count = new int[targets.length];
        for (int t : targets) {
            int s = slot.computeIfAbsent(t, k -> slot.size());
            count[s]++;
        }
        int u = slot.size();
        int[] rows = new int[u];
        slot.forEach((row, s) -> rows[s] = row);
        int[] offsets = new int[u + 1];
        for (int s = 0; s < u; s++) {
            offsets[s + 1] = offsets[s] + count[s];
        }
        int[] fill = Arrays.copyOf(offsets, u);
        int[] positions = new int[targets.length];
        for (int i = 0; i < targets.length; i++) {
            positions[fill[slot.get(targets[i])]++] = i;
        }
        return new RowGroups(rows, offsets, positions);
    }

    /** How many distinct target rows. */
    public int distinct() {
        return rows.length;
    }
}
