package io.cnnlens.model;

import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Properties;

/**
 * What a job needs to know about a model, read from a small properties file in
 * {@code conf/models/}. Paths in the file are relative to the file's own folder.
 *
 * <pre>
 * name=fashion-alexnet
 * format=djl                      # djl (a built-in architecture + .params) | torchscript (.pt)
 * architecture=fashion-alexnet    # djl only
 * weights=fashion-alexnet/fashion-alexnet-0000.params
 * input.channels=1
 * input.height=28
 * input.width=28
 * input.resize=stretch            # stretch | center-crop (shorter side to resize.size, then crop)
 * input.resize.size=28            # center-crop only (e.g. 256 for ImageNet models)
 * input.mean=0.2860               # one value, or one per channel, on the 0..1 pixel scale
 * input.std=0.3530
 * taps.features=fc7               # the penultimate layer
 * taps.logits=logits
 * taps.conv=conv5                 # conv layer whose per-channel spatial max the features job keeps
 * taps.first-conv=conv1
 * labels=fashion-alexnet/labels.txt
 * layers.geometry=conv1 k5 s1 p2, pool1 k2 s2, conv2 k3 s1 p1, ...   # optional: kernel/stride/padding
 *                                 # chain from the input, for receptive fields (patches)
 * </pre>
 */
public record ModelSpec(
        String name,
        Format format,
        String architecture,
        Path weights,
        int channels,
        int height,
        int width,
        Resize resize,
        int resizeSize,
        float[] mean,
        float[] std,
        String featuresTap,
        String logitsTap,
        String convTap,
        String firstConvTap,
        List<String> labels,
        String geometry) {

    public enum Format { DJL, TORCHSCRIPT }

    public enum Resize { STRETCH, CENTER_CROP }

    public ModelSpec {
        if (channels != 1 && channels != 3) {
            throw new IllegalArgumentException("input.channels must be 1 or 3, not " + channels);
        }
        if (height <= 0 || width <= 0) {
            throw new IllegalArgumentException("input.height/width must be positive");
        }
        mean = perChannel(mean, channels, "input.mean");
        std = perChannel(std, channels, "input.std");
        for (float s : std) {
            if (!(s > 0)) {
                throw new IllegalArgumentException("input.std must be > 0");
            }
        }
        labels = List.copyOf(labels);
        geometry = geometry == null ? "" : geometry.strip();
    }

    public static ModelSpec load(Path specFile) {
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(specFile, StandardCharsets.UTF_8)) {
            p.load(r);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read model spec " + specFile + ": " + e.getMessage(), e);
        }
        Path dir = specFile.toAbsolutePath().getParent();
        String where = " in model spec " + specFile;
        Format format = Format.valueOf(required(p, "format", where).toUpperCase(Locale.ROOT));
        int channels = Integer.parseInt(required(p, "input.channels", where));
        int height = Integer.parseInt(required(p, "input.height", where));
        int width = Integer.parseInt(required(p, "input.width", where));
        Resize resize = Resize.valueOf(p.getProperty("input.resize", "stretch")
                .trim().toUpperCase(Locale.ROOT).replace('-', '_'));
        int resizeSize = Integer.parseInt(p.getProperty("input.resize.size", String.valueOf(Math.min(height, width))).trim());
        List<String> labels;
        Path labelsFile = dir.resolve(required(p, "labels", where));
        try {
            labels = Files.readAllLines(labelsFile, StandardCharsets.UTF_8).stream()
                    .map(String::strip).filter(s -> !s.isEmpty()).toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read labels " + labelsFile + where, e);
        }
        return new ModelSpec(
                p.getProperty("name", specFile.getFileName().toString().replaceFirst("\\.properties$", "")).trim(),
                format,
                p.getProperty("architecture", "").trim(),
                dir.resolve(required(p, "weights", where)),
                channels, height, width, resize, resizeSize,
                floats(p.getProperty("input.mean", "0")),
                floats(p.getProperty("input.std", "1")),
                p.getProperty("taps.features", "fc7").trim(),
                p.getProperty("taps.logits", "logits").trim(),
                p.getProperty("taps.conv", "conv5").trim(),
                p.getProperty("taps.first-conv", "conv1").trim(),
                labels,
                p.getProperty("layers.geometry", ""));
    }

    public int classes() {
        return labels.size();
    }

    private static String required(Properties p, String key, String where) {
        String v = p.getProperty(key);
        if (v == null || v.isBlank()) {
            throw new IllegalArgumentException("missing '" + key + "'" + where);
        }
        return v.trim();
    }

    private static float[] floats(String csv) {
        String[] parts = csv.split(",");
        float[] out = new float[parts.length];
        for (int i = 0; i < parts.length; i++) {
            out[i] = Float.parseFloat(parts[i].trim());
        }
        return out;
    }

    private static float[] perChannel(float[] v, int channels, String key) {
        if (v.length == channels) {
            return v.clone();
        }
        if (v.length == 1) {
            float[] out = new float[channels];
            Arrays.fill(out, v[0]);
            return out;
        }
        throw new IllegalArgumentException(key + " needs 1 or " + channels + " values, got " + v.length);
    }
}
