package io.github.vdep.train.data.tokenizerjson;

/**
 * The result of encoding a text: ids, token strings and UTF-16 ranges into the text.
 *
 * @param ids    token ids
 * @param tokens token strings
 * @param starts start of each token's range in the text
 * @param ends   end (exclusive) of each token's range
 */
public record Encoding(int[] ids, String[] tokens, int[] starts, int[] ends) {

    /** @return the number of tokens */
    public int size() {
        return ids.length;
    }

    /** Collects tokens. */
    static final class Builder {
        private final NormalizedText.IntList ids;
        private final NormalizedText.IntList starts;
        private final NormalizedText.IntList ends;
        private final java.util.List<String> tokens;

        Builder(int capacity) {
            ids = new NormalizedText.IntList(capacity);
            starts = new NormalizedText.IntList(capacity);
            ends = new NormalizedText.IntList(capacity);
            tokens = new java.util.ArrayList<>(capacity);
        }

        void add(int id, String token, int start, int end) {
            ids.add(id);
            tokens.add(token);
            starts.add(start);
            ends.add(end);
        }

        Encoding build() {
            return new Encoding(ids.toArray(), tokens.toArray(new String[0]), starts.toArray(), ends.toArray());
        }
    }
}
