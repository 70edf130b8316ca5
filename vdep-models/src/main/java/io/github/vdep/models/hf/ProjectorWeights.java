package io.github.vdep.models.hf;

import io.github.vdep.core.autograd.Parameter;
import io.github.vdep.core.llava.LlavaModel;
import io.github.vdep.core.nn.Module;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Loads a pretrained projector into a model, as LLaVA's {@code --pretrain_mm_mlp_adapter} does:
 * from the {@code mm_projector.bin} that LLaVA's stage 1 saves (or any {@code .bin} or
 * {@code .safetensors} file holding a projector).
 *
 * <p>Keys are matched as LLaVA's {@code get_w} matches them: whatever precedes
 * {@code mm_projector.} is dropped ({@code model.mm_projector.0.weight} and
 * {@code mm_projector.0.weight} are the same), and LLaVA's {@code nn.Sequential} indices map to
 * vdep's layers ({@code 0} → {@code linear_1}, {@code 2} → {@code linear_2}, ...; a {@code linear}
 * projector's bare {@code weight}/{@code bias} → {@code linear_1}). llava-hf names
 * ({@code multi_modal_projector.linear_N.*}) are read too, so a vdep or llava-hf checkpoint can
 * serve as well; other tensors in the file are ignored. Every projector parameter must be found
 * with the model's shape; otherwise the error names the file and the tensor.
 */
public final class ProjectorWeights {
    private static final Logger LOG = LoggerFactory.getLogger(ProjectorWeights.class);
    private static final Pattern LLAVA_KEY = Pattern.compile("(?:.*\\.)?mm_projector\\.(?:(\\d+)\\.)?(weight|bias)");
    private static final Pattern HF_KEY = Pattern.compile("(?:.*\\.)?multi_modal_projector\\.(linear_\\d+)\\.(weight|bias)");

    private ProjectorWeights() {
    }

    /**
     * Replaces the model's projector weights with those in a file.
     *
     * @param model a model whose projector matches the file's (type and sizes)
     * @param file {@code mm_projector.bin}, a {@code .safetensors} file, or a checkpoint directory
     * @throws CheckpointException if the file is unreadable, has no projector, or its shapes differ
     */
    public static void load(LlavaModel model, Path file) {
        Map<String, Parameter> params = ((Module) model.projector()).namedParameters();
        try (TensorSource source = TensorSources.open(file)) {
            Map<String, String> byParam = new TreeMap<>();
            for (String key : source.names()) {
                String name = paramName(key);
                if (name == null) {
                    continue;
                }
                if (!params.containsKey(name)) {
                    throw new CheckpointException(source.fileOf(key), key, "maps to projector parameter " + name
                            + ", which the model's projector (" + params.size() / 2 + " layers) does not have;"
                            + " the file's projector type differs from the model's");
                }
                String previous = byParam.put(name, key);
                if (previous != null) {
                    throw new CheckpointException(source.fileOf(key), key, "and '" + previous + "' both map to projector parameter " + name);
                }
            }
            if (byParam.isEmpty()) {
                throw new CheckpointException(file, "holds no projector weights (no mm_projector.* or multi_modal_projector.* tensor among "
                        + source.names().size() + ")");
            }
            TreeSet<String> missing = new TreeSet<>(params.keySet());
            missing.removeAll(byParam.keySet());
            if (!missing.isEmpty()) {
                throw new CheckpointException(file, "lacks projector parameter(s) " + missing + " that the model's projector has");
            }
            for (Map.Entry<String, String> e : byParam.entrySet()) {
                Parameter p = params.get(e.getKey());
                TensorInfo info = source.info(e.getValue());
                if (!Arrays.equals(info.shape(), p.shape())) {
                    throw new CheckpointException(source.fileOf(e.getValue()), e.getValue(), "has shape " + Arrays.toString(info.shape())
                            + " but the model's projector needs " + Arrays.toString(p.shape()) + " for " + e.getKey());
                }
                p.load(source.load(e.getValue(), p.dataType()));
            }
            LOG.info("loaded the projector from {} ({} tensors)", file, byParam.size());
        }
    }

    /** The projector parameter a key names (e.g. {@code linear_1.weight}), or null if it is not a projector key. */
    static String paramName(String key) {
        Matcher m = LLAVA_KEY.matcher(key);
        if (m.matches()) {
            if (m.group(1) == null) {
                return "linear_1." + m.group(2);
            }
            int index = Integer.parseInt(m.group(1));
            // Sequential(Linear, GELU, Linear, ...): linears sit at even indices
            return index % 2 == 0 ? "linear_" + (index / 2 + 1) + "." + m.group(2) : "gelu_" + index + "." + m.group(2);
        }
        m = HF_KEY.matcher(key);
        return m.matches() ? m.group(1) + "." + m.group(2) : null;
    }
}
