#!/usr/bin/env node
// Runs the built CLI when present (npm package), else the TypeScript source through tsx (a checkout).
import { existsSync } from 'node:fs'
import { fileURLToPath, pathToFileURL } from 'node:url'

const built = fileURLToPath(new URL('../dist/server/main.js', import.meta.url))
if (existsSync(built)) {
  await import(pathToFileURL(built).href)
} else {
  const { register } = await import('tsx/esm/api')
  register()
  await import(new URL('../server/main.ts', import.meta.url).href)
}
