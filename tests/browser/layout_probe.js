// Appended to a copy of a report page by tests/browser: measures the layout and writes it as JSON
// into <pre id="probe">, which `chromium --dump-dom` prints. The report page itself has no script.
(function () {
  const width = document.documentElement.clientWidth;
  const tables = Array.from(document.querySelectorAll("table")).map((t) => {
    const heads = Array.from(t.querySelectorAll("thead th"));
    const last = heads[heads.length - 1];
    return {
      caption: t.caption ? t.caption.textContent : "",
      right: Math.ceil(t.getBoundingClientRect().right),
      lastHeading: last ? last.textContent : "",
      lastHeadingRight: last ? Math.ceil(last.getBoundingClientRect().right) : 0,
    };
  });
  const rowHeads = Array.from(document.querySelectorAll("tbody th[scope=row], td.nowrap")).map((th) => {
    const lh = parseFloat(getComputedStyle(th).lineHeight) || 16;
    const range = document.createRange();
    range.selectNodeContents(th);
    const lines = new Set(Array.from(range.getClientRects()).map((r) => Math.round(r.top))).size;
    return { text: th.textContent, lines: lines, tall: th.getBoundingClientRect().height > 2.2 * lh };
  });
  const labels = Array.from(document.querySelectorAll("svg.chart text.label")).map((t) => {
    const box = t.getBBox();
    const svg = t.ownerSVGElement.viewBox.baseVal;
    const whole = t.parentNode.querySelector("title").textContent;
    return { text: t.textContent, whole: whole, left: box.x, right: box.x + box.width, svgWidth: svg.width };
  });
  const out = document.createElement("pre");
  out.id = "probe";
  out.textContent = JSON.stringify({ width: width, scrollWidth: document.documentElement.scrollWidth,
                                     tables: tables, rowHeads: rowHeads, labels: labels });
  document.body.appendChild(out);
})();
