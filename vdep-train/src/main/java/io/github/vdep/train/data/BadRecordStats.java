package io.github.vdep.train.data;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Counts of skipped records per reason, with the first few ids of each for the end-of-run log.
 * Thread-safe.
 */
public final class BadRecordStats {

    /** How many example ids are kept per reason. */
    public static final int EXAMPLES_PER_REASON = 5;

    private final Map<String, Long> counts = new TreeMap<>();
    private final Map<String, List<String>> examples = new TreeMap<>();
    private long total;

    /**
     * Counts one bad record.
     *
     * @param e the record's problem
     */
    public synchronized void record(BadRecordException e) {
        total++;
        counts.merge(e.reason(), 1L, Long::sum);
        List<String> ids = examples.computeIfAbsent(e.reason(), k -> new ArrayList<>());
        if (ids.size() < EXAMPLES_PER_REASON) {
            ids.add(e.id());
        }
    }

    /** @return the number of bad records counted */
    public synchronized long total() {
        return total;
    }

    /** @return a snapshot of the count per reason, sorted by reason */
    public synchronized Map<String, Long> byReason() {
        return new LinkedHashMap<>(counts);
    }

    /**
     * @param reason a reason
     * @return how many records were counted under it
     */
    public synchronized long count(BadRecordReason reason) {
        return counts.getOrDefault(reason.label(), 0L);
    }

    /** @return e.g. {@code "3 bad records skipped: missing image file 2 (e.g. a, b); undecodable image 1 (e.g. c)"} */
    public synchronized String summary() {
        if (total == 0) {
            return "no bad records";
        }
        StringBuilder sb = new StringBuilder().append(total).append(total == 1 ? " bad record" : " bad records")
                .append(" skipped: ");
        boolean first = true;
        for (Map.Entry<String, Long> e : counts.entrySet()) {
            if (!first) {
                sb.append("; ");
            }
            first = false;
            sb.append(e.getKey()).append(' ').append(e.getValue()).append(" (e.g. ")
                    .append(String.join(", ", examples.get(e.getKey()))).append(')');
        }
        return sb.toString();
    }

    @Override
    public String toString() {
        return summary();
    }
}
