// Small DOM helpers. User text only ever reaches the page as text nodes: no innerHTML anywhere.

const SVG_NS = "http://www.w3.org/2000/svg";

/** Build an element: el("li", {className: "row", dataset: {id: 3}}, "text", childNode, ...). */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "dataset") Object.assign(node.dataset, value);
    else if (key === "className" || key === "id" || key === "type" || key === "value" || key === "hidden"
             || key === "disabled" || key === "checked" || key === "name" || key === "htmlFor") node[key] = value;
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    node.appendChild(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
  return node;
}

/** Text with each entity mention wrapped in <mark>, as DOM nodes (never parsed as HTML). */
export function highlighted(text, entities) {
  const needles = entities
    .map((e) => ({ text: String(e.text || ""), type: String(e.type || "") }))
    .filter((e) => e.text.trim().length > 0);
  const lower = text.toLowerCase();
  const spans = [];
  for (const needle of needles) {
    const wanted = needle.text.toLowerCase();
    let from = 0;
    for (;;) {
      const at = lower.indexOf(wanted, from);
      if (at < 0) break;
      spans.push({ start: at, end: at + wanted.length, type: needle.type });
      from = at + wanted.length;
    }
  }
  // Longest first, then drop spans that overlap one already kept.
  spans.sort((a, b) => (b.end - b.start) - (a.end - a.start) || a.start - b.start);
  const kept = [];
  for (const span of spans) {
    if (!kept.some((k) => span.start < k.end && k.start < span.end)) kept.push(span);
  }
  kept.sort((a, b) => a.start - b.start);
  const fragment = document.createDocumentFragment();
  let cursor = 0;
  for (const span of kept) {
    if (span.start > cursor) fragment.appendChild(document.createTextNode(text.slice(cursor, span.start)));
    const mark = el("mark", { className: "entity entity-" + span.type.replace(/[^a-z_]/g, ""), title: span.type });
    mark.textContent = text.slice(span.start, span.end);
    fragment.appendChild(mark);
    cursor = span.end;
  }
  if (cursor < text.length) fragment.appendChild(document.createTextNode(text.slice(cursor)));
  return fragment;
}

/** "4 min 05 s", "38 s", "-12 s" */
export function duration(seconds) {
  const sign = seconds < 0 ? "-" : "";
  const total = Math.round(Math.abs(seconds));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  if (h) return `${sign}${h} h ${String(m).padStart(2, "0")} min`;
  if (m) return `${sign}${m} min ${String(s).padStart(2, "0")} s`;
  return `${sign}${s} s`;
}

export function clockTime(iso) {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? "" : date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
}

/** A small line chart of P(negative) per customer turn, 0 at the bottom and 1 at the top. */
export function sentimentChart(values, threshold) {
  const width = 240;
  const height = 64;
  const pad = 6;
  const svg = document.createElementNS(SVG_NS, "svg");
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.setAttribute("width", String(width));
  svg.setAttribute("height", String(height));
  svg.setAttribute("role", "img");
  svg.setAttribute("class", "sentiment-chart");
  const described = values.map((v) => Math.round(v * 100) + "%").join(", ");
  svg.setAttribute("aria-label", values.length
    ? `Negative sentiment per customer message: ${described}`
    : "No sentiment scores yet");
  const title = document.createElementNS(SVG_NS, "title");
  title.textContent = svg.getAttribute("aria-label");
  svg.appendChild(title);

  const x = (i) => values.length <= 1 ? width / 2 : pad + (i * (width - 2 * pad)) / (values.length - 1);
  const y = (v) => height - pad - Math.max(0, Math.min(1, v)) * (height - 2 * pad);
  const frame = document.createElementNS(SVG_NS, "rect");
  frame.setAttribute("x", "0.5");
  frame.setAttribute("y", "0.5");
  frame.setAttribute("width", String(width - 1));
  frame.setAttribute("height", String(height - 1));
  frame.setAttribute("class", "chart-frame");
  svg.appendChild(frame);
  if (typeof threshold === "number") {
    const line = document.createElementNS(SVG_NS, "line");
    line.setAttribute("x1", "0");
    line.setAttribute("x2", String(width));
    line.setAttribute("y1", String(y(threshold)));
    line.setAttribute("y2", String(y(threshold)));
    line.setAttribute("class", "chart-threshold");
    svg.appendChild(line);
  }
  if (values.length > 1) {
    const path = document.createElementNS(SVG_NS, "polyline");
    path.setAttribute("points", values.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(" "));
    path.setAttribute("class", "chart-line");
    svg.appendChild(path);
  }
  values.forEach((v, i) => {
    const dot = document.createElementNS(SVG_NS, "circle");
    dot.setAttribute("cx", x(i).toFixed(1));
    dot.setAttribute("cy", y(v).toFixed(1));
    dot.setAttribute("r", "3");
    dot.setAttribute("class", v >= 0.5 ? "chart-dot negative" : "chart-dot");
    svg.appendChild(dot);
  });
  return svg;
}

/** Countdowns and clocks: elements with data-deadline (ms epoch) or data-since (ms epoch) refresh every second. */
export function tickClocks(root = document) {
  const now = Date.now();
  for (const node of root.querySelectorAll("[data-deadline]")) {
    const left = (Number(node.dataset.deadline) - now) / 1000;
    node.textContent = (node.dataset.prefix || "") + (left >= 0 ? duration(left) + " left" : duration(-left) + " over");
    node.classList.toggle("overdue", left < 0);
    node.classList.toggle("soon", left >= 0 && left < Number(node.dataset.warn || 60));
  }
  for (const node of root.querySelectorAll("[data-since]")) {
    node.textContent = (node.dataset.prefix || "") + duration(Math.max(0, (now - Number(node.dataset.since)) / 1000));
  }
}
