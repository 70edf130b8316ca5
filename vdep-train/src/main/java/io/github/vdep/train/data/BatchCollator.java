package io.github.vdep.train.data;

import java.util.ArrayList;
import java.util.List;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Stacks samples into a {@link Batch}: right padding to the longest sample with the pad id,
 * attention mask 1/0, labels {@code -100} at padding; {@code inputIds}, {@code attentionMask} and
 * {@code labels} are INT64 {@code [B, T]}; the images are stacked in sample order as FLOAT
 * {@code [numImages, 3, H, W]} with {@code imageSample} naming each one's row.
 */
public final class BatchCollator {

    private BatchCollator() {
    }

    /**
     * @param samples  the samples, at least one
     * @param padId    the padding id
     * @param position where the data stream stands after this batch
     * @return the batch
     * @throws IllegalArgumentException if there are no samples or the images differ in size
     */
    public static Batch collate(List<LoadedSample> samples, int padId, DataPosition position) {
        if (samples.isEmpty()) {
            throw new IllegalArgumentException("Cannot collate an empty batch");
        }
        int b = samples.size();
        int t = 0;
        int images = 0;
        LoadedSample firstImage = null;
        for (LoadedSample s : samples) {
            t = Math.max(t, s.sample().length());
            if (s.pixelValues() != null) {
                if (firstImage == null) {
                    firstImage = s;
                } else if (s.height() != firstImage.height() || s.width() != firstImage.width()) {
                    throw new IllegalArgumentException("Images of one batch must have one size: record '"
                            + firstImage.sample().id() + "' gives 3x" + firstImage.height() + "x" + firstImage.width()
                            + ", record '" + s.sample().id() + "' 3x" + s.height() + "x" + s.width()
                            + " (enable the processor's centre crop)");
                }
                images++;
            }
        }
        long[][] ids = new long[b][t];
        long[][] mask = new long[b][t];
        long[][] labels = new long[b][t];
        int[] imageSample = new int[images];
        float[] pixels = images == 0 ? null : new float[images * firstImage.pixelValues().length];
        List<String> sampleIds = new ArrayList<>(b);
        int img = 0;
        for (int i = 0; i < b; i++) {
            LoadedSample s = samples.get(i);
            int[] in = s.sample().inputIds();
            int[] lab = s.sample().labels();
            for (int j = 0; j < t; j++) {
                if (j < in.length) {
                    ids[i][j] = in[j];
                    mask[i][j] = 1;
                    labels[i][j] = lab[j];
                } else {
                    ids[i][j] = padId;
                    labels[i][j] = EncodedSample.IGNORE_INDEX;
                }
            }
            if (s.pixelValues() != null) {
                int n = s.pixelValues().length;
                System.arraycopy(s.pixelValues(), 0, pixels, img * n, n);
                imageSample[img++] = i;
            }
            sampleIds.add(s.sample().id());
        }
        INDArray pixelValues = pixels == null ? null
                : Nd4j.create(pixels, new long[] {images, 3, firstImage.height(), firstImage.width()}, DataType.FLOAT);
        return new Batch(Nd4j.createFromArray(ids), Nd4j.createFromArray(mask), Nd4j.createFromArray(labels),
                pixelValues, imageSample, List.copyOf(sampleIds), position);
    }
}
