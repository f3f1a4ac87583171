package io.cnnlens.model;

import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Blocks;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.Dropout;
import ai.djl.nn.pooling.Pool;

/**
 * The bundled default model: a small AlexNet-style network for 28x28 grey images, with the
 * lecture's layer names. conv1 (5x5, 32) → pool → conv2 (3x3, 64) → pool → conv3, conv4, conv5
 * (3x3, 96/96/64) → pool → fc6 (256) → fc7 (128) → fc8 (10 logits). Every conv and fc layer but
 * fc8 is followed by a ReLU, and the taps {@code conv1…conv5}, {@code fc6}, {@code fc7} are taken
 * after it, as AlexNet's features usually are; {@code logits} is fc8's output.
 */
public final class FashionAlexNet {

    public static final String ARCHITECTURE = "fashion-alexnet";

    private FashionAlexNet() {
    }

    public static TappedSequence build(int classes, float dropout) {
        return build(classes, dropout, 1.0);
    }

    /**
     * The family member with every layer's width (filters, fc units) scaled by {@code width}
     * (at least 4 each); {@code width = 1} is the bundled network. The tuning job's width hyperparameter.
     */
    public static TappedSequence build(int classes, float dropout, double width) {
        if (!(width > 0)) {
            throw new IllegalArgumentException("width must be positive, not " + width);
        }
        TappedSequence net = new TappedSequence();
        conv(net, "conv1", scaled(32, width), 5, 2);
        net.add("pool1", Pool.maxPool2dBlock(new Shape(2, 2), new Shape(2, 2)));
        conv(net, "conv2", scaled(64, width), 3, 1);
        net.add("pool2", Pool.maxPool2dBlock(new Shape(2, 2), new Shape(2, 2)));
        conv(net, "conv3", scaled(96, width), 3, 1);
        conv(net, "conv4", scaled(96, width), 3, 1);
        conv(net, "conv5", scaled(64, width), 3, 1);
        net.add("pool5", Pool.maxPool2dBlock(new Shape(2, 2), new Shape(2, 2)));
        net.add("flatten", Blocks.batchFlattenBlock());
        net.add("fc6", Linear.builder().setUnits(scaled(256, width)).build());
        net.add("relu6", Activation.reluBlock()).tap("fc6");
        net.add("drop6", Dropout.builder().optRate(dropout).build());
        net.add("fc7", Linear.builder().setUnits(scaled(128, width)).build());
        net.add("relu7", Activation.reluBlock()).tap("fc7");
        net.add("drop7", Dropout.builder().optRate(dropout).build());
        net.add("fc8", Linear.builder().setUnits(classes).build()).tap("logits");
        return net;
    }

    /** A width-scaled layer size. */
    public static int scaled(int units, double width) {
        return Math.max(4, (int) Math.round(units * width));
    }

    private static void conv(TappedSequence net, String name, int filters, int kernel, int pad) {
        net.add(name, Conv2d.builder()
                .setKernelShape(new Shape(kernel, kernel))
                .optPadding(new Shape(pad, pad))
                .setFilters(filters)
                .build());
        net.add("relu" + name.substring(4), Activation.reluBlock()).tap(name);
    }
}
