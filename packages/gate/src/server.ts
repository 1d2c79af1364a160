// Entry point of the gate (bundled into dist/server.bundle.js).
import { runGate } from './main.js'

await runGate()
