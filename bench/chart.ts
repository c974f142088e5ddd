/**
 * Draws the side-by-side benchmark as an SVG (no external libraries): one
 * group per figure, a bar for Tyro and one for Pyro5, each scaled to the
 * larger of the two, labelled with its value, and the ratio Tyro/Pyro5 at
 * the right (green when Tyro is better, red when worse).
 *
 * ```sh
 * deno run --allow-read=docs --allow-write=docs bench/chart.ts docs/benchmarks.json docs/benchmarks.svg
 * ```
 *
 * @module
 */

/** One figure of the chart. */
export interface ChartRow {
  /** The figure's label. */
  label: string;
  /** The unit shown after values. */
  unit: string;
  /** Tyro's median, or null. */
  tyro: number | null;
  /** Pyro5's median, or null. */
  pyro5: number | null;
  /** True when a smaller value is better (CPU, memory). */
  lowerIsBetter?: boolean;
}

const ESC: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" };

function esc(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ESC[c]);
}

/**
 * Formats a number with 3 significant digits and k/M suffixes.
 *
 * @param v The value.
 * @returns The text.
 */
export function fmt(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return "–";
  const a = Math.abs(v);
  if (a >= 1e6) return `${+(v / 1e6).toPrecision(3)}M`;
  if (a >= 1e4) return `${+(v / 1e3).toPrecision(3)}k`;
  if (a >= 100) return `${Math.round(v)}`;
  return `${+v.toPrecision(3)}`;
}

/** Shortens a label to the label column (about 5.6 px per character at 11 px). */
function fit(label: string, max = 56): string {
  return label.length <= max ? label : label.slice(0, max - 1) + "…";
}

/**
 * Renders the chart.
 *
 * @param rows The figures, in order.
 * @param title The title line.
 * @returns The SVG text.
 */
export function renderChart(rows: ChartRow[], title: string): string {
  const W = 900, labelW = 330, barW = 420, ratioX = labelW + barW + 24;
  const barH = 11, groupH = 2 * barH + 12, top = 56;
  const H = top + rows.length * groupH + 30;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" ` +
      `font-family="Helvetica, Arial, sans-serif" font-size="11">`,
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
    `<text x="10" y="20" font-size="15" font-weight="bold">${esc(title)}</text>`,
    `<rect x="${labelW}" y="30" width="12" height="10" fill="#2b7bb9"/>`,
    `<text x="${labelW + 16}" y="39">Tyro</text>`,
    `<rect x="${labelW + 60}" y="30" width="12" height="10" fill="#f0a030"/>`,
    `<text x="${labelW + 76}" y="39">Pyro5</text>`,
    `<text x="${labelW + 130}" y="39" fill="#555">bars scaled per figure; ↓ lower is better</text>`,
    `<text x="${ratioX}" y="39" font-weight="bold">Tyro / Pyro5</text>`,
  );
  rows.forEach((r, i) => {
    const y = top + i * groupH;
    if (i % 2 === 0) {
      out.push(`<rect x="0" y="${y - 4}" width="${W}" height="${groupH}" fill="#f4f6f8"/>`);
    }
    out.push(
      `<text x="10" y="${y + barH + 4}">${
        esc(fit(r.label + (r.lowerIsBetter ? " ↓" : "")))
      }</text>`,
    );
    const max = Math.max(r.tyro ?? 0, r.pyro5 ?? 0) || 1;
    const bars: [number | null, string][] = [[r.tyro, "#2b7bb9"], [r.pyro5, "#f0a030"]];
    bars.forEach(([v, color], j) => {
      const by = y + j * (barH + 2);
      if (v === null || !Number.isFinite(v)) {
        out.push(`<text x="${labelW + 4}" y="${by + barH - 2}" fill="#999">n/a</text>`);
        return;
      }
      const w = Math.max(1, (v / max) * barW);
      out.push(
        `<rect x="${labelW}" y="${by}" width="${w.toFixed(1)}" height="${barH}" fill="${color}"/>`,
      );
      const inside = w > barW * 0.75;
      out.push(
        `<text x="${(inside ? labelW + w - 4 : labelW + w + 4).toFixed(1)}" y="${by + barH - 2}"` +
          `${inside ? ' text-anchor="end" fill="#fff"' : ""}>${esc(fmt(v) + " " + r.unit)}</text>`,
      );
    });
    if (r.tyro !== null && r.pyro5 !== null && r.pyro5 > 0 && Number.isFinite(r.tyro)) {
      const ratio = r.tyro / r.pyro5;
      const good = r.lowerIsBetter ? ratio <= 1 : ratio >= 1;
      out.push(
        `<text x="${ratioX}" y="${y + barH + 4}" font-weight="bold" fill="${
          good ? "#1a7f37" : "#c62828"
        }">${ratio >= 10 ? ratio.toFixed(0) : ratio.toFixed(2)}×</text>`,
      );
    }
  });
  out.push("</svg>");
  return out.join("\n") + "\n";
}

if (import.meta.main) {
  const [input, output] = Deno.args;
  const data = JSON.parse(await Deno.readTextFile(input)) as {
    chart: ChartRow[];
    date?: string;
  };
  await Deno.writeTextFile(
    output,
    renderChart(data.chart, `Tyro vs Pyro5 ${data.date ?? ""}`.trim()),
  );
}
