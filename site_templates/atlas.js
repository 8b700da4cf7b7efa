// The atlas: search, sorting and keyboard navigation. Plain JS, no requests: the search
// index is a script (static/atlas-index.js) because browsers refuse fetch() on file://.
(function () {
  "use strict";
  var root = document.body.dataset.root;

  function pad4(n) { return ("000" + n).slice(-4); }

  function rendered(spec, n) {
    return spec.split(",").some(function (part) {
      var ends = part.split("-").map(Number);
      return n >= ends[0] && n <= (ends.length > 1 ? ends[1] : ends[0]);
    });
  }

  // "conv5 7", "block4_conv2/117": any layer's name, then a filter -> [layer, filter]; and
  // VGG16's short forms "4_2/117", "b4c2 117".
  function parse(text, names) {
    var named = text.trim().match(/^(.*?)(?:\s*(?:[\s\/:#,]|filter)\s*)+(\d+)$/i);
    for (var i = 0; named && i < names.length; i++) {
      if (names[i].toLowerCase() === named[1].trim().toLowerCase()) return [names[i], parseInt(named[2], 10)];
    }
    var m = text.trim().toLowerCase().match(/^(?:block)?\s*([1-5])\s*(?:_|\s|c|_conv|conv)\s*([1-3])\s*(?:[\s\/:#,]|filter)+\s*(\d+)$/);
    if (!m) m = text.trim().toLowerCase().match(/^b([1-5])c([1-3])\s*[\s\/:#,]\s*(\d+)$/);
    return m ? ["block" + m[1] + "_conv" + m[2], parseInt(m[3], 10)] : null;
  }

  var form = document.getElementById("search");
  if (form) {
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var msg = document.getElementById("search-msg");
      var atlas = window.ATLAS_INDEX || {layers: {}}, index = atlas.layers, names = Object.keys(index);
      var hit = parse(document.getElementById("q").value, names);
      if (!hit) { msg.textContent = "Try e.g. " + (names[names.length - 1] || "block4_conv2") + " 7"; return; }
      var layer = index[hit[0]];
      if (!layer) { msg.textContent = hit[0] + " is not rendered in this atlas"; return; }
      if (hit[1] >= layer.filters) { msg.textContent = hit[0] + " has filters 0-" + (layer.filters - 1); return; }
      if (!rendered(layer.rendered, hit[1])) { msg.textContent = hit[0] + " filter " + hit[1] + " is not rendered"; return; }
      window.location.href = root + "/" + atlas.filter_page.replace("{layer}", hit[0]).replace("{filter}", pad4(hit[1]));
    });
  }

  function typing(ev) {
    var t = ev.target;
    return t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA");
  }

  var tiles = document.getElementById("tiles");
  if (tiles) {
    document.querySelectorAll("[data-sort]").forEach(function (button) {
      button.addEventListener("click", function () {
        var key = button.dataset.sort;
        var items = Array.prototype.slice.call(tiles.children);
        items.sort(function (a, b) {
          if (key === "index") return parseInt(a.dataset.index, 10) - parseInt(b.dataset.index, 10);
          // Spectral share: lower is better, so it sorts up; every other measure sorts down.
          var sign = key === "share" ? -1 : 1;
          return sign * (parseFloat(b.dataset[key]) - parseFloat(a.dataset[key]));
        });
        items.forEach(function (li) { tiles.appendChild(li); });
        document.querySelectorAll("[data-sort]").forEach(function (b) {
          b.setAttribute("aria-pressed", String(b === button));
        });
      });
    });
    // Pictures or dataset examples in the tiles: the same tiles, another image each.
    document.querySelectorAll("[data-show]").forEach(function (button) {
      button.addEventListener("click", function () {
        var key = button.dataset.show;
        tiles.querySelectorAll("img[data-" + key + "]").forEach(function (img) { img.src = img.dataset[key]; });
        document.querySelectorAll("[data-show]").forEach(function (b) {
          b.setAttribute("aria-pressed", String(b === button));
        });
      });
    });
    document.addEventListener("keydown", function (ev) {
      if (typing(ev) || ev.altKey || ev.ctrlKey || ev.metaKey) return;
      var links = Array.prototype.map.call(tiles.children, function (li) { return li.querySelector("a"); });
      var at = links.indexOf(document.activeElement);
      var columns = links.filter(function (a) { return a.offsetTop === links[0].offsetTop; }).length || 1;
      var moves = { ArrowRight: 1, l: 1, j: 1, ArrowLeft: -1, h: -1, k: -1, ArrowDown: columns, ArrowUp: -columns };
      if (!(ev.key in moves)) return;
      ev.preventDefault();
      var next = at < 0 ? 0 : Math.min(links.length - 1, Math.max(0, at + moves[ev.key]));
      links[next].focus();
    });
  }

  if (document.body.dataset.page === "filter") {
    document.addEventListener("keydown", function (ev) {
      if (typing(ev) || ev.altKey || ev.ctrlKey || ev.metaKey) return;
      var go = { ArrowLeft: "prev", k: "prev", ArrowRight: "next", j: "next" }[ev.key];
      var link = go && document.getElementById(go);
      if (link) { ev.preventDefault(); window.location.href = link.href; }
    });
  }
})();
