// Processes a test file started die with it (kept for older imports: see processes.ts, which does the work).
export { reapOnExit } from './processes.js'
