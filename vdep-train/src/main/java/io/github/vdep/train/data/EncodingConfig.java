package io.github.vdep.train.data;

/**
 * How records become token sequences.
 *
 * @param imageTokenIndex the id written at each image position (llava-hf's
 *                        {@code image_token_index}, e.g. 32000)
 * @param numPatches      positions per image ({@code image_seq_length}: 576 for CLIP ViT-L/14 at 336 px)
 * @param maxLength       the longest sequence kept, image positions included (LLaVA-1.5: 2048)
 */
public record EncodingConfig(int imageTokenIndex, int numPatches, int maxLength) {

    /** Validates the values. */
    public EncodingConfig {
        if (imageTokenIndex < 0) {
            throw new IllegalArgumentException("imageTokenIndex must be a vocabulary id (>= 0), got " + imageTokenIndex);
        }
        if (numPatches <= 0) {
            throw new IllegalArgumentException("numPatches must be positive, got " + numPatches);
        }
        if (maxLength <= 1) {
            throw new IllegalArgumentException("maxLength must be at least 2, got " + maxLength);
        }
    }
}
