package io.cnnlens.audit;

import java.io.IOException;
import java.io.Reader;
import java.io.StringReader;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;

/**
 * The alert thresholds of an audit, from a properties file: {@code max.<metric> = v} alerts when
 * the metric is above v, {@code min.<metric> = v} when it is below v. Metrics are the audit's
 * summary figures by name ({@code label_issues.fraction}, {@code leakage.pairs},
 * {@code drift.p_value}, {@code new.label_issues}, …). A key naming no metric is an error, so a typo
 * cannot silence an alert.
 */
public final class AuditThresholds {

    /** One threshold: metric, whether it is an upper bound, and its value. */
    public record Threshold(String metric, boolean upper, double value) {
        public boolean crossedBy(double v) {
            return upper ? v > value : v < value;
        }

        public String describe() {
            return metric + (upper ? " ≤ " : " ≥ ") + fmt(value);
        }
    }

    /** A crossed threshold and the value that crossed it. */
    public record Crossed(Threshold threshold, double value) {
        public String describe() {
            return threshold.metric() + " = " + fmt(value) + " (allowed: " + threshold.describe() + ")";
        }
    }

    private final List<Threshold> thresholds;

    private AuditThresholds(List<Threshold> thresholds) {
        this.thresholds = List.copyOf(thresholds);
    }

    public static AuditThresholds none() {
        return new AuditThresholds(List.of());
    }

    public static AuditThresholds parse(String text) {
        try {
            return read(new StringReader(text));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    public static AuditThresholds read(Reader in) throws IOException {
        Properties p = new Properties();
        p.load(in);
        List<Threshold> out = new ArrayList<>();
        for (String key : new TreeMap<>(p.stringPropertyNames().stream().collect(
                java.util.stream.Collectors.toMap(k -> k, p::getProperty))).keySet()) {
            String v = p.getProperty(key).trim();
            boolean upper;
            if (key.startsWith("max.")) {
                upper = true;
            } else if (key.startsWith("min.")) {
                upper = false;
            } else {
                throw new IllegalArgumentException("threshold key '" + key + "' must start with max. or min.");
            }
            double value;
            try {
                value = Double.parseDouble(v);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("threshold " + key + " = '" + v + "' is not a number");
            }
            out.add(new Threshold(key.substring(4), upper, value));
        }
        return new AuditThresholds(out);
    }

    public List<Threshold> thresholds() {
        return thresholds;
    }

    /** The thresholds {@code metrics} cross; a threshold on a metric the audit does not have is an error. */
    public List<Crossed> check(Map<String, Double> metrics) {
        List<Crossed> out = new ArrayList<>();
        for (Threshold t : thresholds) {
            Double v = metrics.get(t.metric());
            if (v == null) {
                if (metrics.containsKey(t.metric())) {
                    continue; // known but not measured this run (e.g. drift with no new images)
                }
                throw new IllegalArgumentException("threshold on unknown metric '" + t.metric() + "'; metrics: "
                        + String.join(", ", new TreeMap<>(metrics).keySet()));
            }
            if (t.crossedBy(v)) {
                out.add(new Crossed(t, v));
            }
        }
        return out;
    }

    /** The thresholds as metric → "≤ v" / "≥ v", for the summary. */
    public Map<String, String> describe() {
        Map<String, String> m = new LinkedHashMap<>();
        thresholds.forEach(t -> m.put(t.metric(), (t.upper() ? "<= " : ">= ") + fmt(t.value())));
        return m;
    }

    static String fmt(double v) {
        return v == Math.rint(v) && Math.abs(v) < 1e15 ? String.valueOf((long) v) : String.format(Locale.ROOT, "%.4g", v);
    }
}
