package io.cnnlens.model;

import java.util.List;

/**
 * Target classes as users write them: a class name of the model's labels file or a class index.
 * One parser for every job that takes a target (saliency, fool, classviz): a name is looked up
 * first (so a class called "3" is that class), then a plain non-negative integer is an index.
 */
public final class ClassTargets {

    private ClassTargets() {
    }

    /** The index of {@code value} (a class name or index, blanks around it ignored), or −1 when it is neither. */
    public static int indexOf(String value, List<String> labels) {
        String v = value == null ? "" : value.strip();
        int i = labels.indexOf(v);
        if (i < 0 && v.matches("\\d{1,9}")) {
            i = Integer.parseInt(v);
        }
        return i >= 0 && i < labels.size() ? i : -1;
    }

    /**
     * The index of {@code value}; one that is neither a class name nor an index in range is an
     * error naming it, the {@code keywords} the option also takes, the index range and the first
     * classes: {@code unknown target 'boots': use predicted, label, a class index 0..9 or one of
     * the model's classes [T-shirt/top, …]}.
     */
    public static int index(String value, List<String> labels, String... keywords) {
        int i = indexOf(value, labels);
        if (i < 0) {
            throw new IllegalArgumentException(unknown(value, labels, keywords));
        }
        return i;
    }

    /** Comma-separated classes (names or indices), in the order given; any unknown one is an error as in {@link #index}. */
    public static int[] indices(String csv, List<String> labels, String... keywords) {
        String[] parts = (csv == null ? "" : csv).split(",", -1);
        int[] out = new int[parts.length];
        for (int k = 0; k < parts.length; k++) {
            out[k] = index(parts[k], labels, keywords);
        }
        return out;
    }

    /** The message for a target that is not a class. */
    public static String unknown(String value, List<String> labels, String... keywords) {
        StringBuilder use = new StringBuilder();
        for (String k : keywords) {
            use.append(k).append(", ");
        }
        int n = labels.size();
        return "unknown target '" + (value == null ? "" : value.strip()) + "': use " + use + "a class index 0.." + (n - 1)
                + " or one of the model's classes " + labels.subList(0, Math.min(12, n)) + (n > 12 ? " …" : "");
    }
}
