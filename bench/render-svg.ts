// The chart (bench/results/latest.svg), drawn by hand: three panels —
// throughput by concurrency, p99 by concurrency (one line per variant, log
// x axis), and the decision-log micro-benchmark. No dependency.
import { VARIANTS, VARIANT_LABEL, cellOf, type BenchResult, type Variant } from './result.js'

const COLOR: Record<Variant, string> = {
  local: '#9e9e9e',
  'raw-2pc': '#212121',
  'tm-execute': '#1f77b4',
  'tm-enlist': '#2ca02c',
  'tm-run': '#ff7f0e',
}
const DASH: Record<Variant, string> = { local: '4 3', 'raw-2pc': '', 'tm-execute': '', 'tm-enlist': '', 'tm-run': '' }

const PANEL_W = 400
const PANEL_H = 300
const MARGIN = { left: 62, right: 14, top: 34, bottom: 44 }
const LEGEND_H = 54

interface Series {
  readonly label: string
  readonly color: string
  readonly dash: string
  readonly points: readonly (readonly [x: number, y: number])[]
}

export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')
}

/** A "nice" upper bound and tick step for 0…max. */
export function niceScale(max: number, ticks = 5): { top: number; step: number } {
  if (!(max > 0)) return { top: 1, step: 0.2 }
  const rough = max / ticks
  const mag = 10 ** Math.floor(Math.log10(rough))
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= rough) ?? 10 * mag
  return { top: Math.ceil(max / step - 1e-9) * step, step }
}

const fmtTick = (v: number): string => (v >= 10_000 ? `${+(v / 1000).toFixed(1)}k` : Number.isInteger(v) ? String(v) : String(+v.toFixed(2)))
const f = (n: number): string => n.toFixed(1)

/** One panel: a log-2 x axis over the given x values, a linear y axis from 0. */
function panel(x0: number, y0: number, title: string, xLabel: string, yLabel: string, xs: readonly number[], series: readonly Series[]): string {
  const w = PANEL_W - MARGIN.left - MARGIN.right
  const h = PANEL_H - MARGIN.top - MARGIN.bottom
  const left = x0 + MARGIN.left
  const top = y0 + MARGIN.top
  const lx = xs.map((x) => Math.log2(Math.max(x, 1e-9)))
  const minX = Math.min(...lx)
  const maxX = Math.max(...lx)
  const px = (x: number): number => left + (maxX === minX ? w / 2 : ((Math.log2(x) - minX) / (maxX - minX)) * w)
  const maxY = Math.max(0, ...series.flatMap((s) => s.points.map((p) => p[1])))
  const { top: yTop, step } = niceScale(maxY)
  const py = (y: number): number => top + h - (y / yTop) * h
  const out: string[] = []
  out.push(`<text x="${f(x0 + PANEL_W / 2)}" y="${f(y0 + 20)}" text-anchor="middle" font-size="14" font-weight="bold">${escapeXml(title)}</text>`)
  for (let v = 0; v <= yTop + 1e-9; v += step) {
    const y = py(v)
    out.push(`<line x1="${f(left)}" y1="${f(y)}" x2="${f(left + w)}" y2="${f(y)}" stroke="#e0e0e0"/>`)
    out.push(`<text x="${f(left - 6)}" y="${f(y + 4)}" text-anchor="end" font-size="11" fill="#444">${fmtTick(v)}</text>`)
  }
  for (const x of xs) {
    out.push(`<line x1="${f(px(x))}" y1="${f(top)}" x2="${f(px(x))}" y2="${f(top + h)}" stroke="#f0f0f0"/>`)
    out.push(`<text x="${f(px(x))}" y="${f(top + h + 16)}" text-anchor="middle" font-size="11" fill="#444">${x}</text>`)
  }
  out.push(`<rect x="${f(left)}" y="${f(top)}" width="${f(w)}" height="${f(h)}" fill="none" stroke="#9e9e9e"/>`)
  out.push(`<text x="${f(left + w / 2)}" y="${f(top + h + 34)}" text-anchor="middle" font-size="12">${escapeXml(xLabel)}</text>`)
  out.push(
    `<text x="${f(x0 + 14)}" y="${f(top + h / 2)}" text-anchor="middle" font-size="12" transform="rotate(-90 ${f(x0 + 14)} ${f(top + h / 2)})">${escapeXml(yLabel)}</text>`,
  )
  for (const s of series) {
    if (s.points.length === 0) continue
    const d = s.points.map((p, i) => `${i === 0 ? 'M' : 'L'}${f(px(p[0]))},${f(py(p[1]))}`).join(' ')
    const dash = s.dash ? ` stroke-dasharray="${s.dash}"` : ''
    out.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="2"${dash}/>`)
    for (const p of s.points) out.push(`<circle cx="${f(px(p[0]))}" cy="${f(py(p[1]))}" r="3" fill="${s.color}"/>`)
  }
  return out.join('\n')
}

function legend(x0: number, y0: number, width: number, items: readonly Omit<Series, 'points'>[]): string {
  const perRow = Math.min(items.length, 4)
  const colW = width / perRow
  return items
    .map((s, i) => {
      const x = x0 + (i % perRow) * colW
      const y = y0 + Math.floor(i / perRow) * 20
      const dash = s.dash ? ` stroke-dasharray="${s.dash}"` : ''
      return (
        `<line x1="${f(x)}" y1="${f(y)}" x2="${f(x + 24)}" y2="${f(y)}" stroke="${s.color}" stroke-width="2.5"${dash}/>` +
        `<text x="${f(x + 30)}" y="${f(y + 4)}" font-size="12">${escapeXml(s.label)}</text>`
      )
    })
    .join('\n')
}

export function renderSvg(result: BenchResult): string {
  const xs = result.settings.concurrencies
  const variantSeries = (key: 'tps' | 'p99Ms'): Series[] =>
    VARIANTS.map((v) => ({
      label: VARIANT_LABEL[v],
      color: COLOR[v],
      dash: DASH[v],
      points: xs.flatMap((c) => {
        const cell = cellOf(result, v, c)
        return cell ? [[c, cell[key]] as const] : []
      }),
    }))
  const writers = result.logBench.map((r) => r.writers)
  const logSeries: Series[] = [
    { label: 'group commit', color: '#9467bd', dash: '', points: result.logBench.map((r) => [r.writers, r.groupCommit.decisionsPerS] as const) },
    { label: 'one fsync per decision', color: '#d62728', dash: '4 3', points: result.logBench.map((r) => [r.writers, r.perDecision.decisionsPerS] as const) },
  ]
  const panels = writers.length > 0 ? 3 : 2
  const width = PANEL_W * panels
  const height = PANEL_H + LEGEND_H
  const body = [
    panel(0, 0, 'Throughput (committed transfers/s)', 'transfers in flight', 'transfers / s', xs, variantSeries('tps')),
    panel(PANEL_W, 0, 'Latency p99 (ms)', 'transfers in flight', 'ms', xs, variantSeries('p99Ms')),
    ...(writers.length > 0 ? [panel(2 * PANEL_W, 0, 'Decision log (decisions/s)', 'concurrent writers', 'decisions / s', writers, logSeries)] : []),
    legend(20, PANEL_H + 12, PANEL_W * 2 - 20, variantSeries('tps')),
    ...(writers.length > 0 ? [legend(2 * PANEL_W + 20, PANEL_H + 12, PANEL_W - 20, logSeries)] : []),
  ]
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    ...body,
    '</svg>',
    '',
  ].join('\n')
}
