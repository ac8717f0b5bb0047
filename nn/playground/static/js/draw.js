// Canvas drawing shared by the views: heat maps with points, line plots, number formatting.

export const CLASS_COLOURS = ["#e8590c", "#1c7ed6"];
const LIGHT = [[255, 232, 204], [208, 235, 255]];  // the classes' map tints, at full shade
const STRONG = [[240, 120, 50], [60, 140, 220]];
const SHADES = 100;  // maps arrive as ints in [-SHADES, SHADES] (see boundary.py)

export function fmt(x, digits = 4) {
  if (x === null || x === undefined) return "–";
  if (!isFinite(x)) return String(x);
  if (x === 0) return "0";
  const text = x.toPrecision(digits);
  return text.includes("e") ? text.replace(/\.?0+e/, "e") : text.includes(".") ? text.replace(/\.?0+$/, "") : text;
}

// Data coordinates <-> canvas pixels for a square view `bounds` = [xmin, xmax, ymin, ymax].
export function projection(canvas, bounds) {
  const [xmin, xmax, ymin, ymax] = bounds;
  const w = canvas.width, h = canvas.height;
  return {
    toPixel: (x, y) => [((x - xmin) / (xmax - xmin)) * w, ((ymax - y) / (ymax - ymin)) * h],
    toData: (px, py) => [xmin + (px / w) * (xmax - xmin), ymax - (py / h) * (ymax - ymin)],
  };
}

// A map of size x size shades (row 0 at the top), smoothly scaled to fill the canvas.
// discrete: each pixel a full shade of its class, as the model's decision (TF Playground's
// "discretize output").
// strong: the classes' own colours at full shade (small thumbnails), not the light tints.
export function drawMap(canvas, map, { discrete = false, strong = false } = {}) {
  const tints = strong ? STRONG : LIGHT;
  const ctx = canvas.getContext("2d");
  const size = map.size;
  const small = document.createElement("canvas");
  small.width = small.height = size;
  const sctx = small.getContext("2d");
  const image = sctx.createImageData(size, size);
  for (let i = 0; i < size * size; i++) {
    const v = discrete ? Math.sign(map.values[i]) : map.values[i] / SHADES;
    const tint = tints[v > 0 ? 1 : 0];
    const t = Math.min(1, Math.abs(v)) * 0.9;
    image.data[4 * i] = 255 + (tint[0] - 255) * t * 1.15;
    image.data[4 * i + 1] = 255 + (tint[1] - 255) * t * 1.15;
    image.data[4 * i + 2] = 255 + (tint[2] - 255) * t * 1.15;
    image.data[4 * i + 3] = 255;
  }
  sctx.putImageData(image, 0, 0);
  ctx.imageSmoothingEnabled = true;
  ctx.imageSmoothingQuality = "high";
  ctx.drawImage(small, 0, 0, canvas.width, canvas.height);
}

// test: per point, whether it is held out for testing (drawn hollow, or not at all unless showTest).
// values: the labels are numbers (a regression), coloured from orange (-1) through grey to blue (+1).
export function drawPoints(canvas, bounds, X, y, { ring = null, radius = 4.5, test = null, showTest = true, values = false } = {}) {
  const ctx = canvas.getContext("2d");
  const { toPixel } = projection(canvas, bounds);
  for (let i = 0; i < X.length; i++) {
    const held = test !== null && test[i];
    if (held && !showTest) continue;
    const [px, py] = toPixel(X[i][0], X[i][1]);
    ctx.beginPath();
    ctx.arc(px, py, radius, 0, 2 * Math.PI);
    const colour = values ? valueColour(y[i]) : CLASS_COLOURS[y[i]];
    ctx.fillStyle = held ? "white" : colour;
    ctx.fill();
    ctx.lineWidth = held ? 2 : 1;
    ctx.strokeStyle = held ? colour : "white";
    ctx.stroke();
  }
  ctx.lineWidth = 1;
  if (ring) {
    const [px, py] = toPixel(ring[0], ring[1]);
    ctx.beginPath();
    ctx.arc(px, py, radius + 5, 0, 2 * Math.PI);
    ctx.lineWidth = 2.5;
    ctx.strokeStyle = "#212529";
    ctx.stroke();
  }
}

export function valueColour(v) {
  const t = Math.max(-1, Math.min(1, v)), grey = [173, 181, 189];
  const end = t >= 0 ? [28, 126, 214] : [232, 89, 12], a = Math.abs(t);
  return `rgb(${grey.map((g, k) => Math.round(g + (end[k] - g) * a)).join(",")})`;
}

// Index of the point nearest to pixel (px, py), if it is within `reach` pixels.
export function nearestPoint(canvas, bounds, X, px, py, reach = 12) {
  const { toPixel } = projection(canvas, bounds);
  let best = -1, bestDistance = reach * reach;
  X.forEach((point, i) => {
    const [qx, qy] = toPixel(point[0], point[1]);
    const d = (qx - px) ** 2 + (qy - py) ** 2;
    if (d <= bestDistance) { best = i; bestDistance = d; }
  });
  return best;
}

// The mouse position in canvas pixels (the canvas may be drawn at another CSS size).
export function canvasPosition(canvas, event) {
  const rect = canvas.getBoundingClientRect();
  return [(event.clientX - rect.left) * (canvas.width / rect.width), (event.clientY - rect.top) * (canvas.height / rect.height)];
}

