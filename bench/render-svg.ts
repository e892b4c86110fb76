// The chart (bench/results/latest.svg), drawn by hand: three panels —
// throughput by concurrency, p99 by concurrency (one line per variant, log
// x axis), and the decision-log micro-benchmark. No dependency.
// The p99 panel's y axis is logarithmic: p99 grows about a hundredfold from
// concurrency 1 to 128, and on a linear axis every line at 32 and below lay
// flat on the floor. The variants' legend is one row under the panels
// (entries are measured, never wrapped to a second row while they fit the
// chart's width); the log panel's legend sits inside its plot.
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
const LEGEND_H = 40
const LEGEND_FONT = 12
/** Helvetica's average advance is about 0.55 em; 0.6 keeps the estimate on the safe side. */
const CHAR_W = 0.6 * LEGEND_FONT
const SWATCH_W = 24
const SWATCH_GAP = 6
const ENTRY_GAP = 22

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

/** Decades for a log axis over [min, max]: 10^a … 10^b covering both, at least one decade. */
export function logScale(min: number, max: number): { bottom: number; top: number; ticks: number[] } {
  const lo = Math.floor(Math.log10(Math.max(min, 1e-9)))
  const hi = Math.max(lo + 1, Math.ceil(Math.log10(Math.max(max, 1e-9))))
  const ticks: number[] = []
  for (let e = lo; e <= hi; e++) {
    const decade = 10 ** e
    ticks.push(decade)
    // With few decades, 2 and 5 get labels too, so the axis can be read.
    if (hi - lo <= 3 && e < hi) ticks.push(2 * decade, 5 * decade)
  }
  return { bottom: 10 ** lo, top: 10 ** hi, ticks: ticks.map((t) => +t.toPrecision(6)) }
}

/** One panel: a log-2 x axis over the given x values; a y axis from 0 (linear) or over the data's decades (log). */
function panel(
  x0: number,
  y0: number,
  title: string,
  xLabel: string,
  yLabel: string,
  xs: readonly number[],
  series: readonly Series[],
  yScale: 'linear' | 'log' = 'linear',
): string {
  const w = PANEL_W - MARGIN.left - MARGIN.right
  const h = PANEL_H - MARGIN.top - MARGIN.bottom
  const left = x0 + MARGIN.left
  const top = y0 + MARGIN.top
  const lx = xs.map((x) => Math.log2(Math.max(x, 1e-9)))
  const minX = Math.min(...lx)
  const maxX = Math.max(...lx)
  const px = (x: number): number => left + (maxX === minX ? w / 2 : ((Math.log2(x) - minX) / (maxX - minX)) * w)
  const ys = series.flatMap((s) => s.points.map((p) => p[1]))
  let py: (y: number) => number
  let ticks: number[]
  if (yScale === 'log') {
    const positive = ys.filter((y) => y > 0)
    const scale = logScale(Math.min(...positive, 1), Math.max(...positive, 10))
    const [lb, lt] = [Math.log10(scale.bottom), Math.log10(scale.top)]
    py = (y: number): number => top + h - ((Math.log10(Math.max(y, scale.bottom)) - lb) / (lt - lb)) * h
    ticks = scale.ticks
  } else {
    const { top: yTop, step } = niceScale(Math.max(0, ...ys))
    py = (y: number): number => top + h - (y / yTop) * h
    ticks = []
    for (let v = 0; v <= yTop + 1e-9; v += step) ticks.push(v)
  }
  const out: string[] = []
  out.push(`<text x="${f(x0 + PANEL_W / 2)}" y="${f(y0 + 20)}" text-anchor="middle" font-size="14" font-weight="bold">${escapeXml(title)}</text>`)
  for (const v of ticks) {
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

/** The estimated width of a legend entry: swatch, gap, label. */
export function legendEntryWidth(label: string): number {
  return SWATCH_W + SWATCH_GAP + label.length * CHAR_W
}

/**
 * Legend entries left to right from (x0, y0); an entry that would cross
 * x0 + width starts a new row (never split). Returns the markup and the rows used.
 */
function legend(x0: number, y0: number, width: number, items: readonly Omit<Series, 'points'>[]): { svg: string; rows: number } {
  let x = x0
  let row = 0
  const parts = items.map((s) => {
    const w = legendEntryWidth(s.label)
    if (x > x0 && x + w > x0 + width) {
      row++
      x = x0
    }
    const y = y0 + row * 20
    const dash = s.dash ? ` stroke-dasharray="${s.dash}"` : ''
    const part =
      `<line x1="${f(x)}" y1="${f(y)}" x2="${f(x + SWATCH_W)}" y2="${f(y)}" stroke="${s.color}" stroke-width="2.5"${dash}/>` +
      `<text x="${f(x + SWATCH_W + SWATCH_GAP)}" y="${f(y + 4)}" font-size="${LEGEND_FONT}">${escapeXml(s.label)}</text>`
    x += w + ENTRY_GAP
    return part
  })
  return { svg: parts.join('\n'), rows: row + 1 }
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
  const variants = legend(MARGIN.left, PANEL_H + 12, width - MARGIN.left - MARGIN.right, variantSeries('tps'))
  const height = PANEL_H + LEGEND_H + (variants.rows - 1) * 20
  const body = [
    panel(0, 0, 'Throughput (committed transfers/s)', 'transfers in flight', 'transfers / s', xs, variantSeries('tps')),
    panel(PANEL_W, 0, 'Latency p99 (ms, log scale)', 'transfers in flight', 'ms', xs, variantSeries('p99Ms'), 'log'),
    ...(writers.length > 0 ? [panel(2 * PANEL_W, 0, 'Decision log (decisions/s)', 'concurrent writers', 'decisions / s', writers, logSeries)] : []),
    variants.svg,
    // Inside the log panel's plot, top left: its lines start low there (few writers).
    ...(writers.length > 0 ? [legend(2 * PANEL_W + MARGIN.left + 10, MARGIN.top + 14, PANEL_W - MARGIN.left - MARGIN.right - 20, logSeries).svg] : []),
  ]
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    ...body,
    '</svg>',
    '',
  ].join('\n')
}
