/**
 * The demo service images (deploy/demo) for tests and the demo script: their tags, and a
 * way to make sure they exist and are current before use.
 */
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'

export type DemoVersion = '1' | '2'

export const DEMO_IMAGE_REPO = 'handover-demo'

export const DEMO_IMAGES: Record<DemoVersion, string> = {
  '1': `${DEMO_IMAGE_REPO}:1`,
  '2': `${DEMO_IMAGE_REPO}:2`,
}

const BUILD_SCRIPT = fileURLToPath(new URL('../build-demo-images.sh', import.meta.url))

let building: Promise<string> | undefined

/**
 * Runs scripts/build-demo-images.sh once per process (it skips images whose content hash
 * is unchanged, so this takes about a second when they are current). Resolves with the
 * script's output; rejects with it when the build fails.
 */
export function ensureDemoImages(): Promise<string> {
  building ??= new Promise<string>((resolve, reject) => {
    execFile('bash', [BUILD_SCRIPT], { maxBuffer: 10 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) {
        building = undefined // let a later call try again
        reject(new Error(`${BUILD_SCRIPT} failed: ${error.message}\n${stdout}${stderr}`))
      } else {
        resolve(stdout + stderr)
      }
    })
  })
  return building
}
