package io.github.vdep.examples.demo;

import io.github.vdep.examples.ablation.AblationRunner;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The demo's named settings for {@code --arms}: each name stands for the {@code vdep train}
 * options of one arm. {@code NAME=OPTIONS} defines an arm of one's own.
 */
public final class DemoArms {
    /**
     * The arms run by default: the plain LLaVA baseline and the demo's VDEP configuration. The
     * VDEP arm was chosen from the mechanism before any run of this task was looked at: with a
     * pretrained (frozen) vision tower the image targets carry what is in each patch, and the
     * paper's alpha 1 and 1:1 mixing are kept; the MSE is replaced by {@code mse_normalized}
     * because under MSE the projector's outputs (the targets) grew 2 to 7 times in RMS on the
     * previous demo and the image loss came to dominate, which per-token standardised targets
     * rule out.
     */
    public static final List<String> DEFAULT = List.of("baseline", "vdep");

    private static final Map<String, String> NAMED = new LinkedHashMap<>();

    static {
        NAMED.put("baseline", "--alpha 0 --mode-ratio 0:1");
        NAMED.put("vdep", "--alpha 1.0 --mode-ratio 1:1 --image-loss mse_normalized");
        NAMED.put("vdep-mse", "--alpha 1.0 --mode-ratio 1:1 --image-loss mse");
        NAMED.put("vdep-alpha0.1", "--alpha 0.1 --mode-ratio 1:1 --image-loss mse");
        NAMED.put("vdep-normalized", "--alpha 1.0 --mode-ratio 1:1 --image-loss mse_normalized");
        NAMED.put("vdep-relative", "--alpha 1.0 --mode-ratio 1:1 --image-loss mse_relative");
        NAMED.put("vdep-cosine", "--alpha 1.0 --mode-ratio 1:1 --image-loss cosine");
        NAMED.put("vdep-ratio", "--alpha ratio:0.5 --mode-ratio 1:1 --image-loss mse_normalized");
        NAMED.put("vdep-gradnorm", "--alpha gradnorm:0.5 --mode-ratio 1:1 --image-loss mse_normalized");
        NAMED.put("vdep-mse-ratio", "--alpha ratio:0.5 --mode-ratio 1:1 --image-loss mse");
    }

    private DemoArms() {
    }

    /** The named settings, name -> options. */
    public static Map<String, String> named() {
        return Map.copyOf(NAMED);
    }

    /**
     * Resolves {@code --arms} entries: a known name, or {@code NAME=OPTIONS}. {@code vdepAlpha},
     * when given, replaces the alpha of the {@code vdep} arm.
     */
    public static Map<String, List<String>> resolve(List<String> entries, String vdepAlpha) {
        List<String> specs = new ArrayList<>();
        for (String e : entries) {
            String name = e.trim();
            if (name.contains("=")) {
                specs.add(name);
            } else if (NAMED.containsKey(name)) {
                String opts = NAMED.get(name);
                if (name.equals("vdep") && vdepAlpha != null) {
                    opts = opts.replace("--alpha 1.0", "--alpha " + vdepAlpha);
                }
                specs.add(name + "=" + opts);
            } else {
                throw new IllegalArgumentException("--arms: unknown arm '" + name + "'; named arms are " + String.join(", ", NAMED.keySet())
                        + ", or give NAME=OPTIONS");
            }
        }
        return AblationRunner.parseArms(specs);
    }
}
