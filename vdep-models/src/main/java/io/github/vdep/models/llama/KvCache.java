package io.github.vdep.models.llama;

import java.util.ArrayList;
import java.util.List;

/** Per-layer key/value caches of a LLaMA model for generation; positions continue from {@link #length()}. */
public final class KvCache {
    private final List<LayerKvCache> layers = new ArrayList<>();

    public KvCache(int numLayers) {
        for (int i = 0; i < numLayers; i++) {
            layers.add(new LayerKvCache());
        }
    }

    public LayerKvCache layer(int i) {
        return layers.get(i);
    }

    /** Positions already cached. */
    public long length() {
        return layers.isEmpty() ? 0 : layers.get(0).length();
    }
}
