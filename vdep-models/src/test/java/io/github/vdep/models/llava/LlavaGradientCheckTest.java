package io.github.vdep.models.llava;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.IntNode;
import io.github.vdep.core.autograd.Parameter;
import io.github.vdep.core.autograd.Tape;
import io.github.vdep.core.autograd.Tensor;
import io.github.vdep.core.llava.LlavaInputs;
import io.github.vdep.core.llava.LlavaModel;
import io.github.vdep.core.llava.LlavaOutput;
import io.github.vdep.core.nn.Module;
import io.github.vdep.core.ops.F;
import io.github.vdep.core.testing.GradCheck;
import io.github.vdep.models.clip.ClipVisionConfig;
import io.github.vdep.models.llama.LlamaConfig;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Finite-difference check of the whole LLaVA model in double precision: CLIP tower (patch
 * embedding included), projector, splice and LLaMA, under the VDEP loss (text cross-entropy +
 * 0.7 * MSE of the next-embedding image prediction against detached image features), on a padded
 * batch with one image per sample. A sample of elements of every parameter on the gradient path
 * is perturbed.
 */
class LlavaGradientCheckTest {
    static final int VOCAB = 16;
    static final int IMAGE_TOKEN = 15;
    static final double ALPHA = 0.7;
    /**
     * Elements perturbed per parameter (the first and one in the middle). Each costs two forward
     * passes, which are dominated by ND4J's per-op overhead; the random-direction checks below
     * cover every element of every parameter in aggregate, at two passes per direction.
     */
    static final int MAX_PER_PARAMETER = 2;
    /** Random directions checked over all reached parameters. */
    static final int DIRECTIONS = 6;

    /** Vision 8x8 images, patch 4 (2x2 grid), width 8, 2 layers; LM hidden 8, 2 layers, 2 heads, 1 KV head, vocab 16. */
    static LlavaConfig config(int featureLayer, String strategy) {
        LlamaConfig text = LlamaConfig.of(VOCAB, 8, 12, 2, 2, 1, 32);
        ClipVisionConfig vision = ClipVisionConfig.of(8, 12, 2, 2, 8, 4);
        return new LlavaConfig(text, vision, IMAGE_TOKEN, "gelu", IntNode.valueOf(featureLayer), strategy, "mlp2x_gelu", true, "llava");
    }

    /** A random model whose parameters are O(1) so that every gradient is well above the check's tolerance. */
    static LlavaModel model(LlavaConfig config) {
        LlavaModel model = LlavaModels.random(config, DataType.DOUBLE, 17);
        long seed = 100;
        for (Map.Entry<String, Parameter> e : model.namedParameters().entrySet()) {
            Parameter p = e.getValue();
            INDArray u = GradCheck.random(seed++, p.shape());
            boolean normWeight = e.getKey().contains("norm") && e.getKey().endsWith(".weight");
            p.load(normWeight ? u.muli(0.2).addi(1.0) : u.muli(0.5));
        }
        return model;
    }

    /** Sample 0: BOS, image, text. Sample 1: BOS, text, image, text, two padding positions. */
    record Batch(LlavaInputs inputs, int[] targets) {
        static Batch of(int patches) {
            int t = patches + 7;
            long[][] ids = new long[2][t];
            double[][] mask = new double[2][t];
            long[] text0 = {3, 9, 4, 12, 7, 5};
            long[] text1 = {8, 2, 11, 6};
            int k = 0;
            ids[0][k++] = 1;
            for (int i = 0; i < patches; i++) {
                ids[0][k++] = IMAGE_TOKEN;
            }
            for (long id : text0) {
                ids[0][k++] = id;
            }
            k = 0;
            ids[1][k++] = 1;
            ids[1][k++] = text1[0];
            ids[1][k++] = text1[1];
            for (int i = 0; i < patches; i++) {
                ids[1][k++] = IMAGE_TOKEN;
            }
            ids[1][k++] = text1[2];
            ids[1][k++] = text1[3];
            // positions k.. stay 0 (padding)
            for (int b = 0; b < 2; b++) {
                for (int i = 0; i < t; i++) {
                    mask[b][i] = (b == 1 && i >= k) ? 0 : 1;
                }
            }
            // labels: -100 at BOS, image positions and padding; targets[t] = labels[t + 1]
            int[] targets = new int[2 * t];
            for (int b = 0; b < 2; b++) {
                for (int i = 0; i < t; i++) {
                    int next = i + 1;
                    boolean supervised = next < t && mask[b][next] != 0 && ids[b][next] != IMAGE_TOKEN;
                    targets[b * t + i] = supervised ? (int) ids[b][next] : F.IGNORE_INDEX;
                }
            }
            INDArray pixels = GradCheck.random(7, 2, 3, 8, 8);
            return new Batch(new LlavaInputs(Nd4j.createFromArray(ids), Nd4j.createFromArray(mask), pixels), targets);
        }
    }

