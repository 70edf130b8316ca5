package io.github.vdep.examples.demo;

import java.util.List;

/**
 * A synthetic scene: one to three objects, each in its own slot (left, middle or right).
 *
 * @param objects left to right
 */
public record Scene(List<SceneObject> objects) {

    /** One object: shape, colour and the slot it sits in. */
    public record SceneObject(String shape, String colour, String position) {
    }

    /** Whether an object of this colour and shape is in the scene. */
    public boolean contains(String colour, String shape) {
        return objects.stream().anyMatch(o -> o.colour().equals(colour) && o.shape().equals(shape));
    }
}
