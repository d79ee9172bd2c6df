#!/usr/bin/env node
import { main } from '../dist/cli/main.js'

// `handover status | head` closes the pipe early: that is the reader's choice, not an error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0)
    throw error
  })
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code
  },
  (error) => {
    process.stderr.write(`handover: ${error instanceof Error ? error.message : String(error)}\n`)
    process.exitCode = 1
  },
)
