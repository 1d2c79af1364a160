// The example domain: each caller's notes, kept in memory.
import { randomUUID } from 'node:crypto'

export interface Note {
  readonly id: string
  readonly text: string
  readonly created_at: string
}

export const MAX_NOTES_PER_OWNER = 1_000

/** Notes by owner (`sub`), newest last, capped per owner. */
export class NoteBook {
  readonly #byOwner = new Map<string, Note[]>()

  list(owner: string): readonly Note[] {
    return this.#byOwner.get(owner) ?? []
  }

  add(owner: string, text: string, now = new Date()): Note {
    const note = { id: randomUUID(), text, created_at: now.toISOString() }
    const notes = this.#byOwner.get(owner) ?? []
    notes.push(note)
    if (notes.length > MAX_NOTES_PER_OWNER) notes.shift()
    this.#byOwner.set(owner, notes)
    return note
  }
}
