package io.cnnlens.features;

/** An input that gave no features, with the stage that failed and a reason a person can act on. */
public record ErrorRow(String path, String stage, String reason) implements ExtractResult {
}
