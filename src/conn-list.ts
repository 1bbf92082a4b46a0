// The server's open connections: an array, each connection knowing its
// index (Conn.at), so adding and removing are O(1) without a Set's hash
// table, which costs about 50 bytes more per connection (measured with
// 12,000 idle connections; an idle connection's whole budget is 1 KB, see
// README). Order is not kept: removal moves the last connection into the
// hole, and `stats conns` sorts by descriptor anyway.

/** What the list needs of a connection. */
export interface Listed {
  /** Its index here; -1 when in no list. */
  at: number;
}

export class ConnList<T extends Listed> {
  private items: T[] = [];

  get size(): number { return this.items.length; }

  add(c: T): void {
    c.at = this.items.length;
    this.items.push(c);
  }

  /** False when `c` was not in the list. */
  delete(c: T): boolean {
    const items = this.items;
    const i = c.at;
    if (i < 0 || i >= items.length || items[i] !== c) return false;
    const last = items.pop()!;
    if (last !== c) {
      items[i] = last;
      last.at = i;
    }
    c.at = -1;
    // Given back after a crowd has gone: an array keeps its largest size.
    if (items.length === 0) this.items = [];
    return true;
  }

  /** A copy, safe to iterate while connections come and go. */
  toArray(): T[] {
    return this.items.slice();
  }

  /** Calls `fn` for each connection; `fn` may remove the one it is given
   *  (the walk goes from the end, where removal moves nothing unvisited). */
  forEach(fn: (c: T) => void): void {
    const items = this.items;
    for (let i = items.length - 1; i >= 0; i--) {
      const c = items[i];
      if (c !== undefined) fn(c);
    }
  }

  [Symbol.iterator](): Iterator<T> {
    return this.toArray()[Symbol.iterator]();
  }
}
