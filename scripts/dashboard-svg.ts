// Draws deploy/grafana/arbiter.json as an SVG from query results
// (scripts/dashboard-snapshot.ts gets them from a real Prometheus): the
// dashboard's 24-column grid, rows, and each panel as Grafana would draw
// its type — stat (the last value, coloured by its thresholds, over a
// sparkline), time series (a line per series, 10 % fill, the dashed
// overrides, a list legend below) and state timeline (a band per series,
// coloured and named by the value mappings). Units are the panel's
// fieldConfig unit, formatted as Grafana formats s, ops and short. Firing
// alerts (the dashboard's annotation query) are red bands on every graph.
// No dependency: plain strings.
import { escapeXml, niceScale } from '../bench/render-svg.js'

export interface Panel {
  type: string
  title: string
  gridPos: { h: number; w: number; x: number; y: number }
  fieldConfig?: {
    defaults?: {
      unit?: string
      decimals?: number
      thresholds?: { steps: { color: string; value: number | null }[] }
      mappings?: { type: string; options: Record<string, { text: string; color: string }> }[]
    }
    overrides?: { matcher: { id: string; options: string }; properties: { id: string; value: unknown }[] }[]
  }
}

/** One series of a panel: samples [Unix seconds, value], NaN where the query had no value. */
export interface Series {
  readonly name: string
  readonly samples: readonly (readonly [number, number])[]
}

export interface Picture {
  readonly title: string
  /** Lines under the title: how the picture was made. */
  readonly caption: readonly string[]
  readonly start: number
  readonly end: number
  /** Seconds between samples. */
  readonly step: number
  /** Every panel, rows included, with its series (none for a row). */
  readonly panels: readonly { panel: Panel; series: readonly Series[] }[]
  /** Firing alerts: [start, end] in Unix seconds and a label. */
  readonly alerts: readonly { start: number; end: number; label: string }[]
}

const WIDTH = 1200
const PAD = 12
const COL = (WIDTH - 2 * PAD) / 24
/** Grafana's grid: 30 px a unit and 8 px between panels; a little shorter here. */
const UNIT_H = 28
const GAP = 8
const FONT = 'Helvetica, Arial, sans-serif'
/** Helvetica's average advance is about 0.55 em; DejaVu Sans (where Helvetica is missing) 0.6. */
const CHAR = 0.6
/** Grafana's classic palette, in its order. */
const PALETTE = ['#7EB26D', '#EAB839', '#6ED0E0', '#EF843C', '#E24D42', '#1F78C1', '#BA43A9', '#705DA0', '#508642', '#CCA300', '#447EBC', '#C15C17', '#890F02', '#0A437C', '#6D1F62', '#584477']
const NAMED: Record<string, string> = { green: '#56A64B', orange: '#FF9830', red: '#E02F44', blue: '#3274D9' }
const color = (c: string): string => NAMED[c] ?? c
const f = (n: number): string => (Math.round(n * 10) / 10).toString()

/** A number with about three significant digits, trailing zeros dropped. */
function num(v: number, decimals?: number): string {
  if (decimals !== undefined) return v.toFixed(decimals)
  const a = Math.abs(v)
  return String(+v.toFixed(a >= 100 || a === 0 ? 0 : a >= 10 ? 1 : a >= 1 ? 2 : 3))
}

function scaled(v: number, names: readonly string[], decimals?: number): string {
  let i = 0
  while (Math.abs(v) >= 1000 && i < names.length - 1) {
    v /= 1000
    i++
  }
  return `${num(v, decimals)}${names[i]}`
}

/** A value in the panel's unit, as Grafana writes it: s (µs, ms, s, min, h), ops (ops/s), short (K, Mil). */
export function formatValue(v: number, unit: string | undefined, decimals?: number): string {
  if (!Number.isFinite(v)) return String(v)
  switch (unit) {
    case 's': {
      const a = Math.abs(v)
      if (a === 0) return '0 s'
      if (a < 1e-3) return `${num(v * 1e6, decimals)} µs`
      if (a < 1) return `${num(v * 1e3, decimals)} ms`
      if (a < 60) return `${num(v, decimals)} s`
      if (a < 3600) return `${num(v / 60, decimals)} min`
      return `${num(v / 3600, decimals)} hour`
    }
    case 'ops':
      return `${scaled(v, ['', ' K', ' M', ' B'], decimals)} ops/s`
    default:
      return scaled(v, ['', ' K', ' Mil', ' Bil'], decimals)
  }
}

const text = (x: number, y: number, s: string, attrs = ''): string => `<text x="${f(x)}" y="${f(y)}"${attrs ? ` ${attrs}` : ''}>${escapeXml(s)}</text>`
const clip = (s: string, width: number, size: number): string => {
  const max = Math.floor(width / (size * CHAR))
  return s.length <= max ? s : `${s.slice(0, Math.max(1, max - 1))}…`
}
const clock = (t: number): string => new Date(t * 1000).toISOString().slice(11, 19)

