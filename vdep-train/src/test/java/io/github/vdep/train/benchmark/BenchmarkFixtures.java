package io.github.vdep.train.benchmark;

import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Path;

/** The fixtures written by {@code scripts/eval-fixtures/make_eval_fixtures.py}. */
final class BenchmarkFixtures {

    private BenchmarkFixtures() {
    }

    static Path resource(String name) {
        URL url = BenchmarkFixtures.class.getResource("/eval/" + name);
        if (url == null) {
            throw new IllegalStateException("missing test resource eval/" + name + " (run scripts/eval-fixtures/make_eval_fixtures.py)");
        }
        try {
            return Path.of(url.toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The synthetic benchmark root (LLaVA's playground/data/eval layout). */
    static Path suite() {
        return resource("suite");
    }
}
