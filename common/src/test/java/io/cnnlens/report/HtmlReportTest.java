package io.cnnlens.report;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class HtmlReportTest {

    @Test
    void everythingIsEscapedAndPicturesAreRelative() {
        String evil = "<img src=x onerror=alert(1)>.png";
        HtmlReport.Row row = new HtmlReport.Row(List.of(HtmlReport.Cell.text(evil), HtmlReport.Cell.number("3")));
        HtmlReport.Table table = new HtmlReport.Table("bad", List.of("path", "reason"), List.of(row), null);
        HtmlReport.Picture picture = new HtmlReport.Picture("pictures/x/" + evil, evil);
        String html = new HtmlReport("run <b>report</b>", "/tmp/a&b", "now")
                .add(new HtmlReport.Section("errors", "Errors", "files: " + evil, List.of(table), List.of(picture)))
                .render();
        assertFalse(html.contains("<img src=x"), "markup in a name never reaches the page as markup");
        assertFalse(html.contains("<b>report</b>"));
        assertTrue(html.contains("&lt;img src=x onerror=alert(1)&gt;.png") || html.contains("&lt;img src&#61;x onerror&#61;alert(1)&gt;.png"), html);
        assertTrue(html.contains("src=\"pictures/x/%3Cimg%20src=x%20onerror=alert(1)%3E.png\"") || html.contains("src=\"pictures/x/%3Cimg%20src&#61;x"), html);
        assertTrue(html.contains("/tmp/a&amp;b"));
        assertTrue(html.contains("<td class=\"num\">3</td>"));
        assertTrue(html.contains("<a href=\"#errors\">Errors</a>"));
    }
}
