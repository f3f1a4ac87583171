package io.cnnlens.model;

import ai.djl.Device;
import ai.djl.MalformedModelException;
import ai.djl.Model;
import ai.djl.nn.Block;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A model loaded once (per executor JVM) and shared by threads; each thread runs it through its
 * own {@link ModelForward}. Loading never downloads anything: the weights are a local file named
 * by the {@link ModelSpec}.
 */
public final class LoadedModel implements AutoCloseable {

    private static final Pattern PARAMS = Pattern.compile("(.+)-(\\d{4})\\.params");

    private final ModelSpec spec;
    private final Model model;
    private final Device device;
    private final boolean gradients;
    private Map<String, int[]> taps;

    private LoadedModel(ModelSpec spec, Model model, Device device, boolean gradients) {
        this.spec = spec;
        this.model = model;
        this.device = device;
        this.gradients = gradients;
    }

    /**
     * Loads the model on {@code device}. With {@code gradients}, TorchScript parameters are
     * loaded trainable (DJL's {@code trainParam=true}) so that gradients can flow to the input;
     * plain inference leaves it off.
     */
    public static LoadedModel load(ModelSpec spec, Device device, boolean gradients) {
        Path weights = spec.weights();
        if (!Files.isRegularFile(weights)) {
            throw new IllegalArgumentException("model weights not found: " + weights);
        }
        Model model = Model.newInstance(spec.name(), device, "PyTorch");
        try {
            Map<String, Object> options = new HashMap<>();
            options.put("mapLocation", "true");
            switch (spec.format()) {
                case DJL -> {
                    model.setBlock(builtInArchitecture(spec));
                    Matcher m = PARAMS.matcher(weights.getFileName().toString());
                    if (!m.matches()) {
                        throw new IllegalArgumentException("DJL weights must be named <prefix>-NNNN.params: " + weights);
                    }
                    options.put("epoch", String.valueOf(Integer.parseInt(m.group(2))));
                    model.load(weights.getParent(), m.group(1), options);
                }
                case TORCHSCRIPT -> {
                    if (gradients) {
                        options.put("trainParam", "true");
                    }
                    String file = weights.getFileName().toString();
                    String prefix = file.endsWith(".pt") ? file.substring(0, file.length() - 3) : file;
                    model.load(weights.getParent(), prefix, options);
                }
                default -> throw new IllegalStateException();
            }
        } catch (IOException e) {
            model.close();
            throw new UncheckedIOException("cannot load model " + spec.name() + " from " + weights, e);
        } catch (MalformedModelException e) {
            model.close();
            throw new IllegalArgumentException("malformed model " + spec.name() + " (" + weights + "): " + e.getMessage(), e);
        } catch (RuntimeException e) {
            model.close();
            throw e;
        }
        return new LoadedModel(spec, model, device, gradients);
    }

    /** The network for a built-in architecture, freshly constructed (weights not loaded). */
    public static Block builtInArchitecture(ModelSpec spec) {
        if (FashionAlexNet.ARCHITECTURE.equals(spec.architecture())) {
            return FashionAlexNet.build(spec.classes(), 0.3f);
        }
        // a tuned family member (the tune job's model spec): fashion-alexnet:width=<w>
        String prefix = FashionAlexNet.ARCHITECTURE + ":width=";
        if (spec.architecture().startsWith(prefix)) {
            return FashionAlexNet.build(spec.classes(), 0f, Double.parseDouble(spec.architecture().substring(prefix.length())));
        }
        throw new IllegalArgumentException("unknown architecture '" + spec.architecture()
                + "' (built in: " + FashionAlexNet.ARCHITECTURE + ")");
    }

    public ModelSpec spec() {
        return spec;
    }

    public Model model() {
        return model;
    }

    public Block block() {
        return model.getBlock();
    }

    public Device device() {
        return device;
    }

    /** Whether the network is an ordered list of stages (needed by guided backprop). */
    public boolean hasStages() {
        return block() instanceof TappedSequence;
    }

    public boolean gradients() {
        return gradients;
    }

    /**
     * The taps the network outputs, in the order it gives them, each with its per-image shape ({C, H, W} for a
     * conv map), from one forward pass of a blank image (computed once).
     */
    public synchronized Map<String, int[]> taps() {
        if (taps == null) {
            try (ModelForward f = newForward()) {
                taps = java.util.Collections.unmodifiableMap(f.tapShapes());
            }
        }
        return taps;
    }

    /** Whether the network outputs a tap called {@code name}. */
    public boolean hasTap(String name) {
        return taps().containsKey(name);
    }

    /** The taps that are conv maps ({C, H, W} per image), in the order the network gives them (a TorchScript dict: any order). */
    public java.util.List<String> convTaps() {
        return taps().entrySet().stream().filter(e -> e.getValue().length == 3).map(Map.Entry::getKey).toList();
    }

    /** A conv tap's per-image shape {C, H, W}, from a forward pass of a blank image; a tap that is not a conv map is an error. */
    public int[] convShape(String tap) {
        try (ModelForward f = newForward()) {
            int[] shape = f.run(new float[spec.channels() * spec.height() * spec.width()], 1, java.util.List.of(tap), java.util.List.of())
                    .shape(tap);
            if (shape.length != 3) {
                throw new IllegalArgumentException("layer " + tap + " is not a convolutional layer (its output has shape "
                        + java.util.Arrays.toString(shape) + " per image)");
            }
            return shape;
        }
    }

    /** A forward context for the calling thread; close it when the thread is done. */
    public ModelForward newForward() {
        return new ModelForward(this);
    }

    @Override
    public void close() {
        model.close();
    }
}
