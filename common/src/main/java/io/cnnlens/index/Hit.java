package io.cnnlens.index;

/**
 * One neighbour found: the image, its distance to the query (the index's metric) and its stored
 * vector (a copy, for the exact re-rank).
 */
public record Hit(Item item, float distance, float[] vector) {
}
