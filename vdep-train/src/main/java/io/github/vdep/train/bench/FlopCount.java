package io.github.vdep.train.bench;

import io.github.vdep.train.trainer.Stage;

/**
 * Matrix-multiply FLOPs of one training step, counted analytically (2 m k n per product of
 * [m, k] by [k, n]; the usual convention behind MFU). Elementwise work, norms, softmax, the
 * loss and the optimizer are not counted.
 *
 * <p>Forward, per image (N patches, P = N + 1 positions with CLS, width w, MLP f, heads of
 * size hd) and per sample (T positions, hidden H, q heads nh, KV heads nkv, head size d,
 * intermediate I, vocabulary V):
 * <ul>
 * <li>patch embedding: 2 N (3 p^2) w;</li>
 * <li>each computed ViT layer (all but the last, feature layer -2): q, k, v, out 4 * 2 P w^2;
 *     MLP 2 * 2 P w f; attention scores and weighted sum 2 * 2 P^2 w;</li>
 * <li>projector: 2 N w H + 2 N H H;</li>
 * <li>each LLM layer: q and o 2 * 2 T H (nh d); k and v 2 * 2 T H (nkv d); gate, up, down
 *     3 * 2 T H I; attention 2 * 2 T^2 (nh d) (full T x T products, as the PyTorch peer computes
 *     them; vdep's native causal attention skips the masked half, which this count keeps);</li>
 * <li>LM head: 2 S H V, S the positions with a supervised next token (the synthetic batch's
 *     text positions: T - 1 - N per sample). Training applies the LM head there only (see
 *     {@code HybridLoss}); the PyTorch peer does the same.</li>
 * </ul>
 * Backward: a linear layer costs its forward FLOPs once for the input gradient (when anything
 * upstream trains) and once for the weight gradient (when it trains); attention costs twice its
 * forward (dV, dP, dQ, dK). The frozen vision tower has no backward; in {@code pretrain} the LLM
 * back-propagates input gradients only (to reach the projector), in {@code finetune} input and
 * weight gradients.
 *
 * @param visionForward patch embedding and the computed ViT layers
 * @param projectorForward the two projector linears
 * @param llmForward decoder layers and LM head
 * @param backward everything the backward pass multiplies
 */
public record FlopCount(long visionForward, long projectorForward, long llmForward, long backward) {

    public long forward() {
        return visionForward + projectorForward + llmForward;
    }

    public long total() {
        return forward() + backward;
    }

    /** The count for a preset trained in a stage. */
    public static FlopCount of(BenchPreset p, Stage stage) {
        boolean visionTrains = stage == Stage.FULL;
        boolean llmTrains = stage != Stage.PRETRAIN;
        long images = p.batch();
        long n = p.numPatches();
        long pos = n + 1;
        long w = p.visionWidth();
        long f = p.visionMlp();
        long patchIn = 3L * p.patchSize() * p.patchSize();
        long hidden = p.hidden();
        long d = hidden / p.heads();
        long qWidth = p.heads() * d;
        long kvWidth = p.kvHeads() * d;
        long tokens = p.tokensPerStep();
        long t = p.seqLen();

        // vision tower (forward; backward only when it trains)
        long patchEmbed = lin(images * n, patchIn, w);
        long vLinears = 4 * lin(images * pos, w, w) + lin(images * pos, w, f) + lin(images * pos, f, w);
        long vAttention = 2 * 2 * images * pos * pos * w;
        long vLayers = p.visionLayersComputed();
        long visionForward = patchEmbed + vLayers * (vLinears + vAttention);

        // projector
        long proj1 = lin(images * n, w, hidden);
        long proj2 = lin(images * n, hidden, hidden);
        long projectorForward = proj1 + proj2;

        // language model
        long lLinears = 2 * lin(tokens, hidden, qWidth) + 2 * lin(tokens, hidden, kvWidth) + 3 * lin(tokens, hidden, p.intermediate());
        long lAttention = 2 * 2 * p.batch() * t * t * qWidth;
        long head = lin((long) p.batch() * p.textLength(), hidden, p.vocab());
        long llmForward = p.layers() * (lLinears + lAttention) + head;

        // backward
        long llmLinearsAll = p.layers() * lLinears + head;
        long backward = llmLinearsAll * (llmTrains ? 2 : 1) + p.layers() * 2 * lAttention;
        backward += 2 * proj2 + proj1 * (visionTrains ? 2 : 1);
        if (visionTrains) {
            backward += vLayers * (2 * vLinears + 2 * vAttention) + patchEmbed;
        }
        return new FlopCount(visionForward, projectorForward, llmForward, backward);
    }

    private static long lin(long m, long in, long out) {
        return 2 * m * in * out;
    }
}
