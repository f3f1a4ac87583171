package io.cnnlens.jobs;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

/**
 * One option of a job: its key on the command line ({@code --<name>}), its type, its default and
 * its help, side by side in one constant (Iceberg's {@code KEY} / {@code KEY_DEFAULT}). The CLI
 * builds its options from these keys, {@code run} builds each stage's options from their
 * defaults, and a job's options record reads them from {@link OptionValues}: the default is
 * written once. A null default means "not set" (the job decides, and the help says how).
 *
 * @param name         the key, e.g. {@code "batch-size"} for {@code --batch-size}
 * @param type         the value's type (Integer, Long, Double, Boolean, String, List, int[], float[], double[])
 * @param element      for lists, the element type; else null
 * @param defaultValue the default, or null
 * @param help         one sentence; the CLI appends the default
 */
public record OptionKey<T>(String name, Class<?> type, Class<?> element, T defaultValue, String help) {

    public OptionKey {
        if (!name.matches("[a-z][a-z0-9-]*")) {
            throw new IllegalArgumentException("option key '" + name + "' is not lower-case-with-dashes");
        }
    }

    public static OptionKey<String> text(String name, String defaultValue, String help) {
        return new OptionKey<>(name, String.class, null, defaultValue, help);
    }

    public static OptionKey<Integer> integer(String name, int defaultValue, String help) {
        return new OptionKey<>(name, Integer.class, null, defaultValue, help);
    }

    public static OptionKey<Long> count(String name, long defaultValue, String help) {
        return new OptionKey<>(name, Long.class, null, defaultValue, help);
    }

    public static OptionKey<Double> real(String name, double defaultValue, String help) {
        return new OptionKey<>(name, Double.class, null, defaultValue, help);
    }

    public static OptionKey<Boolean> flag(String name, boolean defaultValue, String help) {
        return new OptionKey<>(name, Boolean.class, null, defaultValue, help);
    }

    /** A comma-separated list of names; {@code defaultValue} may be null (the job decides). */
    public static OptionKey<List<String>> names(String name, List<String> defaultValue, String help) {
        return new OptionKey<>(name, List.class, String.class, defaultValue, help);
    }

    public static OptionKey<int[]> integers(String name, int[] defaultValue, String help) {
        return new OptionKey<>(name, int[].class, null, defaultValue, help);
    }

    public static OptionKey<float[]> floats(String name, float[] defaultValue, String help) {
        return new OptionKey<>(name, float[].class, null, defaultValue, help);
    }

    public static OptionKey<double[]> reals(String name, double[] defaultValue, String help) {
        return new OptionKey<>(name, double[].class, null, defaultValue, help);
    }

    /** The default as the command line would spell it, or null when there is none. */
    public String defaultText() {
        Object d = defaultValue;
        if (d == null) {
            return null;
        }
        if (d instanceof List<?> l) {
            return l.stream().map(String::valueOf).collect(Collectors.joining(","));
        }
        if (d instanceof int[] a) {
            return Arrays.stream(a).mapToObj(String::valueOf).collect(Collectors.joining(","));
        }
        if (d instanceof double[] a) {
            return Arrays.stream(a).mapToObj(OptionKey::plain).collect(Collectors.joining(","));
        }
        if (d instanceof float[] a) {
            return IntStream.range(0, a.length).mapToObj(i -> plain(a[i])).collect(Collectors.joining(","));
        }
        if (d instanceof Double x) {
            return plain(x);
        }
        return String.valueOf(d);
    }

    private static String plain(double x) {
        return x == Math.rint(x) && Math.abs(x) < 1e15 ? String.valueOf((long) x) : String.format(Locale.ROOT, "%s", x);
    }
}
