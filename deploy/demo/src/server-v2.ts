// Entry point of image handover-demo:2 (bundled to /app/server.js).
import { main } from './service.js'
import { createV2Store } from './v2.js'

main(createV2Store)
