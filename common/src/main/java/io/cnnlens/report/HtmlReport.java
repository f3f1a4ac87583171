package io.cnnlens.report;

import com.github.mustachejava.DefaultMustacheFactory;
import com.github.mustachejava.Mustache;

import java.io.StringWriter;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.ArrayList;
import java.util.List;

/**
 * The run report: one static HTML page (Mustache template {@code report.mustache}), sections in a
 * fixed order, each with text, tables and pictures. Every value is HTML-escaped by the template;
 * picture links are relative paths, percent-encoded, so the page opens from disk and a file
 * named like markup stays text.
 */
public final class HtmlReport {

    /** A picture: a path relative to the report, and its caption. */
    public record Picture(String relativePath, String caption) {
        public String src() {
            try {
                return new URI(null, null, relativePath, null).toASCIIString();
            } catch (URISyntaxException e) {
                throw new IllegalArgumentException("bad picture path " + relativePath, e);
            }
        }
    }

    /** One table cell; numbers right-aligned. */
    public record Cell(String value, boolean num) {
        public static Cell text(Object v) {
            return new Cell(v == null ? "" : String.valueOf(v), false);
        }

        public static Cell number(String v) {
            return new Cell(v, true);
        }
    }

    /** One row. */
    public record Row(List<Cell> cells) {
    }

    /** A table with a header, rows and an optional note about rows left out. */
    public record Table(String title, List<String> header, List<Row> rows, String more) {
    }

    /** A section; left out of the page by the caller when its job did not run. */
    public record Section(String id, String title, String text, List<Table> tables, List<Picture> pictures) {
    }

    private final String title;
    private final String run;
    private final String generated;
    private final List<Section> sections = new ArrayList<>();

    public HtmlReport(String title, String run, String generated) {
        this.title = title;
        this.run = run;
        this.generated = generated;
    }

    public HtmlReport add(Section s) {
        sections.add(s);
        return this;
    }

    public List<Section> sections() {
        return List.copyOf(sections);
    }

    public String render() {
        Mustache m = new DefaultMustacheFactory("io/cnnlens/report").compile("report.mustache");
        StringWriter w = new StringWriter();
        m.execute(w, new Object() {
            @SuppressWarnings("unused") final String title = HtmlReport.this.title;
            @SuppressWarnings("unused") final String run = HtmlReport.this.run;
            @SuppressWarnings("unused") final String generated = HtmlReport.this.generated;
            @SuppressWarnings("unused") final List<Section> sections = HtmlReport.this.sections;
        });
        return w.toString();
    }
}