    /** text cross-entropy + alpha * image loss (as in LlavaGoldenTest), the image target detached. */
    static Tensor loss(LlavaModel model, Batch batch) {
        return loss(model, batch, null);
    }

    /**
     * As {@link #loss(LlavaModel, Batch)} but, when {@code fixedTarget} is given, with that array
     * as the image-loss target. Finite differences must hold the target fixed: perturbing a vision
     * or projector weight moves the live image features, and the detached loss deliberately has
     * no gradient along that path.
     */
    static Tensor loss(LlavaModel model, Batch batch, INDArray fixedTarget) {
        LlavaOutput out = model.forward(batch.inputs());
        Tensor text = F.crossEntropy(out.logits(), batch.targets());
        return F.add(text, F.scale(imageLoss(out, fixedTarget), ALPHA));
    }

    /** Next-embedding MSE: the hidden state one position before each image token predicts its (detached) feature. */
    static Tensor imageLoss(LlavaOutput out, INDArray fixedTarget) {
        int[] rows = Arrays.stream(out.imageRows()).flatMapToInt(Arrays::stream).map(r -> r - 1).toArray();
        long h = out.hidden().size(2);
        Tensor pred = F.gatherRows(F.reshape(out.hidden(), -1, h), rows);
        Tensor target = fixedTarget != null ? Tensor.constant(fixedTarget) : F.detach(F.reshape(out.imageFeatures(), -1, h));
        return F.mse(pred, target);
    }

    /** The image features of the unperturbed model, [images * patches, hidden]. */
    static INDArray imageTarget(LlavaModel model, Batch batch) {
        LlavaOutput out = Tape.noGrad(() -> model.forward(batch.inputs()));
        return out.imageFeatures().value().reshape(-1, out.hidden().size(2)).dup('c');
    }

    /** Gradients of all parameters after one backward pass of {@code loss} (absent ones left out). */
    static Map<String, INDArray> gradients(LlavaModel model, Supplier<Tensor> loss) {
        model.zeroGrad();
        try (Tape tape = Tape.record()) {
            tape.backward(loss.get());
        }
        Map<String, INDArray> grads = new java.util.TreeMap<>();
        model.namedParameters().forEach((name, p) -> {
            if (p.grad() != null) {
                grads.put(name, p.grad().dup());
            }
        });
        return grads;
    }

    /** With the detached live target and with the same values as a constant, the analytic gradients agree. */
    static void assertDetachEqualsFixedTarget(LlavaModel model, Batch batch, INDArray target) {
        Map<String, INDArray> detached = gradients(model, () -> loss(model, batch));
        Map<String, INDArray> fixed = gradients(model, () -> loss(model, batch, target));
        assertEquals(fixed.keySet(), detached.keySet());
        fixed.forEach((name, g) -> assertEquals(0.0, g.sub(detached.get(name)).amaxNumber().doubleValue(), 1e-12, name));
    }

    /** One backward pass; returns the names of trainable parameters that got no gradient. */
    static Set<String> unreached(LlavaModel model, Batch batch) {
        model.zeroGrad();
        try (Tape tape = Tape.record()) {
            tape.backward(loss(model, batch));
        }
        return model.namedParameters().entrySet().stream()
                .filter(e -> e.getValue().trainable() && e.getValue().grad() == null)
                .map(Map.Entry::getKey).collect(Collectors.toCollection(TreeSet::new));
    }

    static Set<String> withPrefixes(LlavaModel model, String... prefixes) {
        return model.namedParameters().keySet().stream()
                .filter(n -> Arrays.stream(prefixes).anyMatch(n::startsWith))
                .collect(Collectors.toCollection(TreeSet::new));
    }

