import { parseVersion } from '../../db/migrations/versions/version.js'
import { InvalidInputError } from '../../errors.js'
import { VERSION_LABEL, type DockerRuntime } from '../../runtime/docker-runtime.js'
import type { Release } from '../run/upgrade-context.js'

/** The image to run and the version it is: `--version` if given, else the image's version label. */
export async function resolveTarget(docker: DockerRuntime, image: string, version?: string): Promise<Release> {
  const info = await docker.image(image)
  const resolved = version ?? info.version
  if (!resolved) throw new InvalidInputError('--image', `${image} has no ${VERSION_LABEL} label; pass --version`)
  parseVersion(resolved, version ? '--version' : `${image} label ${VERSION_LABEL}`)
  return { image, version: resolved }
}
