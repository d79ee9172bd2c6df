// Entry point of image handover-demo:1 (bundled to /app/server.js).
import { main } from './service.js'
import { createV1Store } from './v1.js'

main(createV1Store)
