#!/usr/bin/env node
// Counts the leaf test points of a TAP 14 stream (stdin) and prints "N passed, N failed".
// A subtest that fails with no failing test point inside (a crash, a timeout) counts as one
// failure, so a test file that dies can never read as green.
import { createInterface } from 'node:readline'

const open = [] // one entry per open "# Subtest": { indent, failedLeaves }
let passed = 0
let failed = 0
let skipped = 0

for await (const line of createInterface({ input: process.stdin })) {
  const subtest = /^(\s*)# Subtest:/.exec(line)
  if (subtest) {
    open.push({ indent: subtest[1].length, failedLeaves: 0 })
    continue
  }
  const point = /^(\s*)(not ok|ok)\b(.*)$/.exec(line)
  if (!point) continue
  const indent = point[1].length
  const ok = point[2] === 'ok'
  const directive = /#\s*(SKIP|TODO)\b/i.test(point[3])
  const top = open[open.length - 1]
  if (top && top.indent === indent) {
    open.pop()
    if (!ok && top.failedLeaves === 0) failed++
    if (!ok || top.failedLeaves > 0) markFailed()
    continue
  }
  if (directive) skipped++
  else if (ok) passed++
  else {
    failed++
    markFailed()
  }
}

function markFailed() {
  const top = open[open.length - 1]
  if (top) top.failedLeaves++
}

console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`)
process.exitCode = failed > 0 ? 1 : 0
