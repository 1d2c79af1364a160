// Building the page without a framework: elements from a tag, attributes and children, text always as text (never
// parsed as HTML), so nothing a server or a user wrote can become markup or script.

export type Child = Node | string | number | null | undefined | false | readonly Child[]
type Handler = (event: Event) => unknown
export interface Props {
  readonly [name: string]: string | number | boolean | null | undefined | Handler | Record<string, string>
}

function append(parent: Node, child: Child): void {
  if (child === null || child === undefined || child === false) return
  if (Array.isArray(child)) {
    for (const c of child) append(parent, c)
  } else if (child instanceof Node) parent.appendChild(child)
  else parent.appendChild(document.createTextNode(String(child)))
}

/**
 * An element: `on…` props are listeners, `dataset` sets data attributes, `true` sets an empty attribute, `false`,
 * `null` and `undefined` leave it out.
 *
 * @example
 * h('button', { type: 'button', class: 'danger', onclick: () => remove() }, 'Remove')
 */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Props | null = null,
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag)
  for (const [name, value] of Object.entries(props ?? {})) {
    if (value === null || value === undefined || value === false) continue
    if (name.startsWith('on') && typeof value === 'function') {
      el.addEventListener(name.slice(2), value as Handler)
    } else if (name === 'dataset' && typeof value === 'object') {
      Object.assign(el.dataset, value)
    } else if (name === 'value' && 'value' in el) {
      ;(el as HTMLInputElement).value = String(value)
    } else if (name === 'checked' && el instanceof HTMLInputElement) {
      el.checked = Boolean(value)
    } else {
      el.setAttribute(name, value === true ? '' : String(value))
    }
  }
  append(el, children)
  return el
}

/** Replaces an element's content. */
export function fill(el: Element, ...children: Child[]): void {
  el.replaceChildren()
  append(el, children)
}

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' })

/** A `<time>` for an ISO date, in the reader's locale; a dash for none. */
export function time(iso: string | null | undefined): Node {
  if (!iso) return document.createTextNode('—')
  const date = new Date(iso)
  return h('time', { datetime: iso, title: iso }, Number.isNaN(date.getTime()) ? iso : dateTime.format(date))
}

let ids = 0
/** A unique id for labelling (`for`, `aria-describedby`). */
export const uid = (prefix: string): string => `${prefix}-${++ids}`

/** A table that turns into one block per row on a phone: each cell carries its column's name. */
export function table(
  caption: string,
  columns: readonly string[],
  rows: readonly (readonly Child[])[],
  options: { empty?: string; hiddenCaption?: boolean; testid?: string } = {},
): HTMLElement {
  if (rows.length === 0)
    return h('p', { class: 'muted empty', dataset: { testid: options.testid ?? '' } }, options.empty ?? 'None.')
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      options.testid ? { dataset: { testid: options.testid } } : null,
      h('caption', options.hiddenCaption === false ? null : { class: 'visually-hidden' }, caption),
      h(
        'thead',
        null,
        h(
          'tr',
          null,
          columns.map((c) => h('th', { scope: 'col' }, c)),
        ),
      ),
      h(
        'tbody',
        null,
        rows.map((cells) =>
          h(
            'tr',
            null,
            cells.map((cell, i) => h('td', columns[i] ? { 'data-label': columns[i] } : null, cell)),
          ),
        ),
      ),
    ),
  )
}

/** A link inside the console (the router handles it without reloading the page). */
export function link(href: string, ...children: Child[]): HTMLAnchorElement {
  return h('a', { href }, ...children)
}
