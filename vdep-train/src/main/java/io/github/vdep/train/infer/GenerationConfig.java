package io.github.vdep.train.infer;

/**
 * How {@link Generator} picks tokens and when it stops.
 *
 * @param maxNewTokens the most tokens to generate
 * @param sample       false for greedy decoding (argmax); true for nucleus (top-p) sampling
 * @param topP         nucleus mass in (0, 1]: sampling keeps the most probable tokens whose
 *                     probabilities first reach {@code topP} (at least one token); ignored when greedy
 * @param temperature  logits are divided by it before the softmax, {@code > 0}; ignored when greedy
 * @param seed         seed of the sampler's {@link java.util.SplittableRandom}; ignored when greedy
 * @param eosTokenId   generation stops after this id (not included in the result), or -1 for none
 * @param useKvCache   true (default) to decode one new token per step against the key/value cache;
 *                     false re-runs the whole sequence every step (slow; a reference for tests)
 */
public record GenerationConfig(int maxNewTokens, boolean sample, double topP, double temperature, long seed,
        int eosTokenId, boolean useKvCache) {

    /** Validates the values. */
    public GenerationConfig {
        if (maxNewTokens < 1) {
            throw new IllegalArgumentException("maxNewTokens must be at least 1, got " + maxNewTokens);
        }
        if (sample) {
            if (!(topP > 0 && topP <= 1)) {
                throw new IllegalArgumentException("top-p must be in (0, 1], got " + topP);
            }
            if (!(temperature > 0) || Double.isInfinite(temperature)) {
                throw new IllegalArgumentException("temperature must be positive and finite, got " + temperature);
            }
        }
    }

    /**
     * @param maxNewTokens the most tokens to generate
     * @param eosTokenId   the stop id, or -1
     * @return greedy decoding with the KV cache
     */
    public static GenerationConfig greedy(int maxNewTokens, int eosTokenId) {
        return new GenerationConfig(maxNewTokens, false, 1.0, 1.0, 0L, eosTokenId, true);
    }

    /**
     * @param maxNewTokens the most tokens to generate
     * @param topP         nucleus mass in (0, 1]
     * @param temperature  softmax temperature, positive
     * @param seed         sampler seed
     * @param eosTokenId   the stop id, or -1
     * @return nucleus sampling with the KV cache
     */
    public static GenerationConfig topP(int maxNewTokens, double topP, double temperature, long seed, int eosTokenId) {
        return new GenerationConfig(maxNewTokens, true, topP, temperature, seed, eosTokenId, true);
    }

    /**
     * @param use whether to decode with the KV cache
     * @return this configuration with the cache switched as given
     */
    public GenerationConfig withKvCache(boolean use) {
        return new GenerationConfig(maxNewTokens, sample, topP, temperature, seed, eosTokenId, use);
    }
}
