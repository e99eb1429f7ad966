/** Messages a test server received, with a wait for the one a test expects (delivery is asynchronous). */
export class Inbox<T extends { to: string }> {
  readonly items: T[] = [];
  private readonly waiters = new Set<() => void>();

  constructor(private readonly kind: string) {}

  add(item: T): void {
    this.items.push(item);
    this.waiters.forEach((wake) => wake());
  }

  /** The first item (already received or arriving later) that matches. */
  waitFor(predicate: (item: T) => boolean, timeoutMs = 10_000): Promise<T> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = this.items.find(predicate);
        if (!found) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve(found);
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        const recipients = this.items.map((item) => item.to).join(', ') || 'nobody';
        reject(new Error(`no matching ${this.kind} within ${timeoutMs} ms; received for: ${recipients}`));
      }, timeoutMs);
      this.waiters.add(check);
      check();
    });
  }
}
