package io.github.vdep.train.ablation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Student-t quantiles against tabulated values, paired differences and results.json. */
class PairedAblationTest {
    @TempDir
    Path tmp;

    @Test
    void tQuantilesMatchTheTables() {
        // scipy.stats.t.ppf(0.975, df)
        double[][] table = {{1, 12.706204736174698}, {2, 4.302652729749464}, {3, 3.182446305284263}, {4, 2.7764451051977934},
            {9, 2.2621571628540993}, {30, 2.0422724563012373}, {1000, 1.9623390808264078}};
        for (double[] row : table) {
            assertEquals(row[1], StudentT.quantile(0.975, row[0]), 1e-9 * row[1], "df " + row[0]);
        }
        assertEquals(-6.313751514675043, StudentT.quantile(0.05, 1), 1e-9); // scipy t.ppf(0.05, 1)
        assertEquals(0.0, StudentT.quantile(0.5, 7), 0.0);
        // closed forms: Cauchy (df 1) and df 2
        assertEquals(0.75, StudentT.cdf(1, 1), 1e-14);
        assertEquals(0.5 + 1 / Math.sqrt(6), StudentT.cdf(2, 2), 1e-14);
        assertEquals(0.5 - 1 / Math.sqrt(6), StudentT.cdf(-2, 2), 1e-14);
        assertThrows(IllegalArgumentException.class, () -> StudentT.quantile(1.0, 3));
        assertThrows(IllegalArgumentException.class, () -> StudentT.quantile(0.9, 0));
    }

    @Test
    void pairedDifferenceUsesTheTInterval() {
        PairedDifference d = PairedDifference.of(new double[] {1, 2, 3});
        assertEquals(2, d.mean(), 1e-15);
        assertEquals(1, d.sd(), 1e-15);
        double half = 4.302652729749464 / Math.sqrt(3);
        assertEquals(2 - half, d.low(), 1e-9);
        assertEquals(2 + half, d.high(), 1e-9);
        assertFalse(d.excludesZero(), "2 +- 2.48 includes 0");
        assertTrue(PairedDifference.of(new double[] {1, 1.1, 0.9, 1.0}).excludesZero());
        PairedDifference one = PairedDifference.of(new double[] {0.5});
        assertTrue(Double.isNaN(one.sd()) && Double.isNaN(one.low()));
        assertThrows(IllegalArgumentException.class, () -> PairedDifference.of(new double[] {1, Double.NaN}));
    }

    @Test
    void resultsJsonHoldsPerSeedValuesAndPairedDifferences() throws Exception {
        PairedAblation a = new PairedAblation("baseline", List.of(7L, 8L, 9L));
        a.arm("baseline", "--alpha 0");
        a.arm("vdep", "--alpha 1");
        double[] base = {0.5, 0.6, 0.7};
        double[] vdep = {0.55, 0.62, 0.69};
        for (int i = 0; i < 3; i++) {
            a.record("baseline", 7 + i, "exact_match", base[i]);
            a.record("vdep", 7 + i, "exact_match", vdep[i]);
        }
        a.record("vdep", 7, "image_loss", 0.1); // the baseline has none: no pair, no difference
        assertNull(a.difference("vdep", "image_loss"));
        assertThrows(IllegalArgumentException.class, () -> a.record("vdep", 1, "exact_match", 0));
        PairedDifference d = a.difference("vdep", "exact_match");
        assertEquals((0.05 + 0.02 - 0.01) / 3, d.mean(), 1e-12);

        a.writeJson(tmp.resolve("results.json"));
        JsonNode r = new ObjectMapper().readTree(tmp.resolve("results.json").toFile());
        assertEquals("baseline", r.get("baseline").asText());
        assertEquals(0.6, r.at("/arms/baseline/metrics/exact_match/per_seed/8").asDouble(), 0);
        assertEquals("--alpha 1", r.at("/arms/vdep/settings").asText());
        JsonNode diff = r.at("/arms/vdep/difference_vs_baseline/exact_match");
        assertEquals(3, diff.get("n").asInt());
        assertEquals(d.low(), diff.get("ci95_low").asDouble(), 0);
        assertEquals(d.high(), diff.get("ci95_high").asDouble(), 0);
        assertEquals(d.sd(), diff.get("sd").asDouble(), 0);
        assertTrue(r.at("/arms/vdep/difference_vs_baseline/image_loss").isMissingNode());
        assertTrue(r.at("/arms/baseline/metrics/image_loss/per_seed/7").isNull());
    }
}
