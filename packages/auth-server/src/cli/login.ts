// `tollgate login`: sign a person in from a terminal with the device authorization grant (RFC 8628) — no browser on
// this machine needed — and keep only the refresh token, in a file only its owner can read (or print the tokens).
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import { homedir } from 'node:os'
import path from 'node:path'
import { deviceLogin, TokenEndpointError } from '@tollgate/shared'
import type { Command } from 'commander'
import { CliError } from './output.js'

/** Where refresh tokens are kept by default: `$XDG_CONFIG_HOME/tollgate/credentials.json`. */
export function defaultCredentialsFile(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CONFIG_HOME?.trim() || path.join(homedir(), '.config')
  return path.join(base, 'tollgate', 'credentials.json')
}

/** One entry per issuer and client: the refresh token, and what it belongs to (no access or ID token, ever). */
interface StoredCredential {
  readonly issuer: string
  readonly client_id: string
  readonly refresh_token: string
  readonly scope?: string
  readonly saved_at: string
}

/** Adds the credential to the file (mode 0600, its folder 0700), replacing the same issuer and client's. */
async function store(file: string, credential: StoredCredential): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 })
  let entries: StoredCredential[] = []
  try {
    const doc = JSON.parse(await readFile(file, 'utf8')) as { credentials?: StoredCredential[] }
    entries = Array.isArray(doc.credentials) ? doc.credentials : []
  } catch {}
  entries = entries.filter((e) => !(e.issuer === credential.issuer && e.client_id === credential.client_id))
  entries.push(credential)
  // Written to a private temporary file, then renamed over: never a moment with the token in a readable file.
  const temporary = `${file}.${process.pid}.tmp`
  await writeFile(temporary, `${JSON.stringify({ credentials: entries }, null, 2)}\n`, { mode: 0o600 })
  await chmod(temporary, 0o600)
  await rename(temporary, file)
}

export function loginCommand(program: Command): void {
  program
    .command('login')
    .description('sign in from a terminal (device authorization, RFC 8628): shows a code to enter in any browser')
    .requiredOption('--issuer <url>', "the auth server's ISSUER")
    .requiredOption('--client-id <id>', "the CLI's client (one with the device_code grant; usually public)")
    .option('--scope <scope>', 'scopes to ask for (space-separated)')
    .option('--resource <uri...>', 'the API(s) the tokens are for (RFC 8707)')
    .option('--file <path>', `where to keep the refresh token (default ${defaultCredentialsFile()})`)
    .option('--print', 'print the tokens as JSON on stdout instead of keeping anything')
    .action(
      async (options: {
        issuer: string
        clientId: string
        scope?: string
        resource?: string[]
        file?: string
        print?: boolean
      }) => {
        let tokens: Awaited<ReturnType<typeof deviceLogin>>
        try {
          tokens = await deviceLogin({
            issuer: options.issuer,
            clientId: options.clientId,
            ...(options.scope ? { scope: options.scope } : {}),
            ...(options.resource ? { resource: options.resource } : {}),
            onPrompt: ({ verificationUri, verificationUriComplete, userCode, expiresIn }) => {
              process.stderr.write(
                [
                  '',
                  `  To sign in, open ${verificationUriComplete ?? verificationUri}`,
                  `  or go to ${verificationUri} and enter the code  ${userCode}`,
                  `  (valid for ${Math.round(expiresIn / 60)} minutes; waiting…)`,
                  '',
                  '',
                ].join('\n'),
              )
            },
          })
        } catch (err) {
          if (err instanceof TokenEndpointError) {
            const why =
              err.error === 'access_denied'
                ? 'the sign-in was denied'
                : err.error === 'expired_token'
                  ? 'the code expired before it was entered; run tollgate login again'
                  : `${err.error}${err.description ? `: ${err.description}` : ''}`
            throw new CliError(`login failed: ${why}`)
          }
          throw new CliError(`login failed: ${(err as Error).message}`)
        }
        if (options.print) {
          process.stdout.write(`${JSON.stringify(tokens, null, 2)}\n`)
          return
        }
        if (!tokens.refresh_token) {
          process.stderr.write(
            'Signed in, but this client gets no refresh token: nothing was kept. Use --print for the access token.\n',
          )
          return
        }
        const file = options.file ?? defaultCredentialsFile()
        await store(file, {
          issuer: options.issuer,
          client_id: options.clientId,
          refresh_token: tokens.refresh_token,
          ...(tokens.scope ? { scope: tokens.scope } : {}),
          saved_at: new Date().toISOString(),
        })
        process.stderr.write(`Signed in. The refresh token is kept in ${file} (readable by you only).\n`)
      },
    )
}
