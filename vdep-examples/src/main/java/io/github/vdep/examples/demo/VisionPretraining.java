package io.github.vdep.examples.demo;

import io.github.vdep.core.autograd.Parameter;
import io.github.vdep.core.autograd.Tape;
import io.github.vdep.core.autograd.Tensor;
import io.github.vdep.core.llava.LlavaModel;
import io.github.vdep.core.ops.F;
import io.github.vdep.train.data.image.ClipImageProcessor;
import io.github.vdep.train.optim.AdamW;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Gives the demo's vision tower visual knowledge before the LLaVA runs, as LLaVA starts from a
 * pretrained CLIP: the tower and a linear head on its LLaVA features (layer -2) are trained to
 * classify every patch (background, or which of the 12 colour-shape objects covers it) on a
 * separate pool of scenes that the demo's data never uses. The tower is then frozen in every run.
 */
public final class VisionPretraining {
    /** The tower's weights (full model names) and how well its patch classifier did on unseen scenes. */
    public record Result(Map<String, INDArray> weights, double heldOutPatchAccuracy, double heldOutObjectPatchAccuracy, int steps, int scenes) {
    }

    private VisionPretraining() {
    }

    /**
     * Trains the vision tower of {@code model} in place for {@code steps} AdamW steps of 32
     * scenes drawn from a pool of {@code poolScenes} (seeded by {@code seed}, disjoint from the
     * demo data's generator stream), and measures the patch classifier on 200 further scenes.
     */
    public static Result train(LlavaModel model, ClipImageProcessor images, int imageSize, int patch, int poolScenes, int steps, long seed) {
        SceneGenerator gen = new SceneGenerator(imageSize);
        SplittableRandom rng = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + 0x5DEECE66DL);
        int pixels = 3 * imageSize * imageSize;
        int grid = imageSize / patch;
        float[][] pool = new float[poolScenes + 200][];
        int[][] labels = new int[poolScenes + 200][];
        for (int i = 0; i < pool.length; i++) {
            Scene s = gen.sample(rng);
            int[][] layout = gen.layout(s, rng);
            pool[i] = images.process(gen.render(s, layout));
            labels[i] = gen.patchLabels(s, layout, patch);
        }
        Map<String, Parameter> params = new LinkedHashMap<>();
        model.namedParameters().forEach((name, p) -> {
            if (name.startsWith("vision_tower.")) {
                p.setTrainable(true);
                params.put(name, p);
            }
        });
        int dim = model.visionTower().featureDim();
        SplittableRandom init = new SplittableRandom(seed);
        double[] w = new double[SceneGenerator.PATCH_CLASSES * dim];
        for (int i = 0; i < w.length; i++) {
            w[i] = (init.nextDouble() * 2 - 1) / Math.sqrt(dim);
        }
        Parameter headW = new Parameter("head.weight", Nd4j.createFromArray(w).castTo(DataType.FLOAT).reshape(SceneGenerator.PATCH_CLASSES, dim));
        Parameter headB = new Parameter("head.bias", Nd4j.zeros(DataType.FLOAT, SceneGenerator.PATCH_CLASSES));
        params.put("head.weight", headW);
        params.put("head.bias", headB);
        AdamW opt = new AdamW(params, 0.9, 0.999, 1e-8, 0.0);
        int batch = 32;
        SplittableRandom order = new SplittableRandom(seed + 1);
        for (int step = 0; step < steps; step++) {
            float[] x = new float[batch * pixels];
            int[] y = new int[batch * grid * grid];
            for (int b = 0; b < batch; b++) {
                int k = order.nextInt(poolScenes);
                System.arraycopy(pool[k], 0, x, b * pixels, pixels);
                System.arraycopy(labels[k], 0, y, b * grid * grid, grid * grid);
            }
            INDArray pv = Nd4j.createFromArray(x).reshape(batch, 3, imageSize, imageSize);
            try (Tape tape = Tape.record(true)) {
                Tensor feats = model.visionTower().encode(pv);
                Tensor logits = F.linear(F.reshape(feats, -1, dim), headW, headB);
                tape.backward(F.crossEntropy(logits, y));
            }
            double lr = 3e-3 * Math.min(1.0, (step + 1) / 20.0) * 0.5 * (1 + Math.cos(Math.PI * step / steps));
            opt.step(lr);
            params.values().forEach(Parameter::zeroGrad);
        }
        // held-out: the 200 scenes after the pool
        long correct = 0;
        long total = 0;
        long objectCorrect = 0;
        long objectTotal = 0;
        for (int start = poolScenes; start < pool.length; start += batch) {
            int n = Math.min(batch, pool.length - start);
            float[] x = new float[n * pixels];
            for (int b = 0; b < n; b++) {
                System.arraycopy(pool[start + b], 0, x, b * pixels, pixels);
            }
            INDArray pv = Nd4j.createFromArray(x).reshape(n, 3, imageSize, imageSize);
            INDArray logits = Tape.noGrad(() -> F.linear(F.reshape(model.visionTower().encode(pv), -1, dim), headW, headB)).value();
            long[] pred = logits.argMax(1).toLongVector();
            for (int b = 0; b < n; b++) {
                for (int p = 0; p < grid * grid; p++) {
                    int truth = labels[start + b][p];
                    boolean ok = pred[b * grid * grid + p] == truth;
                    correct += ok ? 1 : 0;
                    total++;
                    if (truth != 0) {
                        objectCorrect += ok ? 1 : 0;
                        objectTotal++;
                    }
                }
            }
        }
        Map<String, INDArray> weights = new LinkedHashMap<>();
        params.forEach((name, p) -> {
            if (name.startsWith("vision_tower.")) {
                weights.put(name, p.value().dup());
            }
        });
        return new Result(weights, (double) correct / total, (double) objectCorrect / Math.max(1, objectTotal), steps, poolScenes);
    }
}
