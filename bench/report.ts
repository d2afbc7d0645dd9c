import type { FractionRow } from './delivery-fraction.js';
import type { MachineDescription } from './machine.js';
import { BENCHMARKS, type Measurement, type ResultRow } from './results.js';

/** Formats a number for a table: three significant digits, whole numbers from 100 on. */
export function formatNumber(value: number | null): string {
  if (value === null || !Number.isFinite(value)) {
    return 'n/a';
  }

  return Math.abs(value) >= 100 || Number.isInteger(value)
    ? value.toFixed(0)
    : value.toPrecision(3);
}

function percent(value: number): string {
  return `${(value * 100).toFixed(value === 1 || value === 0 ? 0 : 1)}%`;
}

function duration(ms: number): string {
  return ms >= 60_000 ? `${(ms / 60_000).toFixed(1)} min` : `${(ms / 1000).toFixed(1)} s`;
}

/** Formats the results as a Markdown table, with each benchmark's spread and sample counts. */
export function resultsTable(
  rows: readonly ResultRow[],
  measurements: readonly Measurement[],
): string {
  const details = new Map(
    measurements.map((measurement) => [measurement.name, measurement.detail]),
  );
  const lines = [
    '| name | value | unit | target | pass | measured |',
    '| --- | ---: | --- | --- | --- | --- |',
  ];

  for (const row of rows) {
    const spec = BENCHMARKS.find((candidate) => candidate.name === row.name);
    lines.push(
      `| \`${row.name}\` | ${formatNumber(row.value)} | ${row.unit} | ${spec?.comparison ?? ''} ` +
        `${row.target} | ${row.pass ? 'yes' : '**no**'} | ${details.get(row.name) ?? 'not run'} |`,
    );
  }

  return lines.join('\n');
}

export function fractionTable(rows: readonly FractionRow[]): string {
  const lines = [
    '| relay outage | Lime built-in | this plugin | Lime built-in, restart mid-outage | this plugin, restart mid-outage | plugin: maximum wait after the relay is back |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
  ];

  for (const row of rows) {
    lines.push(
      `| ${row.outage} | ${percent(row.lime)} | ${percent(row.plugin)} | ` +
        `${percent(row.limeRestart)} | ${percent(row.pluginRestart)} | ${duration(row.pluginMaxLagMs)} |`,
    );
  }

  return lines.join('\n');
}

export function machineList(machine: MachineDescription): string {
  return [
    `- CPUs: ${machine.cpus} (${machine.cpuModel})`,
    `- Memory: ${machine.memoryGiB} GiB`,
    `- Node: ${machine.node} on ${machine.platform}`,
    `- Temp folder: ${machine.tempFolder} on ${machine.tempFileSystem}`,
  ].join('\n');
}

const SERIES: { key: keyof FractionRow; label: string; color: string }[] = [
  { key: 'lime', label: 'Lime built-in', color: '#9ca3af' },
  { key: 'limeRestart', label: 'Lime built-in, restart', color: '#d1d5db' },
  { key: 'plugin', label: 'this plugin', color: '#2563eb' },
  { key: 'pluginRestart', label: 'this plugin, restart', color: '#60a5fa' },
];

/** Renders the delivered fractions as a grouped bar chart in a standalone SVG document. */
export function fractionChart(rows: readonly FractionRow[]): string {
  const width = 720;
  const height = 340;
  const left = 56;
  const top = 40;
  const plotWidth = width - left - 20;
  const plotHeight = height - top - 70;
  const groupWidth = plotWidth / rows.length;
  const barWidth = (groupWidth - 24) / SERIES.length;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${left}" y="22" font-size="14" font-weight="bold">Outcomes delivered during a relay outage</text>`,
  ];

  for (const tick of [0, 0.25, 0.5, 0.75, 1]) {
    const y = top + plotHeight * (1 - tick);
    parts.push(
      `<line x1="${left}" x2="${left + plotWidth}" y1="${y}" y2="${y}" stroke="#e5e7eb"/>`,
      `<text x="${left - 8}" y="${y + 4}" text-anchor="end">${tick * 100}%</text>`,
    );
  }

  rows.forEach((row, group) => {
    const groupX = left + group * groupWidth + 12;

    SERIES.forEach((series, index) => {
      const value = row[series.key] as number;
      const barHeight = plotHeight * value;
      const x = groupX + index * barWidth;
      const y = top + plotHeight - barHeight;
      parts.push(
        `<rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${(barWidth - 2).toFixed(1)}" height="${barHeight.toFixed(1)}" fill="${series.color}"><title>${series.label}, ${row.outage}: ${percent(value)}</title></rect>`,
      );
    });

    parts.push(
      `<text x="${(groupX + (groupWidth - 24) / 2).toFixed(1)}" y="${top + plotHeight + 18}" text-anchor="middle">${row.outage}</text>`,
    );
  });

  SERIES.forEach((series, index) => {
    const x = left + index * 160;
    const y = height - 22;
    parts.push(
      `<rect x="${x}" y="${y - 10}" width="12" height="12" fill="${series.color}"/>`,
      `<text x="${x + 18}" y="${y}">${series.label}</text>`,
    );
  });

  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

/** Replaces the text between `<!-- name:start -->` and `<!-- name:end -->` in `page`. */
export function replaceSection(page: string, name: string, content: string): string {
  const start = `<!-- ${name}:start -->`;
  const end = `<!-- ${name}:end -->`;
  const from = page.indexOf(start);
  const to = page.indexOf(end);

  if (from < 0 || to < from) {
    throw new Error(`BENCHMARKS.md has no ${start} ... ${end} section`);
  }

  return `${page.slice(0, from + start.length)}\n${content}\n${page.slice(to)}`;
}
