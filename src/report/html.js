"use strict";
// diag's HTML report: draws the embedded JSON (#diag-data) with DOM text nodes only (no innerHTML of
// log text), so a log line can never become markup. Works offline from a file:// URL.
(function () {
  var D = JSON.parse(document.getElementById("diag-data").textContent);
  var QN = ["exact", "time-of-day", "inferred", "order"];
  var LN = ["-", "TRACE", "DEBUG", "INFO", "WARN", "ERROR"];
  var state = { q: "", cid: -1, user: -1, level: 0, sources: D.sources.map(function () { return true; }),
                findingsOnly: false, zoom: 1, selEvent: null, selFinding: null };
  var byIndex = {};
  D.events.forEach(function (e) { byIndex[e[0]] = e; });
  var fById = {};
  D.findings.forEach(function (f, i) { f.idx = i; fById[f.id] = f; });
  var roots = {};
  D.incidents.forEach(function (inc) { roots[inc.root] = true; });

  function el(tag, attrs) {
    var n = document.createElement(tag);
    if (attrs) for (var k in attrs) {
      if (k === "text") n.textContent = attrs[k];
      else if (k === "cls") n.className = attrs[k];
      else if (k.slice(0, 2) === "on") n.addEventListener(k.slice(2), attrs[k]);
      else n.setAttribute(k, attrs[k]);
    }
    for (var i = 2; i < arguments.length; i++) {
      var c = arguments[i];
      if (c == null) continue;
      n.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
    }
    return n;
  }
  function xPct(x) { return D.span > 0 ? (x / D.span) * 100 : 50; }
  function axisLabel(x) {
    if (D.axis === "order") return "#" + Math.round((D.t0 + x) * 1e6);
    var d = new Date(D.t0 + x);
    if (isNaN(d.getTime())) return "";
    return d.toISOString().slice(11, 23);
  }
  function cidName(i) { var c = D.cids[i]; return c ? (c.name ? c.name + " (" + c.cid + ")" : c.cid) : "?"; }

  // ---- header
  var app = document.getElementById("app");
  var counts = el("span", { cls: "counts" });
  ["critical", "high", "medium", "low", "info"].forEach(function (s, i) {
    counts.appendChild(el("span", null, el("span", { cls: "sev " + s, text: s.toUpperCase() }), String(D.counts[i])));
  });
  var header = el("header", null,
    el("h1", { text: "diag report" }),
    el("span", { cls: "verdict " + D.verdict, id: "verdict", text: D.verdict }),
    counts,
    el("span", { cls: "note", text: D.total_events + " records from " + D.sources.length + (D.sources.length === 1 ? " source" : " sources") +
      (D.omitted ? "; " + (D.total_events - D.omitted) + " embedded (findings' evidence and context), density of all below each lane" : "") }),
    el("div", { cls: "rootline" }, "Root cause: ", el("b", { text: D.root || "none: no incident" })));
  app.appendChild(header);

  // ---- controls
  var search = el("input", { type: "search", id: "search", placeholder: "search text (or /regex/)" });
  search.addEventListener("input", function () { state.q = search.value; apply(); });
  var cidSel = el("select", { id: "f-cid" }, el("option", { value: "-1", text: "any CID" }));
  var userSel = el("select", { id: "f-user" }, el("option", { value: "-1", text: "any user" }));
  D.cids.forEach(function (c, i) {
    cidSel.appendChild(el("option", { value: String(i), text: cidName(i) }));
    if (c.name) userSel.appendChild(el("option", { value: String(i), text: c.name }));
  });
  cidSel.addEventListener("change", function () { state.cid = +cidSel.value; apply(); });
  userSel.addEventListener("change", function () { state.user = +userSel.value; apply(); });
  var lvlSel = el("select", { id: "f-level" });
  ["all levels", "trace+", "debug+", "info+", "warn+", "error"].forEach(function (t, i) {
    lvlSel.appendChild(el("option", { value: String(i), text: t }));
  });
  lvlSel.addEventListener("change", function () { state.level = +lvlSel.value; apply(); });
  var srcBoxes = el("span", { id: "f-sources" });
  D.sources.forEach(function (s, i) {
    var cb = el("input", { type: "checkbox", "data-source": String(i) });
    cb.checked = true;
    cb.addEventListener("change", function () { state.sources[i] = cb.checked; apply(); });
    srcBoxes.appendChild(el("label", null, cb, s.label + " "));
  });
  var fo = el("input", { type: "checkbox", id: "f-findings" });
  fo.addEventListener("change", function () { state.findingsOnly = fo.checked; apply(); });
  function zoom(f) { state.zoom = Math.max(1, Math.min(64, state.zoom * f)); layout(); stackFindings(); }
  app.appendChild(el("div", { cls: "controls" }, search, cidSel, userSel, lvlSel, srcBoxes,
    el("label", null, fo, "evidence only"),
    el("span", { cls: "zoom" }, el("label", { text: "zoom " }),
      el("button", { onclick: function () { zoom(0.5); }, title: "zoom out", text: "−" }),
      el("button", { onclick: function () { zoom(2); }, title: "zoom in", text: "+" }))));

  // ---- timeline
  var axis = el("div", { cls: "axis", id: "axis" });
  var lanes = el("div", { cls: "lanes", id: "lanes" });
  var scroller = el("div", { cls: "scroller" }, axis, lanes);
  app.appendChild(el("div", { cls: "timeline" }, scroller));
  var markEls = [];
  var tracks = [];
  D.sources.forEach(function (s, si) {
    var q = el("div");
    s.quality.forEach(function (n, qi) { if (n) q.appendChild(el("span", { cls: "q " + QN[qi], title: "time quality: " + QN[qi], text: QN[qi] + " " + n })); });
    var head = el("div", { cls: "lane-head" },
      el("div", { cls: "name", text: s.label }),
      el("div", { cls: "sub", title: s.owner || s.format, text: (s.owner ? "tab of " + s.owner.replace(/ \(\d+\)$/, "") : s.format) }),
      el("div", { cls: "sub", title: s.offset ? "clock offset " + s.offset : s.placement,
        text: s.offset ? "clock " + s.offset.replace(/ \(.*$/, "") : s.placement }), q);
    var track = el("div", { cls: "track", "data-source": String(si) });
    var dens = el("div", { cls: "density", title: "all " + s.events + " records of this source" });
    var all = D.density.all[si] || [], errs = D.density.errors[si] || [];
    var max = 1;
    all.forEach(function (v) { if (v > max) max = v; });
    var step = all.length >= 300 ? 3 : 1;
    for (var b = 0; b < all.length; b += step) {
      var v = 0, ev = 0;
      for (var k = b; k < b + step && k < all.length; k++) { v += all[k] || 0; ev += errs[k] || 0; }
      var h = v ? Math.max(2, Math.round(14 * Math.sqrt(v / (step * max)))) : 0;
      dens.appendChild(el("i", { cls: ev ? "e" : "", style: "height:" + h + "px" }));
    }
    track.appendChild(dens);
    tracks.push(track);
    lanes.appendChild(el("div", { cls: "lane", "data-source": String(si), id: "lane-" + si }, head, track));
  });
  D.events.forEach(function (e) {
    var m = el("div", { cls: "mark q" + e[3] + " l" + e[4], "data-ev": String(e[0]),
      title: e[6] + " " + LN[e[4]] + " " + e[7].slice(0, 160) + " [" + QN[e[3]] + "]" });
    m.style.left = xPct(e[2]) + "%";
    m.addEventListener("click", function () { selectEvent(e[0], true); });
    if (e[10].length) m.className += " ev-finding";
    tracks[e[1]] && tracks[e[1]].appendChild(m);
    markEls.push([e, m]);
  });
  // Finding markers sit in a band above the records, stacked in rows where they would overlap;
  // roots first, then by severity, so the root is always on the top row.
  var SEVS = ["critical", "high", "medium", "low", "info"];
  var fmarks = [];
  D.findings.slice().sort(function (a, b) {
    return (roots[b.id] ? 1 : 0) - (roots[a.id] ? 1 : 0) || SEVS.indexOf(a.sev) - SEVS.indexOf(b.sev);
  }).forEach(function (f) {
    var first = null;
    for (var i = 0; i < f.evidence.length; i++) { if (byIndex[f.evidence[i][0]]) { first = byIndex[f.evidence[i][0]]; break; } }
    if (!first) return;
    var fm = el("div", { cls: "fmark finding-marker " + f.sev + (roots[f.id] ? " root" : ""), "data-finding": f.id,
      title: f.id + " " + f.sev + ": " + f.title, text: (roots[f.id] ? "ROOT " : "") + f.id });
    fm.style.left = xPct(first[2]) + "%";
    fm.addEventListener("click", function () { selectFinding(f.id); });
    if (tracks[first[1]]) { tracks[first[1]].appendChild(fm); fmarks.push([first[1], first[2], fm]); }
  });
  function stackFindings() {
    var rowsPer = tracks.map(function () { return []; });
    var most = tracks.map(function () { return 0; });
    fmarks.forEach(function (p) {
      var w = tracks[p[0]].clientWidth || 1000;
      var px = D.span > 0 ? p[1] / D.span * w : w / 2;
      var need = (p[2].offsetWidth || 40) + 4;
      var rows = rowsPer[p[0]], r = 0;
      while (rows[r] && rows[r].some(function (x) { return Math.abs(x[0] - px) < (x[1] + need) / 2; })) r++;
      (rows[r] = rows[r] || []).push([px, need]);
      p[2].style.top = (r * 17) + "px";
      most[p[0]] = Math.max(most[p[0]], r + 1);
    });
    tracks.forEach(function (t, i) {
      var band = Math.max(1, most[i]) * 17 + 4;
      t.style.setProperty("--band", band + "px");
      t.style.minHeight = (band + 44) + "px";
    });
  }
  function layout() {
    var w = (100 * state.zoom) + "%";
    lanes.style.width = w;
    axis.style.width = "calc(" + w + " - 200px)";
    axis.textContent = "";
    axis.appendChild(el("span", { cls: "unit", text: D.axis === "order" ? "order (no times)" : (D.dated ? "time, UTC" : "time of day") }));
    var n = Math.round(8 * state.zoom);
    for (var i = 0; i <= n; i++) {
      var x = D.span * i / n;
      var t = el("span", { cls: "tick", text: axisLabel(x) });
      t.style.left = (100 * i / n) + "%";
      if (i === 0) t.style.transform = "none";
      if (i === n) t.style.transform = "translateX(-100%)";
      axis.appendChild(t);
    }
  }
  layout();
  stackFindings();
  window.addEventListener("resize", stackFindings);
  app.appendChild(el("div", { cls: "legend" }, el("b", { text: "time quality:" }),
    el("span", { cls: "mark l3 q0" }), "exact / time of day",
    el("span", { cls: "mark l3 q2" }), "inferred (placed between anchors)",
    el("span", { cls: "mark l3 q3" }), "order only",
    el("b", { text: "level:" }), el("span", { cls: "mark l5 q0" }), "error", el("span", { cls: "mark l4 q0" }), "warn",
    el("span", { cls: "mark l3 q0" }), "info", el("span", { cls: "mark l2 q0" }), "debug", el("span", { cls: "mark l0 q0" }), "none",
    el("b", { text: "bars:" }), " density of all records (red: warnings and errors)"));

  // ---- panels
  var main = el("main");
  app.appendChild(main);
  var tree = el("section", { cls: "tree", id: "incident-tree" }, el("h2", { text: "Incidents (causal trees)" }));
  if (!D.incidents.length) tree.appendChild(el("div", { cls: "note", text: "No incident: no finding was linked to a cause." }));
  D.incidents.forEach(function (inc) {
    tree.appendChild(el("div", { cls: "note", text: inc.id + ": " + inc.summary.slice(0, 300) + (inc.summary.length > 300 ? "…" : "") }));
    var rootUl = el("ul"), stack = [rootUl];
    inc.findings.forEach(function (p) {
      var f = fById[p[0]], depth = p[1];
      if (!f) return;
      while (stack.length > depth + 1) stack.pop();
      while (stack.length < depth + 1) {
        var last = stack[stack.length - 1].lastChild || stack[stack.length - 1];
        var ul = el("ul"); last.appendChild(ul); stack.push(ul);
      }
      var li = el("li", { cls: f.id === inc.root ? "root" : "", "data-finding": f.id },
        el("a", { onclick: function () { selectFinding(f.id); } }, el("span", { cls: "sev " + f.sev, text: f.sev.toUpperCase() }), f.id + " " + f.title));
      stack[stack.length - 1].appendChild(li);
    });
    tree.appendChild(rootUl);
  });
  var others = D.findings.filter(function (f) {
    return !D.incidents.some(function (i) { return i.findings.some(function (p) { return p[0] === f.id; }); });
  });
  if (others.length) {
    tree.appendChild(el("h2", { text: "Other findings" }));
    var ul = el("ul", { cls: "flist" });
    others.forEach(function (f) {
      ul.appendChild(el("li", { "data-finding": f.id }, el("a", { onclick: function () { selectFinding(f.id); } },
        el("span", { cls: "sev " + f.sev, text: f.sev.toUpperCase() }), f.id + " " + f.title)));
    });
    tree.appendChild(ul);
  }
  main.appendChild(tree);
  var detail = el("section", { cls: "detail", id: "detail" }, el("h2", { text: "Detail" }),
    el("div", { cls: "note", text: "Click a record on a lane, a finding marker or a finding in the tree." }));
  main.appendChild(detail);
  var steps = el("section", { cls: "steps", id: "steps" }, el("h2", { text: "Test results" }));
  if (!D.steps.length) steps.appendChild(el("div", { cls: "note", text: "No users known: no steps to judge." }));
  else {
    var st = el("table");
    D.steps.forEach(function (s) {
      st.appendChild(el("tr", null, el("td", { text: s.name }), el("td", { cls: "st-" + s.status.split(" ")[0], text: s.status }),
        el("td", null, s.event != null && byIndex[s.event] ? el("a", { cls: "evlink", onclick: function () { selectEvent(s.event, true); }, text: s.note }) : s.note)));
    });
    steps.appendChild(st);
  }
  main.appendChild(steps);
  var srcSec = el("section", { cls: "sources" }, el("h2", { text: "Sources" }));
  D.sources.forEach(function (s) {
    srcSec.appendChild(el("div", null, el("b", { text: s.label }), " " + s.path + " (" + s.format + "), " + s.events + " records; " +
      s.placement + (s.offset ? "; clock offset " + s.offset : "")));
  });
  main.appendChild(srcSec);
  var listSec = el("section", { cls: "list", id: "records" }, el("h2", { text: "Records" }));
  var listNote = el("div", { cls: "note" });
  var rows = el("div", { cls: "rows" });
  listSec.appendChild(listNote); listSec.appendChild(rows);
  main.appendChild(listSec);

  // ---- filters
  function matcher() {
    var q = state.q.trim();
    if (!q) return null;
    if (q.length > 2 && q[0] === "/" && q[q.length - 1] === "/") {
      try { var re = new RegExp(q.slice(1, -1), "i"); return function (s) { return re.test(s); }; } catch (err) { /* fall through */ }
    }
    q = q.toLowerCase();
    return function (s) { return s.toLowerCase().indexOf(q) >= 0; };
  }
  function ownerIs(si, ci) {
    var s = D.sources[si], c = D.cids[ci];
    return !!(s && c && s.owner && s.owner.indexOf(c.cid) >= 0);
  }
  function visible(e, m) {
    if (!state.sources[e[1]]) return false;
    if (state.level && e[4] < state.level) return false;
    if (state.cid >= 0 && e[9].indexOf(state.cid) < 0) return false;
    if (state.user >= 0 && e[9].indexOf(state.user) < 0 && !ownerIs(e[1], state.user)) return false;
    if (state.findingsOnly && !e[10].length) return false;
    if (m && !m(e[7] + "\n" + e[8].join("\n"))) return false;
    return true;
  }
  // The findings a record is evidence of, as links in its row.
  function badges(e) {
    if (!e[10].length) return null;
    var b = el("span");
    e[10].forEach(function (fi) {
      var f = D.findings[fi];
      b.appendChild(el("a", { cls: "sev " + f.sev + " fbadge", onclick: function (ev) { ev.stopPropagation(); selectFinding(f.id); }, text: f.id }));
    });
    return b;
  }
  var ROWS = 1500;
  function apply() {
    var m = matcher(), shown = [];
    markEls.forEach(function (p) {
      var v = visible(p[0], m);
      p[1].classList.toggle("hidden", !v);
      if (v) shown.push(p[0]);
    });
    D.sources.forEach(function (s, i) { var l = document.getElementById("lane-" + i); if (l) l.classList.toggle("hidden", !state.sources[i]); });
    rows.textContent = "";
    var t = el("table");
    shown.slice(0, ROWS).forEach(function (e) {
      var tr = el("tr", { "data-ev": String(e[0]), id: "row-" + e[0], onclick: function () { selectEvent(e[0], false); } },
        el("td", { cls: "t mono", text: e[6] }), el("td", { cls: "s", text: D.sources[e[1]].label + ":" + e[5] }),
        el("td", { cls: "lv lv" + e[4], text: LN[e[4]] }), el("td", { cls: "mono" }, badges(e), e[7]));
      if (state.selEvent === e[0]) tr.className = "sel";
      t.appendChild(tr);
    });
    rows.appendChild(t);
    listNote.textContent = shown.length + " of " + D.events.length + " embedded records shown" +
      (shown.length > ROWS ? " (first " + ROWS + " listed; narrow the filters)" : "") +
      (D.omitted ? "; " + D.omitted + " records not embedded (large input)" : "");
  }

  // ---- selection
  function clearHl() { document.querySelectorAll(".mark.hl, .mark.sel").forEach(function (n) { n.classList.remove("hl", "sel"); }); }
  function markOf(i) { return document.querySelector('.mark[data-ev="' + i + '"]'); }
  function selectEvent(i, scrollRow) {
    var e = byIndex[i];
    if (!e) return;
    state.selEvent = i;
    document.querySelectorAll(".mark.sel").forEach(function (n) { n.classList.remove("sel"); });
    var mk = markOf(i); if (mk) mk.classList.add("sel");
    document.querySelectorAll("#records tr.sel").forEach(function (n) { n.classList.remove("sel"); });
    var row = document.getElementById("row-" + i);
    if (row) { row.classList.add("sel"); if (scrollRow) row.scrollIntoView({ block: "nearest" }); }
    detail.textContent = "";
    detail.appendChild(el("h2", { text: "Record" }));
    var dl = el("dl");
    function kv(k, v) { dl.appendChild(el("dt", { text: k })); dl.appendChild(el("dd", null, v)); }
    var s = D.sources[e[1]];
    kv("time", e[6] + " (" + QN[e[3]] + ")");
    kv("source", s.label + ":" + e[5] + " (" + s.format + ")");
    kv("level", LN[e[4]]);
    if (e[9].length) kv("CIDs", e[9].map(cidName).join(", "));
    if (e[10].length) {
      var fl = el("span");
      e[10].forEach(function (fi) { var f = D.findings[fi]; fl.appendChild(el("a", { cls: "evlink", onclick: function () { selectFinding(f.id); }, text: f.id + " " })); });
      kv("evidence of", fl);
    }
    detail.appendChild(dl);
    detail.appendChild(el("pre", { text: e[7] + (e[8].length ? "\n" + e[8].join("\n") : "") }));
  }
  function selectFinding(id) {
    var f = fById[id];
    if (!f) return;
    state.selFinding = id;
    clearHl();
    detail.textContent = "";
    detail.appendChild(el("h2", { text: "Finding " + f.id }));
    detail.appendChild(el("div", null, el("span", { cls: "sev " + f.sev, text: f.sev.toUpperCase() }), f.title));
    detail.appendChild(el("div", { cls: "note", text: "rule " + f.rule + (f.caused_by ? "; caused by " + f.caused_by : "") +
      "; " + f.count + " events" + (f.cids.length ? "; CIDs " + f.cids.map(cidName).join(", ") : "") }));
    var rule = D.rules[f.rule] || ["", ""];
    if (rule[0]) detail.appendChild(el("p", { text: "Why: " + rule[0] }));
    if (rule[1]) detail.appendChild(el("p", { text: "Fix: " + rule[1] }));
    var ul = el("ul");
    f.evidence.forEach(function (p) {
      var e = byIndex[p[0]];
      var mk = markOf(p[0]); if (mk) mk.classList.add("hl");
      ul.appendChild(el("li", null, e ? el("a", { cls: "evlink mono", href: "#row-" + p[0], onclick: function (ev) { ev.preventDefault(); selectEvent(p[0], true); },
        text: p[1] + "  " + e[6] + "  " + D.sources[e[1]].label + ":" + e[5] + "  " + e[7].slice(0, 200) }) : p[1] + " (not embedded)"));
    });
    detail.appendChild(el("div", { cls: "note", text: "Evidence (highlighted on the lanes):" }));
    detail.appendChild(ul);
  }
  // The view lives in the URL's fragment too (#q=…&cid=…&user=…&level=…&src=…&evidence=1&finding=F2&ev=12),
  // so a link to the artifact opens on what the sender was looking at.
  function fromHash() {
    var h = new URLSearchParams(location.hash.slice(1)), v;
    if ((v = h.get("q")) != null) { state.q = v; search.value = v; }
    if ((v = h.get("cid")) != null) D.cids.forEach(function (c, i) { if (c.cid === v || c.name === v) { state.cid = i; cidSel.value = String(i); } });
    if ((v = h.get("user")) != null) D.cids.forEach(function (c, i) { if (c.name === v) { state.user = i; userSel.value = String(i); } });
    if ((v = h.get("level")) != null) {
      var l = LN.indexOf(v.toUpperCase()); if (l < 0) l = +v || 0;
      state.level = l; lvlSel.value = String(l);
    }
    if ((v = h.get("src")) != null) {
      var want = v.split(",");
      D.sources.forEach(function (s, i) {
        state.sources[i] = want.indexOf(s.label) >= 0;
        var cb = srcBoxes.querySelector('input[data-source="' + i + '"]'); if (cb) cb.checked = state.sources[i];
      });
    }
    if (h.get("evidence") === "1") { state.findingsOnly = true; fo.checked = true; }
    if ((v = h.get("zoom")) != null && +v >= 1) { state.zoom = Math.min(64, +v); layout(); stackFindings(); }
    return h;
  }
  function toHash() {
    var h = new URLSearchParams();
    if (state.q) h.set("q", state.q);
    if (state.cid >= 0) h.set("cid", D.cids[state.cid].cid);
    if (state.user >= 0) h.set("user", D.cids[state.user].name || "");
    if (state.level) h.set("level", LN[state.level].toLowerCase());
    if (state.sources.some(function (x) { return !x; })) h.set("src", D.sources.filter(function (s, i) { return state.sources[i]; }).map(function (s) { return s.label; }).join(","));
    if (state.findingsOnly) h.set("evidence", "1");
    if (state.selFinding) h.set("finding", state.selFinding);
    if (state.selEvent != null) h.set("ev", String(state.selEvent));
    try { history.replaceState(null, "", "#" + h.toString()); } catch (err) { /* a file:// page may refuse */ }
  }
  var hash = fromHash();
  apply();
  var firstRoot = D.incidents.length ? D.incidents[0].root : (D.findings[0] && D.findings[0].id);
  if (hash.get("finding") && fById[hash.get("finding")]) firstRoot = hash.get("finding");
  if (firstRoot) selectFinding(firstRoot);
  if (hash.get("ev") != null) selectEvent(+hash.get("ev"), true);
  [search, cidSel, userSel, lvlSel, fo].forEach(function (n) { n.addEventListener("change", toHash); });
  srcBoxes.addEventListener("change", toHash);
  document.addEventListener("click", function () { setTimeout(toHash, 0); });
  document.body.setAttribute("data-ready", "1");
})();
