package io.github.vdep.train.data;

/**
 * One message of a LLaVA conversation record.
 *
 * @param from  the speaker as written in the data: {@code "human"} or {@code "gpt"} for usable
 *              records (other values make the record bad when it is encoded)
 * @param value the message text; may contain the {@code <image>} placeholder
 */
public record Turn(String from, String value) {

    /** Speaker name of the user's turns. */
    public static final String HUMAN = "human";
    /** Speaker name of the assistant's turns. */
    public static final String GPT = "gpt";

    /** @return whether this is a user turn */
    public boolean isHuman() {
        return HUMAN.equals(from);
    }

    /** @return whether this is an assistant turn */
    public boolean isGpt() {
        return GPT.equals(from);
    }
}
