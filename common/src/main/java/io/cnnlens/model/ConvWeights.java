package io.cnnlens.model;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.util.Pair;

import java.util.ArrayList;
import java.util.List;

/**
 * A convolution layer's weights (out, in, kh, kw). Built-in models name their stages, so any conv
 * stage can be asked for by name; a TorchScript model's parameters are reached by name too
 * (e.g. {@code features.0.weight}), and "the first conv layer" is its first 4-D weight in module
 * order, which holds for torchvision's networks.
 */
public record ConvWeights(String layer, float[] values, int out, int in, int kh, int kw) {

    /** The weights of {@code layer} (a stage name of a built-in model, or a TorchScript parameter name); null: the first conv layer. */
    public static ConvWeights of(LoadedModel model, String layer) {
        Block block = model.block();
        if (block instanceof TappedSequence net) {
            for (int i = 0; i < net.stages().size(); i++) {
                String name = net.stageNames().get(i);
                if (layer == null ? isConv(net.stages().get(i)) : name.equals(layer)) {
                    for (Pair<String, Parameter> p : net.stages().get(i).getParameters()) {
                        if (p.getValue().getType() == Parameter.Type.WEIGHT) {
                            return from(name, p.getValue().getArray());
                        }
                    }
                }
            }
            throw new IllegalArgumentException("model " + model.spec().name() + " has no conv layer '" + layer + "'; its stages: "
                    + net.stageNames());
        }
        List<String> names = new ArrayList<>();
        for (Pair<String, Parameter> p : block.getParameters()) {
            NDArray a = p.getValue().getArray();
            names.add(p.getKey());
            boolean match = layer == null ? a.getShape().dimension() == 4
                    : p.getKey().equals(layer) || p.getKey().equals(layer + ".weight");
            if (match && a.getShape().dimension() == 4) {
                return from(p.getKey(), a);
            }
        }
        throw new IllegalArgumentException("model " + model.spec().name() + " has no 4-D weight '" + layer + "'; its parameters: "
                + (names.size() > 12 ? names.subList(0, 12) + " …" : names));
    }

    private static boolean isConv(Block b) {
        return b instanceof ai.djl.nn.convolutional.Convolution;
    }

    private static ConvWeights from(String name, NDArray a) {
        long[] s = a.getShape().getShape();
        if (s.length != 4) {
            throw new IllegalArgumentException(name + " is not a conv weight (shape " + a.getShape() + ")");
        }
        return new ConvWeights(name, a.toType(ai.djl.ndarray.types.DataType.FLOAT32, false).toFloatArray(), (int) s[0], (int) s[1],
                (int) s[2], (int) s[3]);
    }
}