    /**
     * The derivative along one random direction d over all {@code params} at once: the analytic
     * sum of grad . d against a central difference of the loss at theta +- eps d. Every element
     * of every parameter contributes.
     */
    static void directionalCheck(LlavaModel model, Supplier<Tensor> loss, List<Parameter> params, long seed) {
        model.zeroGrad();
        try (Tape tape = Tape.record()) {
            tape.backward(loss.get());
        }
        List<INDArray> directions = new ArrayList<>();
        List<INDArray> saved = new ArrayList<>();
        double analytic = 0;
        for (int i = 0; i < params.size(); i++) {
            Parameter p = params.get(i);
            INDArray d = GradCheck.random(seed * 1000 + i, p.shape());
            directions.add(d);
            saved.add(p.value().dup());
            analytic += p.grad().mul(d).sumNumber().doubleValue();
        }
        double eps = 1e-6;
        double[] values = new double[2];
        for (int s = 0; s < 2; s++) {
            for (int i = 0; i < params.size(); i++) {
                params.get(i).value().assign(saved.get(i).add(directions.get(i).mul(s == 0 ? eps : -eps)));
            }
            values[s] = Tape.noGrad(loss).item();
        }
        for (int i = 0; i < params.size(); i++) {
            params.get(i).value().assign(saved.get(i));
        }
        double numeric = (values[0] - values[1]) / (2 * eps);
        double err = Math.abs(analytic - numeric) / Math.max(1.0, Math.max(Math.abs(analytic), Math.abs(numeric)));
        assertTrue(err < 1e-6, "direction " + seed + ": analytic " + analytic + " vs numeric " + numeric + " (error " + err + ")");
        assertTrue(Math.abs(analytic) > 1e-3, "direction " + seed + ": derivative " + analytic + " is too small to be a test");
    }

    @ParameterizedTest(name = "vision_feature_layer {0}, strategy {1}")
    @CsvSource({"-2, default", "-1, full"})
    void wholeModelGradientsMatchFiniteDifferences(int featureLayer, String strategy) {
        LlavaModel model = model(config(featureLayer, strategy));
        Batch batch = Batch.of(model.visionTower().numPatches());

        // layers after the selected feature layer, and post_layernorm, are not on the path
        Set<String> expectedUnreached = featureLayer == -2
                ? withPrefixes(model, "vision_tower.vision_model.encoder.layers.1.", "vision_tower.vision_model.post_layernorm.")
                : withPrefixes(model, "vision_tower.vision_model.post_layernorm.");
        assertEquals(expectedUnreached, unreached(model, batch));
        // the gradients are far from the check's absolute floor, so the check is not vacuous
        Map<String, Parameter> params = model.namedParameters();
        for (String name : List.of("vision_tower.vision_model.embeddings.patch_embedding.weight", "vision_tower.vision_model.embeddings.class_embedding",
                "multi_modal_projector.linear_1.weight", "language_model.model.embed_tokens.weight", "language_model.lm_head.weight")) {
            double max = params.get(name).grad().amaxNumber().doubleValue();
            assertTrue(max > 1e-3, name + " max |grad| " + max);
        }

        List<Parameter> reached = new ArrayList<>();
        List<Parameter> sampled = new ArrayList<>();
        params.forEach((name, p) -> {
            if (!expectedUnreached.contains(name)) {
                reached.add(p);
                // the second case samples element-wise only what the first does not reach (the last vision layer) and the
                // embeddings, whose CLS row now reaches the LM; the directional checks cover the rest
                if (featureLayer == -2 || name.contains(".encoder.layers.1.") || name.contains(".embeddings.")) {
                    sampled.add(p);
                }
            }
        });
        assertTrue(reached.size() > 40, "reached " + reached.size() + " parameters");
        INDArray target = imageTarget(model, batch);
        assertDetachEqualsFixedTarget(model, batch, target);
        GradCheck.check("llava " + featureLayer + "/" + strategy, () -> loss(model, batch, target), sampled, 1e-6, 1e-6, MAX_PER_PARAMETER);
        for (long seed = 1; seed <= DIRECTIONS; seed++) {
            directionalCheck(model, () -> loss(model, batch, target), reached, seed);
        }
    }

    @Test
    void frozenVisionTowerGetsNoGradientsAndTheRestStillChecks() {
        LlavaModel model = model(config(-2, "default"));
        Batch batch = Batch.of(model.visionTower().numPatches());
        Module tower = (Module) model.visionTower();
        tower.setTrainable(false);
        assertEquals(0, tower.trainableParameterCount());

        assertEquals(Set.of(), unreached(model, batch));
        tower.parameters().forEach(p -> assertNull(p.grad(), p + " is frozen"));
        List<Parameter> trainable = new ArrayList<>();
        model.namedParameters().forEach((name, p) -> {
            if (!name.startsWith("vision_tower.")) {
                assertTrue(p.trainable(), name);
                assertNotNull(p.grad(), name);
                trainable.add(p);
            }
        });
        INDArray target = imageTarget(model, batch);
        assertDetachEqualsFixedTarget(model, batch, target);
        List<Parameter> projector = ((Module) model.projector()).parameters();
        GradCheck.check("llava, frozen tower", () -> loss(model, batch, target), projector, 1e-6, 1e-6, MAX_PER_PARAMETER);
        for (long seed = 11; seed < 11 + DIRECTIONS; seed++) {
            directionalCheck(model, () -> loss(model, batch, target), trainable, seed);
        }
        tower.parameters().forEach(p -> assertNull(p.grad(), p + " is frozen"));
    }
}