// Line plot: series = [{xs, ys, colour, label}], gaps where a y is null; optional vertical marker.
export function drawLines(canvas, series, { yMin = null, yMax = null, marker = null, title = "" } = {}) {
  const ctx = canvas.getContext("2d");
  const w = canvas.width, h = canvas.height;
  const left = 46, right = 8, top = title ? 18 : 8, bottom = 18;
  ctx.clearRect(0, 0, w, h);
  const xsAll = series.flatMap((s) => s.xs);
  const ysAll = series.flatMap((s) => s.ys.filter((v) => v !== null && isFinite(v)));
  if (!xsAll.length || !ysAll.length) {
    ctx.fillStyle = "#868e96"; ctx.font = "12px sans-serif"; ctx.fillText(title + " (nothing yet)", left, 14);
    return;
  }
  let x0 = Math.min(...xsAll), x1 = Math.max(...xsAll);
  if (x0 === x1) { x0 -= 1; x1 += 1; }
  let y0 = yMin !== null ? yMin : Math.min(...ysAll), y1 = yMax !== null ? yMax : Math.max(...ysAll);
  if (y0 === y1) { y0 -= 1; y1 += 1; }
  const X = (x) => left + ((x - x0) / (x1 - x0)) * (w - left - right);
  const Y = (y) => top + ((y1 - y) / (y1 - y0)) * (h - top - bottom);
  ctx.strokeStyle = "#dee2e6"; ctx.lineWidth = 1;
  ctx.strokeRect(left, top, w - left - right, h - top - bottom);
  if (y0 < 0 && y1 > 0) { ctx.beginPath(); ctx.moveTo(left, Y(0)); ctx.lineTo(w - right, Y(0)); ctx.stroke(); }
  ctx.fillStyle = "#495057"; ctx.font = "11px sans-serif";
  ctx.fillText(fmt(y1, 3), 2, top + 9);
  ctx.fillText(fmt(y0, 3), 2, h - bottom);
  ctx.fillText(fmt(x0, 3), left, h - 4);
  const last = fmt(x1, 3);
  ctx.fillText(last, w - right - ctx.measureText(last).width, h - 4);
  if (title) { ctx.font = "12px sans-serif"; ctx.fillText(title, left, 13); }
  if (marker !== null && marker >= x0 && marker <= x1) {
    ctx.strokeStyle = "#adb5bd"; ctx.setLineDash([4, 3]);
    ctx.beginPath(); ctx.moveTo(X(marker), top); ctx.lineTo(X(marker), h - bottom); ctx.stroke();
    ctx.setLineDash([]);
  }
  ctx.save();
  ctx.beginPath(); ctx.rect(left, top, w - left - right, h - top - bottom); ctx.clip();
  for (const s of series) {
    ctx.strokeStyle = s.colour; ctx.lineWidth = s.width || 2;
    ctx.beginPath();
    let drawing = false;
    s.xs.forEach((x, i) => {
      const y = s.ys[i];
      if (y === null || !isFinite(y)) { drawing = false; return; }
      if (drawing) ctx.lineTo(X(x), Y(y)); else { ctx.moveTo(X(x), Y(y)); drawing = true; }
    });
    ctx.stroke();
  }
  ctx.restore();
}

export const SERIES_COLOURS = ["#212529", "#1c7ed6", "#e8590c", "#2b8a3e", "#ae3ec9", "#f08c00", "#0c8599", "#c2255c"];

// Ticks at whole steps of 1 (or 0.5, 2, 5 ... so that there are 3 to 8 of them) along the map's
// bottom and left edges, labelled with the data value there. Returns the ticks drawn.
export function drawAxes(canvas, bounds) {
  const [xmin, xmax, ymin, ymax] = bounds;
  const span = Math.max(xmax - xmin, ymax - ymin);
  const step = [0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100].find((s) => span / s <= 8) || span / 4;
  const ticks = (lo, hi) => {
    const out = [];
    for (let t = Math.ceil(lo / step) * step; t <= hi + 1e-9; t += step) out.push(Number(t.toFixed(6)));
    return out;
  };
  const ctx = canvas.getContext("2d"), { toPixel } = projection(canvas, bounds);
  const xs = ticks(xmin, xmax), ys = ticks(ymin, ymax);
  ctx.save();
  ctx.font = "10px sans-serif"; ctx.fillStyle = "#495057"; ctx.strokeStyle = "#495057"; ctx.lineWidth = 1;
  ctx.beginPath();
  xs.forEach((x) => { const [px] = toPixel(x, ymin); ctx.moveTo(px, canvas.height); ctx.lineTo(px, canvas.height - 5); });
  ys.forEach((y) => { const [, py] = toPixel(xmin, y); ctx.moveTo(0, py); ctx.lineTo(5, py); });
  ctx.stroke();
  ctx.textAlign = "center";
  xs.forEach((x) => { const [px] = toPixel(x, ymin); ctx.fillText(fmt(x, 3), px, canvas.height - 7); });
  ctx.textAlign = "left"; ctx.textBaseline = "middle";
  ys.forEach((y) => { const [, py] = toPixel(xmin, y); ctx.fillText(fmt(y, 3), 7, py); });
  ctx.fillText("x0 →", canvas.width - 34, canvas.height - 18);
  ctx.fillText("↑ x1", 34, 10);
  ctx.restore();
  return { x: xs, y: ys };
}
