package io.github.vdep.core.nn;

import io.github.vdep.core.autograd.Parameter;
import io.github.vdep.core.device.Device;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A building block that owns parameters and child modules, named as in PyTorch so that
 * {@link #namedParameters()} yields Hugging Face checkpoint keys directly
 * ({@code layers.0.self_attn.q_proj.weight}).
 */
public abstract class Module {
    private final Map<String, Parameter> parameters = new LinkedHashMap<>();
    private final Map<String, Module> children = new LinkedHashMap<>();

    /** Registers a parameter under a local name. */
    protected Parameter registerParameter(String name, INDArray value) {
        if (parameters.containsKey(name) || children.containsKey(name)) {
            throw new IllegalStateException("duplicate name '" + name + "' in " + getClass().getSimpleName());
        }
        Parameter p = new Parameter(name, value);
        parameters.put(name, p);
        return p;
    }

    /** Registers a child module under a local name (its parameters get the prefix {@code name.}). */
    protected <M extends Module> M registerModule(String name, M module) {
        if (parameters.containsKey(name) || children.containsKey(name)) {
            throw new IllegalStateException("duplicate name '" + name + "' in " + getClass().getSimpleName());
        }
        children.put(name, module);
        return module;
    }

    /** All parameters, recursively, by dotted name, in registration order. */
    public Map<String, Parameter> namedParameters() {
        Map<String, Parameter> out = new LinkedHashMap<>();
        collect("", out);
        return Collections.unmodifiableMap(out);
    }

    private void collect(String prefix, Map<String, Parameter> out) {
        parameters.forEach((n, p) -> out.put(prefix + n, p));
        children.forEach((n, m) -> m.collect(prefix + n + ".", out));
    }

    /** Direct children by local name. */
    public Map<String, Module> children() {
        return Collections.unmodifiableMap(children);
    }

    /** All parameters, recursively. */
    public List<Parameter> parameters() {
        return new ArrayList<>(namedParameters().values());
    }

    /** Freezes or unfreezes every parameter of this module. */
    public void setTrainable(boolean trainable) {
        for (Parameter p : parameters()) {
            p.setTrainable(trainable);
        }
    }

    /**
     * Moves every parameter to {@code device} in place (an explicit copy; gradients are dropped)
     * and returns this module, as PyTorch's {@code module.to(device)}. Optimizers should be made
     * after the move.
     */
    public <M extends Module> M to(Device device) {
        for (Parameter p : parameters()) {
            p.moveTo(device);
        }
        @SuppressWarnings("unchecked")
        M self = (M) this;
        return self;
    }

    /**
     * The device of this module's parameters ({@link Device#CPU} for a module without any).
     *
     * @throws IllegalStateException if they are spread over several devices
     */
    public Device device() {
        Device d = null;
        for (Parameter p : parameters()) {
            Device pd = p.device();
            if (d == null) {
                d = pd;
            } else if (!d.equals(pd)) {
                throw new IllegalStateException(getClass().getSimpleName() + " has parameters on " + d + " and on " + pd
                        + "; move it with .to(device)");
            }
        }
        return d == null ? Device.CPU : d;
    }

    /** Drops all gradients. */
    public void zeroGrad() {
        for (Parameter p : parameters()) {
            p.zeroGrad();
        }
    }

    /** Number of scalar parameters. */
    public long parameterCount() {
        long n = 0;
        for (Parameter p : parameters()) {
            n += length(p.shape());
        }
        return n;
    }

    /** Number of scalar parameters that currently train. */
    public long trainableParameterCount() {
        long n = 0;
        for (Parameter p : parameters()) {
            if (p.trainable()) {
                n += length(p.shape());
            }
        }
        return n;
    }

    private static long length(long[] shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }
}
