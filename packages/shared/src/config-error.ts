// The error every Tollgate service throws for an unusable environment variable.

/**
 * A configuration value is unusable; `message` is one line naming the variable
 * and the problem (never the value, which may be a secret).
 *
 * @example
 * throw new ConfigError('PORT', 'must be a whole number between 0 and 65535')
 */
export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    problem: string,
  ) {
    super(`${variable}: ${problem}`)
    this.name = 'ConfigError'
  }
}
