// Reading the documentation's Markdown for the docs tests (issue #26, item 3):
// which files are the docs, their fenced code blocks, their headings as
// GitHub anchors, and their links. Only what README.md and docs/*.md use.
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const REPO = fileURLToPath(new URL('../../..', import.meta.url))

/** The documentation: README.md, then every docs/*.md, as paths relative to the repository. */
export function docFiles(): string[] {
  const pages = readdirSync(join(REPO, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .sort()
  return ['README.md', ...pages.map((name) => `docs/${name}`)]
}

export function readDoc(file: string): string {
  return readFileSync(join(REPO, file), 'utf8')
}

export interface CodeBlock {
  readonly file: string
  /** The fence's info string (`ts`, `yaml`, `sh`, …; '' when none). */
  readonly lang: string
  readonly body: string
  /** 1-based line of the block's first body line in its file. */
  readonly line: number
  /** The reason given by a `<!-- not-checked: reason -->` comment right before the fence. */
  readonly notChecked?: string
}

const FENCE = /^```(.*)$/

/** Every fenced code block of a file, in order. */
export function codeBlocks(file: string, text = readDoc(file)): CodeBlock[] {
  const lines = text.split('\n')
  const blocks: CodeBlock[] = []
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE.exec(lines[i]!)
    if (!open) continue
    const end = lines.findIndex((l, j) => j > i && l.startsWith('```'))
    if (end < 0) throw new Error(`${file}:${i + 1}: a code block that is never closed`)
    let before = i - 1
    while (before >= 0 && lines[before]!.trim() === '') before--
    const marker = before >= 0 ? /^<!-- not-checked: (.*\S)\s*-->$/.exec(lines[before]!) : null
    blocks.push({
      file,
      lang: open[1]!.trim(),
      body: lines.slice(i + 1, end).join('\n') + '\n',
      line: i + 2,
      ...(marker ? { notChecked: marker[1]! } : {}),
    })
    i = end
  }
  return blocks
}

/** The file's lines outside fenced code blocks (code blocks become empty lines, so line numbers stay). */
export function proseLines(text: string): string[] {
  let inFence = false
  return text.split('\n').map((line) => {
    if (line.startsWith('```')) {
      inFence = !inFence
      return ''
    }
    return inFence ? '' : line
  })
}

/**
 * A heading's anchor as GitHub makes it (github-slugger): the rendered text
 * (inline code, links and emphasis reduced to their text), lower-cased,
 * every character that is not a letter, digit, mark, `_`, `-` or space
 * dropped, spaces turned into `-`.
 */
export function githubSlug(heading: string): string {
  const text = heading
    .replace(/`([^`]*)`/g, '$1')
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/\*\*|\*/g, '')
  return text
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
    .replace(/ /g, '-')
}

/** The anchors of a file's headings; a repeated heading gets `-1`, `-2`, … as on GitHub. */
export function anchors(text: string): Set<string> {
  const seen = new Map<string, number>()
  const out = new Set<string>()
  for (const line of proseLines(text)) {
    const heading = /^#{1,6} (.+?)\s*#*\s*$/.exec(line)
    if (!heading) continue
    const slug = githubSlug(heading[1]!)
    const n = seen.get(slug) ?? 0
    seen.set(slug, n + 1)
    out.add(n === 0 ? slug : `${slug}-${n}`)
  }
  return out
}

export interface Link {
  readonly text: string
  readonly target: string
  /** 1-based line. */
  readonly line: number
}

/** Inline links and images outside code (fenced blocks and inline code spans). */
export function links(text: string): Link[] {
  const found: Link[] = []
  proseLines(text).forEach((line, i) => {
    // Inline code spans become a placeholder: a link's text may be code, but nothing inside a span is a link.
    const prose = line.replace(/`[^`]*`/g, 'code')
    for (const m of prose.matchAll(/!?\[([^\]]*)\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
      found.push({ text: m[1]!, target: m[2]!, line: i + 1 })
    }
  })
  return found
}
