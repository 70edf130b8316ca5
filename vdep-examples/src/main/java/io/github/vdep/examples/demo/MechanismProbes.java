package io.github.vdep.examples.demo;

import io.github.vdep.core.autograd.Tape;
import io.github.vdep.core.autograd.Tensor;
import io.github.vdep.core.llava.DecodeOptions;
import io.github.vdep.core.llava.LlavaModel;
import io.github.vdep.core.llava.LlavaOutput;
import io.github.vdep.train.data.image.ClipImageProcessor;
import io.github.vdep.train.infer.InferenceSession;
import io.github.vdep.train.infer.Prompt;
import io.github.vdep.train.infer.PromptBuilder;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.inverse.InvertMatrix;

/**
 * Two direct measures of VDEP's mechanism on held-out images, each asked "how many shapes are
 * there ?":
 * <ul>
 * <li>a linear probe per LLM layer (0 = the image tokens as they enter, the projector's output;
 *     k = the output of block k) from the hidden state at each image position to what its patch
 *     holds (background or one of the 12 colour-shape objects): ridge regression onto one-hot
 *     classes, fitted on the first half of the images and scored on the second half, on the
 *     object patches (background is most patches and easy);</li>
 * <li>the attention mass from the answer position (the last prompt position, which predicts the
 *     answer's first token) onto the image, and the share of that mass on object patches, per
 *     layer, averaged over heads and images. The object patches' share of all image patches is
 *     the uniform-attention reference.</li>
 * </ul>
 */
public final class MechanismProbes {
    private static final double RIDGE = 1e-2;

    /**
     * @param probeObjectAccuracy per layer 0..L, the probe's accuracy on held-out object patches
     * @param probeAccuracy per layer, on all held-out patches
     * @param attentionOnImage per layer 1..L (index 0 = block 1), attention mass on the image positions
     * @param attentionObjectShare per layer 1..L, the share of the image attention that falls on object patches
     * @param objectPatchShare the object patches' share of all patches (uniform attention's share)
     */
    public record Result(double[] probeObjectAccuracy, double[] probeAccuracy, double[] attentionOnImage, double[] attentionObjectShare,
            double objectPatchShare) {
    }

    private MechanismProbes() {
    }

    public static Result measure(InferenceSession session, PromptBuilder prompts, Path imageDir, List<DemoDataset.LabelledImage> images) {
        LlavaModel model = session.model();
        ClipImageProcessor processor = session.images();
        int layers = model.languageModel().numLayers();
        Prompt prompt = prompts.build("how many shapes are there ?", true);
        int n = prompt.numImageTokens();
        int start = prompt.imageStart();
        int query = prompt.length() - 1;
        Set<Integer> keep = new HashSet<>();
        for (int k = 1; k <= layers; k++) {
            keep.add(k);
        }
        double[][][] states = new double[layers + 1][][];
        double[] onImage = new double[layers];
        double[] onObjects = new double[layers];
        int rows = images.size() * n;
        int[] labels = new int[rows];
        long objectPatches = 0;
        for (int img = 0; img < images.size(); img++) {
            DemoDataset.LabelledImage li = images.get(img);
            if (li.patchLabels().length != n) {
                throw new IllegalArgumentException(li.image() + ": " + li.patchLabels().length + " patch labels for " + n + " image tokens");
            }
            INDArray pixels = processor.processToTensor(ClipImageProcessor.load(imageDir.resolve(li.image())));
            int[] lab = li.patchLabels();
            DecodeOptions options = new DecodeOptions(keep, (layer, probs) -> {
                // [1, H, T, S]: the query row, mean over heads
                double[] row = probs.get(NDArrayIndex.point(0), NDArrayIndex.all(), NDArrayIndex.point(query), NDArrayIndex.all())
                        .mean(0).castTo(DataType.DOUBLE).toDoubleVector();
                double image = 0;
                double objects = 0;
                for (int i = 0; i < n; i++) {
                    image += row[start + i];
                    objects += lab[i] != 0 ? row[start + i] : 0;
                }
                onImage[layer] += image;
                onObjects[layer] += image > 0 ? objects / image : 0;
            });
            LlavaOutput out = Tape.noGrad(() -> model.forward(prompt.toInputs(pixels), options, false));
            for (int k = 0; k <= layers; k++) {
                Tensor t = k == 0 ? out.imageFeatures() : out.layerOutputs().get(k);
                INDArray x = k == 0 ? t.value().reshape(n, -1)
                        : t.value().get(NDArrayIndex.point(0), NDArrayIndex.interval(start, start + n), NDArrayIndex.all());
                double[][] m = x.castTo(DataType.DOUBLE).toDoubleMatrix();
                if (states[k] == null) {
                    states[k] = new double[rows][];
                }
                System.arraycopy(m, 0, states[k], img * n, n);
            }
            for (int i = 0; i < n; i++) {
                labels[img * n + i] = lab[i];
                objectPatches += lab[i] != 0 ? 1 : 0;
            }
        }
        double[] objectAcc = new double[layers + 1];
        double[] allAcc = new double[layers + 1];
        int split = (images.size() / 2) * n;
        for (int k = 0; k <= layers; k++) {
            double[] acc = probe(states[k], labels, split);
            allAcc[k] = acc[0];
            objectAcc[k] = acc[1];
        }
        for (int l = 0; l < layers; l++) {
            onImage[l] /= images.size();
            onObjects[l] /= images.size();
        }
        return new Result(objectAcc, allAcc, onImage, onObjects, (double) objectPatches / rows);
    }

    /** Ridge probe fitted on rows [0, split), scored on [split, end): {all-patch accuracy, object-patch accuracy}. */
    static double[] probe(double[][] x, int[] labels, int split) {
        int d = x[0].length + 1;
        int classes = SceneGenerator.PATCH_CLASSES;
        double[][] train = new double[split][d];
        double[][] y = new double[split][classes];
        for (int i = 0; i < split; i++) {
            System.arraycopy(x[i], 0, train[i], 0, d - 1);
            train[i][d - 1] = 1;
            y[i][labels[i]] = 1;
        }
        INDArray a = Nd4j.createFromArray(train);
        INDArray gram = a.transpose().mmul(a).addi(Nd4j.eye(d).castTo(DataType.DOUBLE).muli(RIDGE * split));
        INDArray w = InvertMatrix.invert(gram, false).mmul(a.transpose().mmul(Nd4j.createFromArray(y)));
        long correct = 0;
        long total = 0;
        long objCorrect = 0;
        long objTotal = 0;
        double[][] test = new double[x.length - split][d];
        for (int i = split; i < x.length; i++) {
            System.arraycopy(x[i], 0, test[i - split], 0, d - 1);
            test[i - split][d - 1] = 1;
        }
        long[] pred = Nd4j.createFromArray(test).mmul(w).argMax(1).toLongVector();
        for (int i = split; i < x.length; i++) {
            boolean ok = pred[i - split] == labels[i];
            correct += ok ? 1 : 0;
            total++;
            if (labels[i] != 0) {
                objCorrect += ok ? 1 : 0;
                objTotal++;
            }
        }
        return new double[] {(double) correct / total, objTotal == 0 ? Double.NaN : (double) objCorrect / objTotal};
    }
}
