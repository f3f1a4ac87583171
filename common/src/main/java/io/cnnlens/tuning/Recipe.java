package io.cnnlens.tuning;

import java.io.Serializable;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * One trainable configuration of the bundled architecture family ({@link io.cnnlens.model.FashionAlexNet}):
 * every hyperparameter the tuning job searches over. {@link #defaults()} is the bundled model's recipe.
 *
 * @param width        layer-width multiplier (1 = the bundled network)
 * @param dropout      dropout rate after fc6 and fc7
 * @param batchSize    images per step
 * @param optimizer    {@code adam} or {@code sgd} (momentum 0.9)
 * @param lr           base learning rate
 * @param schedule     {@code cosine} (to lr/100), {@code step} (×0.1 at 50 % and 75 % of the steps) or {@code constant}
 * @param weightDecay  L2 weight decay (added to the gradient by the optimiser; the logged loss is the data loss)
 * @param epochs       passes over the training split
 * @param init         {@code xavier} (the bundled model's: Xavier-uniform weights, zero biases) or {@code small-last}
 *                     (the same, but fc8's weights drawn from N(0, 0.01²) so the first logits are near 0 and the
 *                     initial loss near ln C)
 */
public record Recipe(double width, double dropout, int batchSize, String optimizer, double lr, String schedule,
                     double weightDecay, int epochs, String init) implements Serializable {

    /** The hyperparameter names, as search-space files and tables spell them. */
    public static final List<String> NAMES = List.of("width", "dropout", "batch-size", "optimizer", "lr", "schedule",
            "weight-decay", "epochs", "init");

    public static final List<String> OPTIMIZERS = List.of("adam", "sgd");
    public static final List<String> SCHEDULES = List.of("cosine", "step", "constant");
    public static final List<String> INITS = List.of("xavier", "small-last");

    public Recipe {
        if (!(width > 0 && width <= 8)) {
            throw new IllegalArgumentException("width must be in (0, 8], not " + width);
        }
        if (!(dropout >= 0 && dropout < 1)) {
            throw new IllegalArgumentException("dropout must be in [0, 1), not " + dropout);
        }
        if (batchSize < 1) {
            throw new IllegalArgumentException("batch-size must be positive, not " + batchSize);
        }
        optimizer = optimizer.toLowerCase(Locale.ROOT);
        if (!OPTIMIZERS.contains(optimizer)) {
            throw new IllegalArgumentException("optimizer must be one of " + OPTIMIZERS + ", not " + optimizer);
        }
        if (!(lr > 0) || Double.isInfinite(lr)) {
            throw new IllegalArgumentException("lr must be positive, not " + lr);
        }
        schedule = schedule.toLowerCase(Locale.ROOT);
        if (!SCHEDULES.contains(schedule)) {
            throw new IllegalArgumentException("schedule must be one of " + SCHEDULES + ", not " + schedule);
        }
        if (!(weightDecay >= 0) || Double.isInfinite(weightDecay)) {
            throw new IllegalArgumentException("weight-decay must be >= 0, not " + weightDecay);
        }
        if (epochs < 1) {
            throw new IllegalArgumentException("epochs must be positive, not " + epochs);
        }
        init = init.toLowerCase(Locale.ROOT);
        if (!INITS.contains(init)) {
            throw new IllegalArgumentException("init must be one of " + INITS + ", not " + init);
        }
    }

    /** The bundled model's recipe (conf/models/fashion-alexnet: Adam 2e-3, cosine, dropout 0.3, 12 epochs). */
    public static Recipe defaults() {
        return new Recipe(1.0, 0.3, 128, "adam", 2e-3, "cosine", 0.0, 12, "xavier");
    }

    /** This recipe with hyperparameter {@code name} set to {@code value} (its text form). */
    public Recipe with(String name, String value) {
        if (!NAMES.contains(name)) {
            throw new IllegalArgumentException("unknown hyperparameter '" + name + "'; known: " + NAMES);
        }
        Map<String, String> m = asMap();
        m.put(name, value.trim());
        try {
            return new Recipe(Double.parseDouble(m.get("width")), Double.parseDouble(m.get("dropout")),
                    (int) Math.round(Double.parseDouble(m.get("batch-size"))), m.get("optimizer"), Double.parseDouble(m.get("lr")),
                    m.get("schedule"), Double.parseDouble(m.get("weight-decay")), (int) Math.round(Double.parseDouble(m.get("epochs"))),
                    m.get("init"));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("hyperparameter " + name + ": not a number: '" + value + "'");
        }
    }

    public Recipe withEpochs(int e) {
        return with("epochs", String.valueOf(e));
    }

    /** The recipe from its {@link #asMap()} form; missing names keep the defaults. */
    public static Recipe of(Map<String, String> values) {
        Recipe r = defaults();
        for (Map.Entry<String, String> e : values.entrySet()) {
            r = r.with(e.getKey(), e.getValue());
        }
        return r;
    }

    /** Every hyperparameter by name, as text (round-trips through {@link #of}). */
    public Map<String, String> asMap() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("width", num(width));
        m.put("dropout", num(dropout));
        m.put("batch-size", String.valueOf(batchSize));
        m.put("optimizer", optimizer);
        m.put("lr", num(lr));
        m.put("schedule", schedule);
        m.put("weight-decay", num(weightDecay));
        m.put("epochs", String.valueOf(epochs));
        m.put("init", init);
        return m;
    }

    /** A numeric hyperparameter's value (NaN for the categorical ones). */
    public double numeric(String name) {
        return switch (name) {
            case "width" -> width;
            case "dropout" -> dropout;
            case "batch-size" -> batchSize;
            case "lr" -> lr;
            case "weight-decay" -> weightDecay;
            case "epochs" -> epochs;
            default -> Double.NaN;
        };
    }

    public String line() {
        return asMap().toString();
    }

    static String num(double x) {
        return String.format(Locale.ROOT, "%.4g", x).replaceFirst("(\\.\\d*?)0+(e|$)", "$1$2").replaceFirst("\\.(e|$)", "$1");
    }
}