interface Box {
  x: number
  y: number
  w: number
  h: number
}

/** The time axis of a plot: ticks every 10, 15, 30 … s, at most one per 70 px. */
function timeAxis(p: Picture, plot: Box): { px: (t: number) => number; svg: string[] } {
  const px = (t: number): number => plot.x + ((t - p.start) / (p.end - p.start)) * plot.w
  const span = p.end - p.start
  const every = [5, 10, 15, 20, 30, 60, 120, 300, 600].find((s) => (span / s) * 70 <= plot.w) ?? 900
  const svg: string[] = []
  for (let t = Math.ceil(p.start / every) * every; t <= p.end; t += every) {
    svg.push(`<line x1="${f(px(t))}" y1="${f(plot.y)}" x2="${f(px(t))}" y2="${f(plot.y + plot.h)}" stroke="#eceef2"/>`)
    // A label must not run past the plot's ends (into the y axis or out of the panel).
    if (px(t) - plot.x >= 24 && plot.x + plot.w - px(t) >= 24) svg.push(text(px(t), plot.y + plot.h + 13, clock(t), 'text-anchor="middle" font-size="10" fill="#6e7079"'))
  }
  return { px, svg }
}

/** Firing alerts inside a plot: a light red band over each, a dashed red line where it starts. */
function alertMarks(p: Picture, plot: Box, px: (t: number) => number): string[] {
  return p.alerts.flatMap((a) => {
    const [x0, x1] = [px(Math.max(a.start, p.start)), px(Math.min(a.end, p.end))]
    return [
      `<rect x="${f(x0)}" y="${f(plot.y)}" width="${f(Math.max(1, x1 - x0))}" height="${f(plot.h)}" fill="#E02F44" fill-opacity="0.05"/>`,
      `<line x1="${f(x0)}" y1="${f(plot.y)}" x2="${f(x0)}" y2="${f(plot.y + plot.h)}" stroke="#E02F44" stroke-width="1" stroke-dasharray="3 2"/>`,
    ]
  })
}

/** Runs of samples with a value, split where one is NaN or missing (more than 1.5 steps apart). */
function runs(s: Series, step: number): (readonly [number, number])[][] {
  const out: (readonly [number, number])[][] = []
  let run: (readonly [number, number])[] = []
  let last = -Infinity
  for (const sample of s.samples) {
    if (!Number.isFinite(sample[1]) || sample[0] - last > 1.5 * step) {
      if (run.length > 0) out.push(run)
      run = []
    }
    if (Number.isFinite(sample[1])) run.push(sample)
    last = sample[0]
  }
  if (run.length > 0) out.push(run)
  return out
}

function dashedByOverride(panel: Panel, name: string): boolean {
  return (panel.fieldConfig?.overrides ?? []).some(
    (o) => o.matcher.id === 'byRegexp' && new RegExp(o.matcher.options).test(name) && o.properties.some((p) => p.id === 'custom.lineStyle'),
  )
}

/** A list legend under the plot, entries left to right, wrapped; past maxRows the rest is counted. */
function legend(box: Box, entries: readonly { name: string; color: string; dashed: boolean }[], maxRows: number): { svg: string[]; rows: number } {
  const size = 11
  const svg: string[] = []
  let [x, row] = [box.x, 0]
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!
    const w = 18 + e.name.length * size * CHAR
    if (x > box.x && x + w > box.x + box.w) {
      row++
      x = box.x
    }
    if (row === maxRows - 1 && i < entries.length - 1 && x + w + 70 > box.x + box.w) {
      svg.push(text(x, box.y + row * 15 + 4, `+${entries.length - i} more`, `font-size="${size}" fill="#6e7079"`))
      break
    }
    const y = box.y + row * 15
    svg.push(`<line x1="${f(x)}" y1="${f(y)}" x2="${f(x + 12)}" y2="${f(y)}" stroke="${e.color}" stroke-width="3"${e.dashed ? ' stroke-dasharray="4 3"' : ''}/>`)
    svg.push(text(x + 16, y + 4, clip(e.name, box.x + box.w - x - 16, size), `font-size="${size}" fill="#24292e"`))
    x += w + 14
  }
  return { svg, rows: row + 1 }
}

