// Telling people what happened: a polite announcement for screen readers, alerts next to what they are about, a
// confirmation before anything that cannot be undone, and secrets shown once with a way to copy them.
import { ApiError } from '../api.js'
import { type Child, h, uid } from './dom.js'

/** Says something to screen-reader users without moving their focus (the page's one polite live region). */
export function announce(message: string): void {
  const region = document.getElementById('announcer')
  if (!region) return
  region.textContent = ''
  // A new text node after a tick is announced even when the text repeats.
  setTimeout(() => {
    region.textContent = message
  }, 50)
}

/** Words for an error: the API's own description (it names the field and what is wrong). */
export function describe(err: unknown): string {
  if (err instanceof ApiError) {
    if (err.status === 403) return `Not allowed: ${err.message}`
    if (err.status === 503)
      return `The server is busy or its store is unavailable; try again in a moment (${err.message}).`
    return err.message
  }
  return err instanceof Error ? err.message : String(err)
}

/** An alert box (role=alert: read out at once) for an error or a conflict, with optional actions. */
export function alertBox(message: Child, ...actions: Child[]): HTMLElement {
  return h(
    'div',
    { class: 'alert', role: 'alert' },
    h('p', null, message),
    actions.length ? h('p', { class: 'actions' }, actions) : null,
  )
}

/** A status line (role=status) that says how an action went, right under the action. */
export function statusLine(testid?: string): HTMLParagraphElement {
  return h('p', { class: 'status', role: 'status', ...(testid ? { dataset: { testid } } : {}) })
}

/**
 * Asks before doing something that cannot be undone: a modal dialog, the safe answer focused, Escape cancels; the
 * focus goes back where it was.
 *
 * @example
 * if (await confirm({ title: 'Remove orders?', text: '…', action: 'Remove client' })) await remove()
 */
export function confirm(options: { title: string; text: Child; action: string; danger?: boolean }): Promise<boolean> {
  const before = document.activeElement as HTMLElement | null
  const title = uid('dialog-title')
  const text = uid('dialog-text')
  return new Promise((resolve) => {
    const cancel = h('button', { type: 'button', class: 'secondary', autofocus: true }, 'Cancel')
    const ok = h('button', { type: 'button', class: options.danger === false ? '' : 'danger solid' }, options.action)
    const dialog = h(
      'dialog',
      { 'aria-labelledby': title, 'aria-describedby': text },
      h('h2', { id: title }, options.title),
      h('div', { id: text, class: 'dialog-text' }, options.text),
      h('div', { class: 'dialog-actions' }, cancel, ok),
    )
    const done = (answer: boolean) => {
      dialog.close()
      dialog.remove()
      before?.focus()
      resolve(answer)
    }
    cancel.addEventListener('click', () => done(false))
    ok.addEventListener('click', () => done(true))
    dialog.addEventListener('cancel', (event) => {
      event.preventDefault()
      done(false)
    })
    document.body.append(dialog)
    dialog.showModal()
    cancel.focus()
  })
}

/** A secret shown this once (a client secret, a generated password), with a copy button and a plain warning. */
export function secretPanel(label: string, secret: string, note: string): HTMLElement {
  const id = uid('secret')
  const copied = statusLine()
  const panel = h(
    'section',
    { class: 'secret', 'aria-labelledby': `${id}-title`, tabindex: '-1' },
    h('h2', { id: `${id}-title` }, label),
    h('p', null, h('strong', null, 'Shown this once. '), note),
    h('p', null, h('output', { id, class: 'mono secret-value', dataset: { testid: 'secret' } }, secret)),
    h(
      'p',
      { class: 'actions' },
      h(
        'button',
        {
          type: 'button',
          class: 'secondary',
          'aria-describedby': id,
          onclick: async () => {
            try {
              await navigator.clipboard.writeText(secret)
              copied.textContent = 'Copied.'
            } catch {
              copied.textContent = 'The browser did not allow copying: select the text and copy it.'
            }
          },
        },
        'Copy',
      ),
    ),
    copied,
  )
  return panel
}
