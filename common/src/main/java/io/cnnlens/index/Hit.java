package io.cnnlens.index;

/**
 * One neighbour found: the image, its distance to the query (the index's metric) and its stored
 * vector (the shard's own array, not a copy: for the exact re-rank; do not change it).
 */
public record Hit(Item item, float distance, float[] vector) {
}
