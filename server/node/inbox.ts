// The node shell's bounded inbox: peer messages, proposals and reads wait here while a Ready's
// write is in flight, and are all stepped into the core together afterwards. That is what batches
// many client writes into one proposal round and one WAL sync (group commit), without relying on
// what the core allows between ready() and advance().
import type { Message } from '../raft/types.js';
import type { PendingRead } from './pending.js';

export type InboxItem<R> =
  | { readonly kind: 'message'; readonly message: Message }
  | { readonly kind: 'write'; readonly request: R; readonly data: Uint8Array }
  | { readonly kind: 'read'; readonly read: PendingRead<R> }
  | { readonly kind: 'peer-lost'; readonly peer: string };

export class Inbox<R> {
  private items: InboxItem<R>[] = [];
  private readonly waiters: (() => void)[] = [];
  droppedMessages = 0;

  constructor(readonly inboxMessagesMax: number) {}

  get length(): number {
    return this.items.length;
  }

  get full(): boolean {
    return this.items.length >= this.inboxMessagesMax;
  }

  /** False when full: the caller drops (peer message) or refuses with OVERLOADED (client). */
  push(item: InboxItem<R>): boolean {
    if (this.full) {
      if (item.kind === 'message') this.droppedMessages++;
      return false;
    }
    this.items.push(item);
    return true;
  }

  takeAll(): InboxItem<R>[] {
    const taken = this.items;
    this.items = [];
    if (taken.length > 0) this.notifyRoom();
    return taken;
  }

  /** Calls `resume` once the inbox has room again (sockets paused while it was full). */
  whenRoom(resume: () => void): void {
    if (!this.full) resume();
    else this.waiters.push(resume);
  }

  private notifyRoom(): void {
    const waiting = this.waiters.splice(0);
    for (const resume of waiting) resume();
  }
}
