// Every link of the documentation resolves (issue #26, item 3): in README.md
// and docs/*.md, a relative link names a file or folder of the repository,
// and an anchor (`#section`, `page.md#section`) names a heading of the page
// it points to, spelled as GitHub spells heading anchors. Links with a
// scheme (https:, mailto:) are not followed. And the README, the front door,
// links every page of docs/ itself.
import { existsSync, statSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { describe, expect, it } from 'vitest'
import { REPO, anchors, docFiles, githubSlug, links, readDoc } from './markdown.js'

describe('the documentation links', () => {
  const files = docFiles()

  it.each(files)('%s: every relative link and anchor resolves', (file) => {
    const broken: string[] = []
    for (const link of links(readDoc(file))) {
      if (/^[a-z][a-z0-9+.-]*:/i.test(link.target)) continue
      const [path = '', anchor] = link.target.split('#', 2)
      const target = path === '' ? join(REPO, file) : join(REPO, dirname(file), decodeURIComponent(path))
      const where = `${file}:${link.line}: [${link.text}](${link.target})`
      if (relative(REPO, target).startsWith('..')) {
        broken.push(`${where}: points outside the repository`)
        continue
      }
      if (!existsSync(target)) {
        broken.push(`${where}: no such file`)
        continue
      }
      if (anchor === undefined) continue
      if (!target.endsWith('.md') || !statSync(target).isFile()) {
        broken.push(`${where}: an anchor into something that is not a Markdown page`)
        continue
      }
      if (!anchors(readDoc(relative(REPO, target))).has(anchor)) broken.push(`${where}: no heading with this anchor`)
    }
    expect(broken).toEqual([])
  })

  it('the README links every page of docs/', () => {
    const linked = new Set(
      links(readDoc('README.md'))
        .map((l) => l.target.split('#')[0])
        .filter((t) => t?.startsWith('docs/')),
    )
    expect(files.filter((f) => f.startsWith('docs/') && !linked.has(f))).toEqual([])
  })

  it('spells anchors as GitHub does', () => {
    expect(githubSlug('Restarts, and what a caller sees')).toBe('restarts-and-what-a-caller-sees')
    expect(githubSlug('One-shot: `client.run`')).toBe('one-shot-clientrun')
    expect(githubSlug('Quick start with `docker compose --profile single`')).toBe('quick-start-with-docker-compose---profile-single')
    expect(githubSlug('Cluster: the postgres store, two nodes, takeover (issue #23)')).toBe('cluster-the-postgres-store-two-nodes-takeover-issue-23')
    expect(githubSlug('`TM_WRONG_NODE` and **bold**')).toBe('tm_wrong_node-and-bold')
    expect([...anchors('# A\n\n## A\n\n```\n# not a heading\n```\n\n## A\n')]).toEqual(['a', 'a-1', 'a-2'])
  })
})
