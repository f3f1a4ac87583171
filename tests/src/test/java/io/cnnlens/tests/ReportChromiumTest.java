package io.cnnlens.tests;

import io.cnnlens.jobs.cli.Cli;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code run} over a small corpus with hostile file names, then the report opened in headless
 * Chromium (Debian's {@code chromium}, installed by .ci/run): no console errors, every image
 * loaded, a screenshot written, and a file named like markup shown as text.
 */
class ReportChromiumTest extends SparkTestBase {

    static final String EVIL = "<img src=x onerror=alert(1)>.png";

    @TempDir
    Path tmp;

    @Test
    void theReportOpensCleanlyInChromium() throws Exception {
        Path images = tmp.resolve("images");
        List<Path> sample = copySample(images, 100); // 20 images, 2 per class
        Files.copy(sample.get(7), images.resolve("bag").resolve(EVIL));                        // a good image with a hostile name
        Files.write(images.resolve("bag").resolve("broken & <b>bold.png"), "not a png".getBytes()); // an error row with one
        Path out = tmp.resolve("run");
        assertEquals(0, Cli.run("run", "--images", images.toString(), "--out", out.toString(), "--master", "local[2]",
                "--stages", "features,filters,activations,patches,neighbors,embed,saliency,fool,report"));
        Path report = out.resolve("report.html");
        assertTrue(Files.isRegularFile(report));
        String html = Files.readString(report);
        assertFalse(html.contains("<img src=x"), "the hostile name never becomes markup");
        assertFalse(html.contains("<b>bold"));

        // 1. the report itself: console messages (failed loads, script errors) and a screenshot
        Path shot = tmp.resolve("report.png");
        Result direct = chromium(List.of("--enable-logging=stderr", "--v=0", "--screenshot=" + shot, "--window-size=1400,2400",
                report.toUri().toString()));
        List<String> console = new ArrayList<>();
        for (String line : direct.stderr().split("\n")) {
            if (line.contains("CONSOLE") || line.contains("Uncaught") || line.contains("ERR_FILE_NOT_FOUND")) {
                console.add(line);
            }
        }
        assertTrue(console.isEmpty(), "console messages: " + console);
        assertTrue(Files.size(shot) > 20_000, "screenshot written");

        // 2. a check page loads the report in a frame and inspects its images and text
        Path check = tmp.resolve("check.html");
        Files.writeString(check, """
                <!DOCTYPE html><html><body><pre id="result">pending</pre>
                <iframe id="f" src="%s" width="1400" height="2000"></iframe>
                <script>
                document.getElementById('f').addEventListener('load', () => {
                  const d = document.getElementById('f').contentDocument;
                  const imgs = [...d.images];
                  const waitAll = imgs.map(i => i.complete ? Promise.resolve() : new Promise(r => { i.onload = r; i.onerror = r; }));
                  Promise.all(waitAll).then(() => {
                    const broken = imgs.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.getAttribute('src'));
                    document.getElementById('result').textContent = JSON.stringify({
                      images: imgs.length, broken: broken, evilElements: d.querySelectorAll('img[src="x"]').length,
                      evilText: d.body.innerText.includes(%s), sections: d.querySelectorAll('section').length });
                  });
                });
                </script></body></html>
                """.formatted(report.toUri(), jsString(EVIL)), StandardCharsets.UTF_8);
        Result dom = chromium(List.of("--allow-file-access-from-files", "--virtual-time-budget=15000", "--dump-dom", check.toUri().toString()));
        Matcher m = Pattern.compile("<pre id=\"result\">(.*?)</pre>", Pattern.DOTALL).matcher(dom.stdout());
        assertTrue(m.find(), "check page result in: " + dom.stdout().substring(0, Math.min(500, dom.stdout().length())));
        String result = m.group(1).replace("&quot;", "\"");
        System.out.println("report in Chromium: " + result + "; screenshot " + shot);
        assertTrue(result.contains("\"broken\":[]"), result);
        assertTrue(result.contains("\"evilElements\":0"), result);
        assertTrue(result.contains("\"evilText\":true"), "the hostile file name shows as text: " + result);
        Matcher n = Pattern.compile("\"images\":(\\d+)").matcher(result);
        assertTrue(n.find() && Integer.parseInt(n.group(1)) >= 8, result);
        Matcher s = Pattern.compile("\"sections\":(\\d+)").matcher(result);
        assertTrue(s.find() && Integer.parseInt(s.group(1)) >= 8, "one section per job that ran, plus summary and errors: " + result);
        assertFalse(html.contains("id=\"uap\""), "uap did not run, so its section is left out");
    }

    record Result(String stdout, String stderr) {
    }

    private static Result chromium(List<String> args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("chromium", "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                "--no-first-run", "--disable-dev-shm-usage"));
        cmd.addAll(args);
        Process p;
        try {
            p = new ProcessBuilder(cmd).start();
        } catch (java.io.IOException e) {
            throw new AssertionError("this test needs Debian's chromium (apt-get install chromium; .ci/run installs it)", e);
        }
        var out = java.util.concurrent.CompletableFuture.supplyAsync(() -> read(p.getInputStream()));
        var err = java.util.concurrent.CompletableFuture.supplyAsync(() -> read(p.getErrorStream()));
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "chromium finished");
        return new Result(out.get(), err.get());
    }

    private static String read(java.io.InputStream in) {
        try {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (java.io.IOException e) {
            return "";
        }
    }

    private static String jsString(String s) {
        return "'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'";
    }
}