function timeSeries(p: Picture, panel: Panel, series: readonly Series[], box: Box): string[] {
  const unit = panel.fieldConfig?.defaults?.unit
  const decimals = panel.fieldConfig?.defaults?.decimals
  const entries = series.map((s, i) => ({ name: s.name, color: PALETTE[i % PALETTE.length]!, dashed: dashedByOverride(panel, s.name) }))
  const maxRows = Math.max(1, Math.floor((box.h * 0.4) / 15))
  const legendRows = legend({ x: 0, y: 0, w: box.w - 16, h: 0 }, entries, maxRows).rows
  const values = series.flatMap((s) => s.samples.map((x) => x[1]).filter(Number.isFinite))
  const { top, step } = niceScale(Math.max(0, ...values), 4)
  const labelW = Math.max(...[0, step, top].map((v) => formatValue(v, unit, decimals).length)) * 10 * CHAR + 10
  const plot = { x: box.x + 8 + labelW, y: box.y + 32, w: box.w - 16 - labelW, h: box.h - 32 - 20 - legendRows * 15 - 8 }
  const py = (v: number): number => plot.y + plot.h - (v / top) * plot.h
  const axis = timeAxis(p, plot)
  const out = [...axis.svg]
  for (let v = 0; v <= top + 1e-12; v += step) {
    out.push(`<line x1="${f(plot.x)}" y1="${f(py(v))}" x2="${f(plot.x + plot.w)}" y2="${f(py(v))}" stroke="#eceef2"/>`)
    out.push(text(plot.x - 5, py(v) + 3.5, formatValue(v, unit, decimals), 'text-anchor="end" font-size="10" fill="#6e7079"'))
  }
  out.push(...alertMarks(p, plot, axis.px))
  if (values.length === 0) out.push(text(plot.x + plot.w / 2, plot.y + plot.h / 2, 'No data', 'text-anchor="middle" font-size="13" fill="#8e8e8e"'))
  series.forEach((s, i) => {
    const e = entries[i]!
    for (const run of runs(s, p.step)) {
      const line = run.map(([t, v], j) => `${j === 0 ? 'M' : 'L'}${f(axis.px(t))},${f(py(v))}`).join(' ')
      if (!e.dashed) {
        const area = `${line} L${f(axis.px(run.at(-1)![0]))},${f(py(0))} L${f(axis.px(run[0]![0]))},${f(py(0))} Z`
        out.push(`<path d="${area}" fill="${e.color}" fill-opacity="0.1"/>`)
      }
      if (run.length === 1) out.push(`<circle cx="${f(axis.px(run[0]![0]))}" cy="${f(py(run[0]![1]))}" r="1.5" fill="${e.color}"/>`)
      else out.push(`<path d="${line}" fill="none" stroke="${e.color}" stroke-width="1.3"${e.dashed ? ' stroke-dasharray="6 4"' : ''}/>`)
    }
  })
  out.push(...legend({ x: box.x + 8, y: plot.y + plot.h + 30, w: box.w - 16, h: 0 }, entries, maxRows).svg)
  return out
}

function mapped(panel: Panel, v: number): { text: string; color: string } {
  for (const m of panel.fieldConfig?.defaults?.mappings ?? []) {
    const hit = m.type === 'value' ? m.options[String(v)] : undefined
    if (hit) return { text: hit.text, color: color(hit.color) }
  }
  return { text: formatValue(v, panel.fieldConfig?.defaults?.unit), color: thresholdColor(panel, v) }
}

function thresholdColor(panel: Panel, v: number): string {
  const steps = panel.fieldConfig?.defaults?.thresholds?.steps ?? [{ color: 'green', value: null }]
  let c = steps[0]!.color
  for (const s of steps) if (s.value === null || v >= s.value) c = s.color
  return color(c)
}

function stateTimeline(p: Picture, panel: Panel, series: readonly Series[], box: Box): string[] {
  const labelW = Math.min(box.w * 0.4, Math.max(40, ...series.map((s) => s.name.length * 11 * CHAR)) + 12)
  const plot = { x: box.x + 8 + labelW, y: box.y + 30, w: box.w - 16 - labelW, h: box.h - 30 - 20 }
  const axis = timeAxis(p, plot)
  const out = [...axis.svg]
  const rowH = plot.h / Math.max(1, series.length)
  const labels: string[] = []
  series.forEach((s, i) => {
    const y = plot.y + i * rowH + rowH * 0.05
    const h = rowH * 0.9
    out.push(text(plot.x - 6, y + h / 2 + 4, clip(s.name, labelW - 4, 11), 'text-anchor="end" font-size="11" fill="#24292e"'))
    for (const run of runs(s, p.step)) {
      // mergeValues: one block per run of equal values; a block reaches to the next sample.
      let from = 0
      for (let j = 1; j <= run.length; j++) {
        if (j < run.length && run[j]![1] === run[from]![1]) continue
        const [x0, x1] = [axis.px(run[from]![0]), axis.px(j < run.length ? run[j]![0] : Math.min(p.end, run.at(-1)![0] + p.step))]
        const m = mapped(panel, run[from]![1])
        out.push(`<rect x="${f(x0)}" y="${f(y)}" width="${f(Math.max(1, x1 - x0))}" height="${f(h)}" fill="${m.color}" fill-opacity="0.8"/>`)
        if (x1 - x0 > m.text.length * 11 * CHAR + 8) labels.push(text(x0 + 4, y + h / 2 + 4, m.text, 'font-size="11" fill="#ffffff"'))
        from = j
      }
    }
  })
  if (series.length === 0) out.push(text(plot.x + plot.w / 2, plot.y + plot.h / 2, 'No data', 'text-anchor="middle" font-size="13" fill="#8e8e8e"'))
  out.push(...alertMarks(p, plot, axis.px), ...labels)
  return out
}

