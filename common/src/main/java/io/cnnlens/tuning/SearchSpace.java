package io.cnnlens.tuning;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

/**
 * Where the search looks, one hyperparameter a line (docs/tuning.md):
 *
 * <pre>
 * lr           = loguniform 1e-4 1e-1
 * weight-decay = loguniform 1e-6 1e-2
 * dropout      = uniform 0 0.5
 * optimizer    = choice adam sgd
 * width        = 0.5                 # fixed
 * </pre>
 *
 * Names not listed keep the base recipe's value. {@link #random} samples each hyperparameter
 * independently (Bergstra &amp; Bengio 2012), seeded so trial {@code i} is the same on every run;
 * {@link #grid} takes {@code points} values per continuous axis (evenly spaced, in log space for
 * log-uniform ones, ends included) and every choice, and their cartesian product.
 */
public record SearchSpace(Map<String, Dim> dims) {

    public enum Kind { LOGUNIFORM, UNIFORM, CHOICE, FIXED }

    /** One hyperparameter's range. */
    public record Dim(String name, Kind kind, double low, double high, List<String> choices) implements java.io.Serializable {
        public Dim {
            choices = List.copyOf(choices);
            if (kind == Kind.LOGUNIFORM && !(low > 0 && high >= low)) {
                throw new IllegalArgumentException(name + ": loguniform needs 0 < low <= high, got " + low + " " + high);
            }
            if (kind == Kind.UNIFORM && !(high >= low)) {
                throw new IllegalArgumentException(name + ": uniform needs low <= high, got " + low + " " + high);
            }
            if ((kind == Kind.CHOICE || kind == Kind.FIXED) && choices.isEmpty()) {
                throw new IllegalArgumentException(name + ": no values");
            }
        }

        String sample(Random rnd) {
            return switch (kind) {
                case LOGUNIFORM -> Recipe.num(Math.exp(Math.log(low) + rnd.nextDouble() * (Math.log(high) - Math.log(low))));
                case UNIFORM -> Recipe.num(low + rnd.nextDouble() * (high - low));
                case CHOICE -> choices.get(rnd.nextInt(choices.size()));
                case FIXED -> choices.get(0);
            };
        }

        List<String> grid(int points) {
            List<String> out = new ArrayList<>();
            switch (kind) {
                case LOGUNIFORM, UNIFORM -> {
                    for (int i = 0; i < points; i++) {
                        double t = points == 1 ? 0.5 : i / (double) (points - 1);
                        out.add(Recipe.num(kind == Kind.LOGUNIFORM
                                ? Math.exp(Math.log(low) + t * (Math.log(high) - Math.log(low))) : low + t * (high - low)));
                    }
                }
                case CHOICE -> out.addAll(choices);
                case FIXED -> out.add(choices.get(0));
            }
            return out;
        }

        String describe() {
            return switch (kind) {
                case LOGUNIFORM -> "loguniform " + Recipe.num(low) + " " + Recipe.num(high);
                case UNIFORM -> "uniform " + Recipe.num(low) + " " + Recipe.num(high);
                case CHOICE -> "choice " + String.join(" ", choices);
                case FIXED -> choices.get(0);
            };
        }
    }

