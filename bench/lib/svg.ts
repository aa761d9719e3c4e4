import type { ChartData } from './chart.js';

/**
 * A horizontal bar chart as a standalone SVG document, written by hand (no charting dependency):
 * one bar per row at its median, a min–max whisker when the rounds spread, an optional dashed
 * marker (a target, or the baseline), gridlines at round values. Text sizes assume 12 px sans-serif,
 * about 6.6 px per character, to size the label column.
 */

const width = 760;
const rowHeight = 26;
const barHeight = 16;
const top = 52;
const axisHeight = 34;
const valueColumn = 96;
const charWidth = 6.6;
const colours = { bar: '#7487a8', highlight: '#d9730d', whisker: '#2b2b2b', grid: '#e3e3e3', text: '#222' };

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A round step giving about five gridlines up to `max`. */
function niceStep(max: number): number {
  const rough = max / 5;
  const power = 10 ** Math.floor(Math.log10(rough));
  const scaled = rough / power;
  const nice = scaled <= 1 ? 1 : scaled <= 2 ? 2 : scaled <= 2.5 ? 2.5 : scaled <= 5 ? 5 : 10;
  return nice * power;
}

function format(value: number, digits: number): string {
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** The chart as SVG text. */
export function renderBarChart(chart: ChartData): string {
  const digits = chart.digits ?? 1;
  const labelWidth = Math.min(
    360,
    Math.max(120, Math.ceil(Math.max(...chart.bars.map((b) => b.label.length)) * charWidth) + 12),
  );
  const plotLeft = labelWidth + 8;
  const plotWidth = width - plotLeft - valueColumn;
  const height = top + chart.bars.length * rowHeight + axisHeight;
  const extent = Math.max(
    ...chart.bars.map((b) => Math.max(b.value, b.max ?? 0)),
    chart.marker?.value ?? 0,
    Number.MIN_VALUE,
  );
  const step = niceStep(extent);
  const scaleMax = Math.ceil(extent / step) * step;
  const x = (value: number) => plotLeft + (Math.max(0, value) / scaleMax) * plotWidth;
  const plotBottom = top + chart.bars.length * rowHeight;

  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeXml(chart.title)}">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<g font-family="system-ui, -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif" font-size="12" fill="${colours.text}">`,
    `<text x="12" y="20" font-size="14" font-weight="bold">${escapeXml(chart.title)}</text>`,
    `<text x="12" y="38" fill="#555">${escapeXml(chart.unit)}</text>`,
  ];
  for (let tick = 0; tick <= scaleMax + step / 1e6; tick += step) {
    const tx = x(tick).toFixed(1);
    parts.push(
      `<line x1="${tx}" y1="${top - 4}" x2="${tx}" y2="${plotBottom}" stroke="${colours.grid}"/>`,
      `<text x="${tx}" y="${plotBottom + 16}" text-anchor="middle" fill="#666">${escapeXml(
        format(tick, step < 1 ? 2 : 0),
      )}</text>`,
    );
  }
  chart.bars.forEach((bar, i) => {
    const y = top + i * rowHeight;
    const middle = y + rowHeight / 2;
    const end = x(bar.value);
    parts.push(
      `<text x="${labelWidth}" y="${(middle + 4).toFixed(1)}" text-anchor="end">${escapeXml(bar.label)}</text>`,
      `<rect x="${plotLeft}" y="${(middle - barHeight / 2).toFixed(1)}" width="${Math.max(0, end - plotLeft).toFixed(1)}" height="${barHeight}" fill="${bar.highlight === true ? colours.highlight : colours.bar}"/>`,
    );
    let labelAt = end;
    if (bar.min !== undefined && bar.max !== undefined && bar.max > bar.min) {
      const x1 = x(bar.min).toFixed(1);
      const x2 = x(bar.max).toFixed(1);
      parts.push(
        `<line x1="${x1}" y1="${middle}" x2="${x2}" y2="${middle}" stroke="${colours.whisker}"/>`,
        `<line x1="${x1}" y1="${middle - 4}" x2="${x1}" y2="${middle + 4}" stroke="${colours.whisker}"/>`,
        `<line x1="${x2}" y1="${middle - 4}" x2="${x2}" y2="${middle + 4}" stroke="${colours.whisker}"/>`,
      );
      labelAt = Math.max(end, x(bar.max));
    }
    parts.push(
      `<text x="${(labelAt + 6).toFixed(1)}" y="${(middle + 4).toFixed(1)}">${escapeXml(format(bar.value, digits))}</text>`,
    );
  });
  if (chart.marker !== undefined) {
    const mx = x(chart.marker.value).toFixed(1);
    parts.push(
      `<line x1="${mx}" y1="${top - 6}" x2="${mx}" y2="${plotBottom}" stroke="#c62828" stroke-dasharray="4 3"/>`,
      `<text x="${mx}" y="${plotBottom + 30}" text-anchor="middle" fill="#c62828">${escapeXml(chart.marker.label)}</text>`,
    );
  }
  parts.push('</g>', '</svg>', '');
  return parts.join('\n');
}