function stat(panel: Panel, series: readonly Series[], box: Box): string[] {
  const samples = series[0]?.samples.filter(([, v]) => Number.isFinite(v)) ?? []
  const last = samples.at(-1)?.[1]
  if (last === undefined) return [text(box.x + box.w / 2, box.y + box.h / 2 + 10, 'No data', 'text-anchor="middle" font-size="14" fill="#8e8e8e"')]
  const c = thresholdColor(panel, last)
  const out: string[] = []
  // graphMode area: the series under the value, from the panel's floor.
  const [lo, hi] = [Math.min(0, ...samples.map((s) => s[1])), Math.max(...samples.map((s) => s[1]))]
  const [t0, t1] = [samples[0]![0], samples.at(-1)![0]]
  if (samples.length > 1 && hi > lo) {
    const area = { x: box.x + 1, y: box.y + box.h * 0.55, w: box.w - 2, h: box.h * 0.45 - 1 }
    const pts = samples.map(([t, v]) => `${f(area.x + ((t - t0) / (t1 - t0)) * area.w)},${f(area.y + area.h - ((v - lo) / (hi - lo)) * area.h)}`)
    out.push(`<path d="M${pts.join(' L')} L${f(area.x + area.w)},${f(area.y + area.h)} L${f(area.x)},${f(area.y + area.h)} Z" fill="${c}" fill-opacity="0.18" stroke="${c}" stroke-opacity="0.6"/>`)
  }
  const value = formatValue(last, panel.fieldConfig?.defaults?.unit, panel.fieldConfig?.defaults?.decimals)
  // Bold digits run wider than the average advance.
  const size = Math.min(34, (box.w - 20) / (value.length * 0.72))
  out.push(text(box.x + box.w / 2, box.y + 30 + (box.h - 30) * 0.42 + size * 0.35, value, `text-anchor="middle" font-size="${f(size)}" font-weight="bold" fill="${c}"`))
  return out
}

export function renderDashboardSvg(p: Picture): string {
  const headerH = 46 + p.caption.length * 16 + 14
  const bottom = Math.max(...p.panels.map(({ panel }) => panel.gridPos.y + panel.gridPos.h))
  const height = headerH + bottom * (UNIT_H + GAP) + PAD
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${f(height)}" viewBox="0 0 ${WIDTH} ${f(height)}" font-family="${FONT}">`,
    `<rect width="${WIDTH}" height="${f(height)}" fill="#f4f5f5"/>`,
    text(PAD, 28, p.title, 'font-size="20" font-weight="bold" fill="#24292e"'),
    ...p.caption.map((line, i) => text(PAD, 50 + i * 16, line, 'font-size="12" fill="#464c54"')),
  ]
  for (const { panel, series } of p.panels) {
    const g = panel.gridPos
    const box = { x: PAD + g.x * COL + GAP / 2, y: headerH + g.y * (UNIT_H + GAP), w: g.w * COL - GAP, h: g.h * UNIT_H + (g.h - 1) * GAP }
    if (panel.type === 'row') {
      out.push(text(box.x, box.y + box.h - 6, `⌄ ${panel.title}`, 'font-size="15" font-weight="bold" fill="#24292e"'))
      continue
    }
    out.push(`<rect x="${f(box.x)}" y="${f(box.y)}" width="${f(box.w)}" height="${f(box.h)}" rx="3" fill="#ffffff" stroke="#d8d9dc"/>`)
    // A narrow panel's title gets a smaller font before it gets cut.
    const size = Math.max(10, Math.min(13, Math.floor(((box.w - 16) / (panel.title.length * CHAR)) * 2) / 2 - 0.5))
    out.push(text(box.x + 8, box.y + 18, clip(panel.title, box.w - 16, size), `font-size="${f(size)}" font-weight="bold" fill="#24292e"`))
    if (panel.type === 'stat') out.push(...stat(panel, series, box))
    else if (panel.type === 'state-timeline') out.push(...stateTimeline(p, panel, series, box))
    else out.push(...timeSeries(p, panel, series, box))
  }
  out.push('</svg>', '')
  return out.join('\n')
}
