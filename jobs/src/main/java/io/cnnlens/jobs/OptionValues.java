package io.cnnlens.jobs;

import java.util.HashMap;
import java.util.Map;

/**
 * The values a job was given, by key; a key that was not given reads as its default. The CLI
 * fills one from the command line, {@code run} from its own options, a test from what it sets.
 */
public final class OptionValues {

    private final Map<String, Object> values;

    private OptionValues(Map<String, Object> values) {
        this.values = values;
    }

    /** Every key at its default. */
    public static OptionValues defaults() {
        return new OptionValues(Map.of());
    }

    /** A copy with {@code key} set to {@code value} (null: back to "not set"). */
    public <T> OptionValues with(OptionKey<T> key, T value) {
        Map<String, Object> m = new HashMap<>(values);
        m.put(key.name(), value);
        return new OptionValues(m);
    }

    /** A copy with every value that {@code other} sets. */
    public OptionValues with(OptionValues other) {
        Map<String, Object> m = new HashMap<>(values);
        m.putAll(other.values);
        return new OptionValues(m);
    }

    /** The value given for {@code key}, or its default. */
    @SuppressWarnings("unchecked")
    public <T> T get(OptionKey<T> key) {
        return values.containsKey(key.name()) ? (T) values.get(key.name()) : key.defaultValue();
    }

    /** Whether {@code key} was given (rather than left at its default). */
    public boolean has(OptionKey<?> key) {
        return values.containsKey(key.name());
    }
}
