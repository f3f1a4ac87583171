package io.cnnlens.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Block;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A feed-forward network as an ordered list of named stages, some of whose outputs are
 * <em>taps</em>: named tensors the forward pass returns (e.g. {@code conv1}, {@code fc7},
 * {@code logits}). The forward output is an {@link NDList} holding one array per tap, in stage
 * order, each named after its tap, so callers read {@code output.get("fc7")} the same way they
 * read a TorchScript model that returns a dict of tensors.
 *
 * <p>The explicit stage list is also what methods that walk the network backwards (guided
 * backprop) need.
 */
public final class TappedSequence extends AbstractBlock {

    private static final byte VERSION = 1;

    private final List<String> stageNames = new ArrayList<>();
    private final List<Block> stages = new ArrayList<>();
    /** stage index -> tap name. */
    private final Map<Integer, String> taps = new LinkedHashMap<>();

    public TappedSequence() {
        super(VERSION);
    }

    /** Appends a stage. */
    public TappedSequence add(String name, Block block) {
        stageNames.add(name);
        stages.add(addChildBlock(name, block));
        return this;
    }

    /** Marks the output of the stage added last as the tap {@code tapName}. */
    public TappedSequence tap(String tapName) {
        if (stages.isEmpty()) {
            throw new IllegalStateException("tap() before any stage");
        }
        if (taps.containsValue(tapName)) {
            throw new IllegalArgumentException("duplicate tap " + tapName);
        }
        taps.put(stages.size() - 1, tapName);
        return this;
    }

    /** Tap names in forward order. */
    public List<String> tapNames() {
        return List.copyOf(taps.values());
    }

    /** Stage names in forward order. */
    public List<String> stageNames() {
        return Collections.unmodifiableList(stageNames);
    }

    /** The index of the stage whose output is the tap, or −1. */
    public int tapStage(String tapName) {
        for (Map.Entry<Integer, String> e : taps.entrySet()) {
            if (e.getValue().equals(tapName)) {
                return e.getKey();
            }
        }
        return -1;
    }

    /** Whether stage {@code i} is a ReLU (by the naming convention {@code relu*}). */
    public boolean isRelu(int i) {
        return stageNames.get(i).startsWith("relu");
    }

    /** Stages in forward order. */
    public List<Block> stages() {
        return Collections.unmodifiableList(stages);
    }

    @Override
    protected NDList forwardInternal(ParameterStore parameterStore, NDList inputs, boolean training,
                                     PairList<String, Object> params) {
        NDList x = inputs;
        NDList out = new NDList(taps.size());
        for (int i = 0; i < stages.size(); i++) {
            x = stages.get(i).forward(parameterStore, x, training, params);
            String tap = taps.get(i);
            if (tap != null) {
                NDArray a = x.singletonOrThrow();
                a.setName(tap);
                out.add(a);
            }
        }
        return out;
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        Shape[] current = inputShapes;
        List<Shape> out = new ArrayList<>();
        for (int i = 0; i < stages.size(); i++) {
            current = stages.get(i).getOutputShapes(current);
            if (taps.containsKey(i)) {
                out.add(current[0]);
            }
        }
        return out.toArray(new Shape[0]);
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
        Shape[] current = inputShapes;
        for (Block stage : stages) {
            stage.initialize(manager, dataType, current);
            current = stage.getOutputShapes(current);
        }
    }
}
