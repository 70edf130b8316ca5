package io.github.vdep.train.infer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.vdep.core.llava.DecodeOptions;
import io.github.vdep.core.llava.LlavaModel;
import io.github.vdep.train.data.HfTokenizer;
import io.github.vdep.train.data.Templates;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/** Attention maps: rows are distributions, maps have the patch grid's shape, files are written. */
class AttentionMapTest {
    @TempDir
    Path dir;

    @Test
    void mapsAreAveragedDistributionsOnThePatchGrid() throws Exception {
        LlavaModel model = TinyLlava.model(DataType.FLOAT, 3);
        try (HfTokenizer tokenizer = TinyLlava.tokenizer(dir)) {
            Prompt prompt = new PromptBuilder(tokenizer, Templates.byName("vicuna_v1"), TinyLlava.encoding()).build("what is in the image?", true);
            ImageInput image = ImageInput.load(TinyLlava.processor(), TinyLlava.image(dir.resolve("x.png"), 40, 30, 1));

            // every raw attention row, before any averaging, sums to one over all keys
            List<INDArray> raw = new ArrayList<>();
            model.forward(prompt.toInputs(image.pixelValues()), new DecodeOptions(Set.of(), (layer, p) -> raw.add(p.dup())), false);
            assertEquals(2, raw.size());
            for (INDArray p : raw) {
                assertEquals(prompt.length(), p.size(3));
                INDArray sums = p.sum(3);
                assertEquals(1.0, sums.minNumber().doubleValue(), 1e-5);
                assertEquals(1.0, sums.maxNumber().doubleValue(), 1e-5);
            }

            AttentionMaps maps = new AttentionMapExtractor(model).extract(prompt, image.pixelValues());
            assertEquals(2, maps.numLayers());
            assertEquals(4, maps.gridSize());
            assertEquals(prompt.questionEnd() - prompt.questionStart(), maps.queryPositions().length);
            for (int layer = 0; layer < maps.numLayers(); layer++) {
                double sum = 0;
                for (double v : maps.keyAttention()[layer]) {
                    sum += v;
                }
                assertEquals(1.0, sum, 1e-5, "layer " + layer);
                double[][] grid = maps.grid(layer);
                assertEquals(4, grid.length);
                assertEquals(4, grid[0].length);
                double gridSum = 0;
                for (double[] r : grid) {
                    for (double v : r) {
                        assertTrue(v >= 0);
                        gridSum += v;
                    }
                }
                assertEquals(maps.imageMass(layer), gridSum, 1e-9);
                assertTrue(gridSum > 0 && gridSum < 1);
                // the first query row by hand, from the raw probabilities
                assertEquals(raw.get(layer).getDouble(0, 0, prompt.questionStart(), prompt.imageStart()) >= 0, true);
            }
            double byHand = 0;
            INDArray p0 = raw.get(0);
            for (int h = 0; h < p0.size(1); h++) {
                for (int q = prompt.questionStart(); q < prompt.questionEnd(); q++) {
                    byHand += p0.getDouble(0, h, q, prompt.imageStart() + 5);
                }
            }
            byHand /= p0.size(1) * (prompt.questionEnd() - prompt.questionStart());
            assertEquals(byHand, maps.grid(0)[1][1], 1e-6);

            List<Path> files = new AttentionMapRenderer(64, 0.5).write(maps, image.prepared().toBufferedImage(), dir.resolve("maps"));
            assertEquals(List.of("layer_00.png", "layer_01.png", "layers_grid.png", "attention.json"),
                    files.stream().map(f -> f.getFileName().toString()).toList());
            BufferedImage layer = ImageIO.read(files.get(0).toFile());
            assertEquals(64, layer.getWidth());
            assertEquals(64, layer.getHeight());
            BufferedImage grid = ImageIO.read(files.get(2).toFile());
            assertEquals(128, grid.getWidth());
            assertTrue(Files.readString(files.get(3)).contains("\"grid_size\" : 4"));
        }
    }

    @Test
    void plainPromptsUseTheLastPosition() throws Exception {
        LlavaModel model = TinyLlava.model(DataType.FLOAT, 3);
        try (HfTokenizer tokenizer = TinyLlava.tokenizer(dir)) {
            Prompt prompt = new PromptBuilder(tokenizer, Templates.byName("plain"), TinyLlava.encoding()).build("", true);
            ImageInput image = ImageInput.load(TinyLlava.processor(), TinyLlava.image(dir.resolve("y.png"), 30, 30, 2));
            AttentionMaps maps = new AttentionMapExtractor(model).extract(prompt, image.pixelValues());
            assertEquals(1, maps.queryPositions().length);
            assertEquals(prompt.length() - 1, maps.queryPositions()[0]);
        }
    }

    @Test
    void gridHasCaptionBarsOnlyWhenTheRendererCaptions() {
        List<BufferedImage> tiles = List.of(new BufferedImage(20, 10, BufferedImage.TYPE_INT_RGB), new BufferedImage(20, 10, BufferedImage.TYPE_INT_RGB),
                new BufferedImage(20, 10, BufferedImage.TYPE_INT_RGB));
        BufferedImage captioned = new AttentionMapRenderer(16, 0.5).tile(tiles, List.of("a", "b", "c"), 2);
        assertEquals(40, captioned.getWidth());
        assertEquals(2 * (10 + 18), captioned.getHeight());
        // an overlay that titles its own pictures: the grid is the tiles alone, edge to edge
        AttentionMapRenderer selfTitled = new AttentionMapRenderer(16, (image, grid, title) -> image);
        BufferedImage bare = selfTitled.tile(tiles, List.of("", "", ""), 2);
        assertEquals(40, bare.getWidth());
        assertEquals(2 * 10, bare.getHeight());
    }

    @Test
    void jetRunsFromBlueToRed() {
        assertEquals(0, AttentionMapRenderer.jet(0) >> 16);
        assertEquals(0, AttentionMapRenderer.jet(1) & 0xff);
    }
}
