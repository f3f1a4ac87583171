package io.cnnlens.index;

/** One indexed image as results show it: its id in the features table, its path and label (null if none). */
public record Item(String imageId, String path, String label) implements java.io.Serializable {
}
