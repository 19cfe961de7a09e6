// The lineage explorer: draws the server's layered layout (no layout runs here), toggles
// DIRECT / INDIRECT edges, shows a selection's owners, contract and evidence, and expands
// one more hop from a node on request.
(function () {
  "use strict";
  const data = JSON.parse(document.getElementById("graph-data").textContent);
  const details = document.getElementById("details");
  const controls = document.getElementById("controls");
  const big = data.nodes.length > 600;

  // Small graphs show each node's first owner on a second line; large ones keep one
  // line (measuring wrapped text is most of Cytoscape's start-up) and show owners on
  // selection.
  function display(node) {
    const badge = node.data.contract ? "  \u25C6 contract" : "";
    const owner = !big && node.data.owners.length ? "\n" + node.data.owners[0] : "";
    node.data.display = node.data.label + badge + owner;
    return node;
  }

  const cy = cytoscape({
    container: document.getElementById("graph"),
    elements: { nodes: data.nodes.map(display), edges: data.edges },
    layout: { name: "preset" },
    minZoom: 0.05,
    maxZoom: 3,
    textureOnViewport: big,
    hideEdgesOnViewport: big,
    pixelRatio: big ? 1 : "auto",
    style: [
      { selector: "node", style: {
        "shape": "round-rectangle", "width": 220, "height": 44,
        "background-color": "#eef3fb", "border-width": 1, "border-color": "#7a8ca8",
        "text-wrap": big ? "none" : "wrap", "text-max-width": 210,
        "text-valign": "center", "font-size": 11, "color": "#1b2433" } },
      // Every label costs a text measurement: a large graph labels only the nodes in
      // view once they are big enough to read (see `labelInView`), and its root.
      { selector: big ? "node.labelled, node[?root], node:selected" : "node", style: {
        "label": "data(display)" } },
      { selector: "node[kind = 'COLUMN']", style: { "background-color": "#f5f0e6" } },
      { selector: "node[?contract]", style: { "border-width": 3, "border-color": "#2f6f4f" } },
      { selector: "node[?root]", style: { "background-color": "#ffe8a3", "border-color": "#9a6b00", "border-width": 3 } },
      { selector: "node:selected", style: { "border-color": "#0b57d0", "border-width": 4 } },
      { selector: "edge", style: {
        "width": 1.6, "line-color": "#55657f", "target-arrow-color": "#55657f",
        "target-arrow-shape": "triangle", "curve-style": big ? "straight" : "bezier" } },
      { selector: "edge[subtype != '']", style: {  // table-level edges carry no label
        "label": "data(subtype)", "font-size": 9, "color": "#55657f",
        "text-background-color": "#ffffff", "text-background-opacity": 0.8,
        "min-zoomed-font-size": 6 } },
      { selector: "edge[type = 'INDIRECT']", style: {
        "line-style": "dashed", "line-color": "#b0621d", "target-arrow-color": "#b0621d",
        "color": "#b0621d" } },
      { selector: "edge[type = 'ALIAS']", style: { "line-style": "dotted" } },
      { selector: "edge:selected", style: { "width": 4, "line-color": "#0b57d0" } },
      { selector: ".hidden", style: { "display": "none" } },
    ],
  });
  cy.fit(cy.elements(), 30);
  const READABLE_ZOOM = 0.45;
  const root = cy.nodes("[?root]");
  if (!big && cy.zoom() < 0.6 && root.nonempty()) {  // a long chain: readable, root centred
    cy.zoom(0.6);
    cy.center(root);
  }
  window.batonExplorer = cy; // for the browser tests and the curious

  let labelling = false;
  function labelInView() {
    labelling = false;
    cy.batch(function () {
      cy.nodes(".labelled").removeClass("labelled");
      if (cy.zoom() < READABLE_ZOOM) return;
      const view = cy.extent();
      cy.nodes().filter(function (n) {
        const p = n.position();
        return p.x >= view.x1 - 120 && p.x <= view.x2 + 120 && p.y >= view.y1 - 30 && p.y <= view.y2 + 30;
      }).addClass("labelled");
    });
  }
  if (big) {
    cy.on("viewport", function () {
      if (!labelling) { labelling = true; requestAnimationFrame(labelInView); }
    });
  }

  function toggle(kind, shown) {
    cy.edges("[type = '" + kind + "']").toggleClass("hidden", !shown);
    document.querySelectorAll(".edge-row[data-type='" + kind + "']")
      .forEach(function (row) { row.hidden = !shown; });
  }
  document.getElementById("show-direct").addEventListener("change", function (e) {
    toggle("DIRECT", e.target.checked);
  });
  document.getElementById("show-indirect").addEventListener("change", function (e) {
    toggle("INDIRECT", e.target.checked);
  });
  document.getElementById("as_of").addEventListener("change", function () { controls.submit(); });

  function el(tag, text, attrs) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = text;
    Object.entries(attrs || {}).forEach(function ([k, v]) { node.setAttribute(k, v); });
    return node;
  }

  function showNode(node) {
    const d = node.data();
    details.replaceChildren();
    details.append(el("h2", d.name), el("p", d.kind.toLowerCase() + " in " + d.namespace, { class: "ns" }));
    const owners = el("ul");
    (d.owners.length ? d.owners : ["nobody owns it"]).forEach(function (o) { owners.append(el("li", o)); });
    details.append(el("h3", "Owners"), owners);
    details.append(el("p", d.contract ? "Publishes a contract." : "No contract."));
    const open = el("p");
    open.append(el("a", "Open its page", { href: d.url }));
    details.append(open);
    [["UPSTREAM", "Expand upstream"], ["DOWNSTREAM", "Expand downstream"]].forEach(function ([dir, text]) {
      const button = el("button", text, { type: "button" });
      button.addEventListener("click", function () { expand(node, dir); });
      details.append(button);
    });
    if (d.kind === "DATASET") showColumns(d);
  }

  // Expand to columns: a table-level node lists its columns, each opening the
  // column-level explorer (as of the same instant).
  function showColumns(d) {
    const heading = el("h3", "Columns");
    const list = el("ul", null, { class: "columns-of" });
    details.append(heading, list);
    const query = new URLSearchParams({ namespace: d.namespace, name: d.dataset });
    fetch("/columns.json?" + query.toString(), { headers: { "Accept": "application/json" } })
      .then(function (r) { if (!r.ok) throw new Error(r.status + " " + r.statusText); return r.json(); })
      .then(function (columns) {
        const asOf = document.getElementById("as_of").value;
        if (!columns.length) list.append(el("li", "No columns known."));
        columns.forEach(function (c) {
          const item = el("li");
          const href = c.lineage + (asOf ? "&as_of=" + encodeURIComponent(asOf) : "");
          item.append(el("a", c.column, { href: href }));
          if (c.type) item.append(" " + c.type.toLowerCase());
          list.append(item);
        });
      })
      .catch(function (error) { list.append(el("li", "Columns unavailable: " + error.message)); });
  }

  function showEdge(edge) {
    const d = edge.data();
    const ev = d.evidence;
    details.replaceChildren();
    details.append(el("h2", d.type + (d.subtype ? " · " + d.subtype : "")));
    if (d.inferred) details.append(el("p", "Inferred: read through * from the one source that could hold it, with no schema to confirm."));
    details.append(el("p", cy.getElementById(d.source).data("name") + " \u2192 " + cy.getElementById(d.target).data("name")));
    const list = el("dl");
    [["Source", ev.source + (ev.line ? ":" + ev.line : "")], ["Statement", ev.statement],
     ["Job", ev.job], ["Edge", d.kind], ["Since", ev.since], ["Until", ev.until]]
      .filter(function ([, v]) { return v !== null && v !== undefined && v !== ""; })
      .forEach(function ([k, v]) { list.append(el("dt", k), el("dd", String(v))); });
    details.append(list);
  }

  // Keyboard: the graph takes focus; arrows pan, + and - zoom, n and p step through the
  // nodes (upstream first), Enter opens the selected node's page.
  const container = document.getElementById("graph");
  container.tabIndex = 0;
  const ordered = function () {
    return cy.nodes(":visible").sort(function (a, b) {
      return a.position("x") - b.position("x") || a.position("y") - b.position("y");
    });
  };
  container.addEventListener("keydown", function (event) {
    const step = 60;
    const pans = { ArrowLeft: [step, 0], ArrowRight: [-step, 0], ArrowUp: [0, step], ArrowDown: [0, -step] };
    const selected = cy.nodes(":selected");
    if (pans[event.key]) {
      cy.panBy({ x: pans[event.key][0], y: pans[event.key][1] });
    } else if (event.key === "+" || event.key === "=") {
      cy.zoom({ level: cy.zoom() * 1.25, renderedPosition: { x: container.clientWidth / 2, y: container.clientHeight / 2 } });
    } else if (event.key === "-") {
      cy.zoom({ level: cy.zoom() / 1.25, renderedPosition: { x: container.clientWidth / 2, y: container.clientHeight / 2 } });
    } else if (event.key === "n" || event.key === "p") {
      const nodes = ordered().map(function (n) { return n; });
      const at = selected.nonempty() ? nodes.indexOf(selected[0]) : -1;
      const next = nodes[(at + (event.key === "n" ? 1 : nodes.length - 1)) % nodes.length];
      cy.elements().unselect();
      next.select();
      cy.center(next);
    } else if (event.key === "Enter" && selected.nonempty()) {
      window.location.href = selected.data("url");
    } else {
      return;
    }
    event.preventDefault();
  });

  cy.on("select", "node", function (e) { showNode(e.target); });
  cy.on("select", "edge", function (e) { showEdge(e.target); });

  function expand(node, direction) {
    const d = node.data();
    const query = new URLSearchParams({ namespace: d.namespace, name: d.dataset, direction: direction, depth: "1" });
    if (d.column) query.set("column", d.column);
    const asOf = document.getElementById("as_of").value;
    if (asOf) query.set("as_of", asOf);
    const status = document.getElementById("graph-status");
    status.textContent = "Expanding " + d.name + "…";
    fetch("/lineage.json?" + query.toString(), { headers: { "Accept": "application/json" } })
      .then(function (r) { if (!r.ok) throw new Error(r.status + " " + r.statusText); return r.json(); })
      .then(function (more) {
        const root = more.nodes.find(function (n) { return n.data.id === more.root; });
        const dx = node.position("x") - root.position.x;
        const dy = node.position("y") - root.position.y;
        const added = [];
        more.nodes.forEach(function (n) {
          if (cy.getElementById(n.data.id).nonempty()) return;
          const position = { x: n.position.x + dx, y: n.position.y + dy };
          while (cy.nodes().some(function (o) {
            return Math.abs(o.position("x") - position.x) < 10 && Math.abs(o.position("y") - position.y) < 50;
          })) { position.y += 64; }
          added.push({ group: "nodes", data: display(n).data, position: position });
        });
        const known = new Set(cy.edges().map(function (e) {
          return e.data("source") + "|" + e.data("target") + "|" + e.data("kind") + "|" + e.data("evidence").source;
        }));
        more.edges.forEach(function (e) {
          const key = e.data.source + "|" + e.data.target + "|" + e.data.kind + "|" + e.data.evidence.source;
          if (known.has(key)) return;
          known.add(key);
          added.push({ group: "edges", data: Object.assign({}, e.data, { id: "x" + cy.edges().length + "-" + added.length }) });
        });
        cy.add(added);
        ["DIRECT", "INDIRECT"].forEach(function (kind) {
          toggle(kind, document.getElementById("show-" + kind.toLowerCase()).checked);
        });
        status.textContent = cy.nodes().length + " nodes, " + cy.edges().length + " edges (" + added.length + " added from " + d.name + ").";
      })
      .catch(function (error) { status.textContent = "Could not expand " + d.name + ": " + error.message; });
  }
})();
