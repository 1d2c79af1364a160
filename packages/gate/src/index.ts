// Public API of @tollgate/gate: build the gate into your own process, or read its configuration and policy.
export { buildGate, type GateOptions } from './app.js'
export { ConfigError, type GateConfig, loadConfig } from './config.js'
export { type Allowed, type Decision, decider, type Identity, type Refused } from './decide.js'
export { type GateReason, GateRefusal } from './errors.js'
export type { OriginalRequest } from './original.js'
export {
  type Policy,
  PolicyError,
  parsePolicy,
  type Requirement,
  type Rule,
  requirementFor,
  requirementOfQuery,
} from './policy.js'
export { type TrustedPeer, trustedPeers } from './trust.js'
