package io.github.vdep.train.trainer;

import io.github.vdep.core.autograd.Parameter;
import io.github.vdep.core.nn.Module;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Marks parameters trainable by name patterns: {@code *} matches within one dotted component,
 * {@code **} across components (e.g. {@code language_model.model.layers.*.mlp.**}).
 */
public final class TrainableSelector {
    private TrainableSelector() {
    }

    /**
     * Sets every parameter's trainable flag: true iff its name matches one of the patterns.
     *
     * @return the trainable parameters by name
     * @throws IllegalArgumentException if a pattern matches nothing, or nothing is trainable
     */
    public static Map<String, Parameter> apply(Module model, List<String> patterns) {
        List<Pattern> compiled = new ArrayList<>();
        for (String p : patterns) {
            compiled.add(compile(p));
        }
        boolean[] used = new boolean[patterns.size()];
        Map<String, Parameter> trainable = new LinkedHashMap<>();
        model.namedParameters().forEach((name, param) -> {
            boolean match = false;
            for (int i = 0; i < compiled.size(); i++) {
                if (compiled.get(i).matcher(name).matches()) {
                    used[i] = true;
                    match = true;
                }
            }
            param.setTrainable(match);
            if (match) {
                trainable.put(name, param);
            }
        });
        for (int i = 0; i < used.length; i++) {
            if (!used[i]) {
                throw new IllegalArgumentException("trainable pattern '" + patterns.get(i) + "' matches no parameter");
            }
        }
        if (trainable.isEmpty()) {
            throw new IllegalArgumentException("no parameter is trainable");
        }
        return trainable;
    }

    static Pattern compile(String glob) {
        StringBuilder re = new StringBuilder();
        for (int i = 0; i < glob.length(); i++) {
            char c = glob.charAt(i);
            if (c == '*') {
                if (i + 1 < glob.length() && glob.charAt(i + 1) == '*') {
                    re.append(".*");
                    i++;
                } else {
                    re.append("[^.]*");
                }
            } else {
                re.append(Pattern.quote(String.valueOf(c)));
            }
        }
        return Pattern.compile(re.toString());
    }
}