    public SearchSpace {
        dims = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(dims));
        for (String n : dims.keySet()) {
            if (!Recipe.NAMES.contains(n)) {
                throw new IllegalArgumentException("unknown hyperparameter '" + n + "' in the search space; known: " + Recipe.NAMES);
            }
        }
    }

    public static SearchSpace load(Path file) throws IOException {
        return parse(Files.readString(file, StandardCharsets.UTF_8), file.toString());
    }

    /** Parses the text form; {@code where} names it in errors. */
    public static SearchSpace parse(String text, String where) {
        Map<String, Dim> dims = new LinkedHashMap<>();
        String[] lines = text.split("\\R");
        for (int ln = 0; ln < lines.length; ln++) {
            String line = lines[ln].replaceFirst("#.*", "").strip();
            if (line.isEmpty()) {
                continue;
            }
            String at = where + " line " + (ln + 1) + ": ";
            int eq = line.indexOf('=');
            if (eq < 0) {
                throw new IllegalArgumentException(at + "expected 'name = kind values', got '" + line + "'");
            }
            String name = line.substring(0, eq).strip();
            String[] parts = line.substring(eq + 1).strip().split("\\s+");
            try {
                String kind = parts[0].toLowerCase(Locale.ROOT);
                Dim d = switch (kind) {
                    case "loguniform", "uniform" -> {
                        if (parts.length != 3) {
                            throw new IllegalArgumentException(kind + " needs a low and a high value");
                        }
                        yield new Dim(name, kind.equals("loguniform") ? Kind.LOGUNIFORM : Kind.UNIFORM,
                                Double.parseDouble(parts[1]), Double.parseDouble(parts[2]), List.of());
                    }
                    case "choice" -> {
                        if (parts.length < 2) {
                            throw new IllegalArgumentException("choice needs at least one value");
                        }
                        yield new Dim(name, Kind.CHOICE, 0, 0, List.of(parts).subList(1, parts.length));
                    }
                    default -> {
                        if (parts.length != 1) {
                            throw new IllegalArgumentException("a fixed value is one word; kinds: loguniform, uniform, choice");
                        }
                        yield new Dim(name, Kind.FIXED, 0, 0, List.of(parts[0]));
                    }
                };
                if (dims.put(name, d) != null) {
                    throw new IllegalArgumentException(name + " given twice");
                }
                // every value must make a valid recipe
                for (String v : d.kind() == Kind.CHOICE || d.kind() == Kind.FIXED ? d.choices()
                        : List.of(Recipe.num(d.low()), Recipe.num(d.high()))) {
                    Recipe.defaults().with(name, v);
                }
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(at + "not a number: " + e.getMessage());
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(at + e.getMessage(), e);
            }
        }
        if (dims.isEmpty()) {
            throw new IllegalArgumentException(where + ": no hyperparameters");
        }
        return new SearchSpace(dims);
    }

    /** Trial {@code i}'s recipe: each hyperparameter drawn from its own stream seeded by (seed, i). */
    public Recipe sample(Recipe base, long seed, int i) {
        // nearby seeds give correlated first draws in java.util.Random: mix (seed, i) first (SplitMix64's finaliser)
        Random rnd = new Random(mix(mix(seed) + i));
        Recipe r = base;
        for (Dim d : dims.values()) {
            r = r.with(d.name(), d.sample(rnd));
        }
        return r;
    }

    public List<Recipe> random(Recipe base, int trials, long seed) {
        List<Recipe> out = new ArrayList<>();
        for (int i = 0; i < trials; i++) {
            out.add(sample(base, seed, i));
        }
        return out;
    }

    /** The cartesian grid, {@code points} values per continuous axis, last hyperparameter varying fastest. */
    public List<Recipe> grid(Recipe base, int points) {
        List<Recipe> out = new ArrayList<>();
        out.add(base);
        for (Dim d : dims.values()) {
            List<Recipe> next = new ArrayList<>();
            for (Recipe r : out) {
                for (String v : d.grid(points)) {
                    next.add(r.with(d.name(), v));
                }
            }
            out = next;
        }
        return out;
    }

    /**
     * The lecture's refine step: each continuous range narrowed to the span of {@code best}'s values, widened by
     * {@code margin} (a factor in log space for log-uniform axes, a fraction of the old range for uniform ones) and kept
     * inside the old range; each choice narrowed to the values the best trials used.
     */
    public SearchSpace refine(List<Recipe> best, double margin) {
        if (best.isEmpty()) {
            return this;
        }
        Map<String, Dim> out = new LinkedHashMap<>();
        for (Dim d : dims.values()) {
            switch (d.kind()) {
                case LOGUNIFORM, UNIFORM -> {
                    double lo = Double.POSITIVE_INFINITY;
                    double hi = Double.NEGATIVE_INFINITY;
                    for (Recipe r : best) {
                        double v = value(r, d.name());
                        lo = Math.min(lo, v);
                        hi = Math.max(hi, v);
                    }
                    if (d.kind() == Kind.LOGUNIFORM) {
                        lo = Math.max(d.low(), lo / margin);
                        hi = Math.min(d.high(), hi * margin);
                    } else {
                        double w = (d.high() - d.low()) * (margin - 1) / 2;
                        lo = Math.max(d.low(), lo - w);
                        hi = Math.min(d.high(), hi + w);
                    }
                    out.put(d.name(), new Dim(d.name(), d.kind(), lo, Math.max(lo, hi), List.of()));
                }
                case CHOICE -> {
                    List<String> used = best.stream().map(r -> r.asMap().get(d.name())).distinct().toList();
                    List<String> kept = d.choices().stream().filter(c -> used.contains(Recipe.defaults().with(d.name(), c)
                            .asMap().get(d.name()))).toList();
                    out.put(d.name(), new Dim(d.name(), Kind.CHOICE, 0, 0, kept.isEmpty() ? d.choices() : kept));
                }
                case FIXED -> out.put(d.name(), d);
            }
        }
        return new SearchSpace(out);
    }

    static long mix(long z) {
        z += 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    private static double value(Recipe r, String name) {
        double v = r.numeric(name);
        if (Double.isNaN(v)) {
            throw new IllegalArgumentException(name + " is not numeric");
        }
        return v;
    }

    /** The text form ({@link #parse} reads it back). */
    public String text() {
        StringBuilder b = new StringBuilder();
        for (Dim d : dims.values()) {
            b.append(d.name()).append(" = ").append(d.describe()).append('\n');
        }
        return b.toString();
    }
}
