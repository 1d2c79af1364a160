// What a traced test process needs from the OpenTelemetry API and @tollgate/shared, in one import.
export { context, trace } from '@opentelemetry/api'
export { TokenClient } from '@tollgate/shared'
