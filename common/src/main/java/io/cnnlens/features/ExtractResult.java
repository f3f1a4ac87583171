package io.cnnlens.features;

/** What the features extraction yields per input: a feature row or an error row, never nothing. */
public sealed interface ExtractResult permits FeatureRow, ErrorRow {
    String path();
}
