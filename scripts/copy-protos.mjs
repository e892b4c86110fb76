// The built proto/load.js reads the .proto files from its own folder at run
// time (the loader and reflection need them): copy them next to it.
import { cpSync } from 'node:fs'
import { URL } from 'node:url'

for (const dir of ['arbiter', 'google']) {
  cpSync(new URL(`../proto/${dir}`, import.meta.url), new URL(`../dist/proto/${dir}`, import.meta.url), { recursive: true })
}
