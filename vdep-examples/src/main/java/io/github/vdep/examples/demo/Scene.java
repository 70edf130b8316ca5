package io.github.vdep.examples.demo;

import java.util.List;

/**
 * A synthetic scene: one or two objects on a plain background.
 *
 * @param objects left-to-right (or the single object)
 */
public record Scene(List<SceneObject> objects) {

    /** One object: shape, colour, size, and where it sits. */
    public record SceneObject(String shape, String colour, String size, String position) {
        String phrase() {
            return "a " + size + " " + colour + " " + shape;
        }
    }

    /** A caption listing the objects and their positions. */
    public String caption() {
        if (objects.size() == 1) {
            SceneObject o = objects.get(0);
            return o.phrase() + " in the " + o.position() + " .";
        }
        return objects.get(0).phrase() + " on the left and " + objects.get(1).phrase() + " on the right .";
    }
}
