package io.cnnlens.jobs.index;

/** The upload page of serve: pick an image, see its neighbours' thumbnails (docs/index.md#serve). */
final class UploadPage {

    private UploadPage() {
    }

    static final String HTML = """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><title>cnnlens image search</title>
            <style>
             body{font-family:sans-serif;margin:24px;background:#fafafa;color:#222}
             #hits{display:flex;flex-wrap:wrap;gap:12px;margin-top:16px}
             figure{margin:0;text-align:center;font-size:12px;background:#fff;padding:6px;border:1px solid #ddd}
             figure img{width:96px;height:96px;image-rendering:pixelated;display:block}
             #query img{width:128px;height:128px;image-rendering:pixelated;border:3px solid #1f4e9a}
             .err{color:#c0392b}
            </style></head>
            <body><h1>cnnlens image search</h1>
            <form id="f"><input type="file" id="file" name="image" accept="image/*">
            <label>k <input type="number" id="k" value="10" min="1" max="100" style="width:4em"></label>
            <button type="submit">Search</button></form>
            <p id="status"></p><div id="query"></div><div id="hits"></div>
            <script>
            async function search(file, name) {
              const status = document.getElementById('status'), hits = document.getElementById('hits');
              hits.innerHTML = ''; status.className = '';
              document.getElementById('query').innerHTML = '<p>query: ' + name + '</p><img alt="query">';
              document.querySelector('#query img').src = URL.createObjectURL(file);
              const body = new FormData(); body.append('image', file, name);
              status.textContent = 'searching...';
              const r = await fetch('/search?k=' + encodeURIComponent(document.getElementById('k').value), {method: 'POST', body});
              const j = await r.json();
              if (!r.ok) { status.textContent = j.error; status.className = 'err'; return; }
              status.textContent = j.neighbours.length + ' neighbours in ' + j.took_ms.toFixed(1) + ' ms (' + j.metric + ')';
              for (const n of j.neighbours) {
                const f = document.createElement('figure');
                const img = document.createElement('img'); img.src = n.image; img.alt = n.image_id;
                const c = document.createElement('figcaption');
                c.textContent = '#' + n.rank + ' ' + (n.label || '') + ' ' + n.distance.toFixed(3);
                f.append(img, c); hits.append(f);
              }
            }
            document.getElementById('f').addEventListener('submit', e => {
              e.preventDefault();
              const file = document.getElementById('file').files[0];
              if (!file) { const s = document.getElementById('status'); s.textContent = 'choose an image first'; s.className = 'err'; return; }
              search(file, file.name);
            });
            // /?example=<image id>: uploads that indexed image as if chosen (a demo, and the headless check)
            const example = new URLSearchParams(location.search).get('example');
            if (example) {
              fetch('/image/' + encodeURIComponent(example)).then(r => r.blob()).then(b => search(b, example));
            }
            </script></body></html>
            """;
}
