package io.github.vdep.examples.cli;

import io.github.vdep.train.data.ConversationTemplate;
import io.github.vdep.train.data.Templates;
import io.github.vdep.train.data.image.ImageAspect;
import io.github.vdep.train.infer.AttentionMapExtractor;
import io.github.vdep.examples.charts.AttentionHeatmapChart;
import io.github.vdep.train.infer.AttentionMapRenderer;
import io.github.vdep.train.infer.AttentionMaps;
import io.github.vdep.train.infer.ImageInput;
import io.github.vdep.train.infer.InferenceSession;
import io.github.vdep.train.infer.Prompt;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code vdep attention-map}: per LLM layer, where the question's tokens look in the image, as
 * heatmaps over the image (one PNG per layer, a grid of all layers, and the raw values as JSON).
 */
@Command(name = "attention-map", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Draw, for each LLM layer, the attention of the question tokens to the image patches.")
public final class AttentionMapCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, description = "llava-hf model directory (config.json, safetensors, tokenizer.json)")
    Path model;
    @Option(names = "--image", required = true, description = "image file")
    Path image;
    @Option(names = "--prompt", required = true, description = "the question")
    String prompt;
    @Option(names = "--out", required = true, description = "output folder for layer_NN.png, layers_grid.png and attention.json")
    Path out;
    @Option(names = "--tokenizer", description = "tokenizer.json (default: the model directory's)")
    Path tokenizer;
    @Option(names = "--template", defaultValue = "vicuna_v1", description = "vicuna_v1 or plain (default ${DEFAULT-VALUE}); "
            + "plain prompts hold no question, so the last prompt position is used")
    String template;
    @Option(names = "--image-aspect", defaultValue = "pad", description = "pad or crop (default ${DEFAULT-VALUE})")
    String imageAspect;
    @Option(names = "--size", defaultValue = "336", description = "side of each map in pixels (default ${DEFAULT-VALUE})")
    int size;
    @Option(names = "--alpha", defaultValue = "0.5", description = "heatmap opacity in [0, 1] (default ${DEFAULT-VALUE})")
    double alpha;

    @Mixin
    DeviceOption device;

    @Override
    public Integer call() {
        device.device(); // checked before anything else
        ConversationTemplate tpl = Templates.byName(template);
        ImageAspect aspect = GenerateCommand.aspect(imageAspect);
        AttentionMapRenderer renderer = new AttentionMapRenderer(size, new AttentionHeatmapChart(size, alpha));
        PrintStream console = System.out;
        try (InferenceSession session = InferenceSession.open(model, tokenizer, aspect, device.device())) {
            Prompt p = session.prompts(tpl).build(prompt, true);
            ImageInput input = ImageInput.load(session.images(), image);
            AttentionMaps maps = new AttentionMapExtractor(session.model()).extract(p, input.pixelValues());
            List<Path> files = renderer.write(maps, input.prepared().toBufferedImage(), out);
            Table table = Table.of("layer", "attention on image", "file");
            for (int layer = 0; layer < maps.numLayers(); layer++) {
                table.row(Integer.toString(layer), String.format(Locale.ROOT, "%.2f%%", 100 * maps.imageMass(layer)),
                        files.get(layer).getFileName().toString());
            }
            console.printf("vdep attention-map: %d layers, %dx%d patch grid, %d question token(s)%n", maps.numLayers(),
                    maps.gridSize(), maps.gridSize(), maps.queryPositions().length);
            table.print(console);
            console.println("grid: " + files.get(files.size() - 2));
            console.println("values: " + files.get(files.size() - 1));
        }
        return 0;
    }
}
