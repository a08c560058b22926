// Per-socket cursors: for each durable channel a socket follows, the last seq it was sent. A socket
// follows a handful of channels, so a flat [channel, seq, channel, seq, ...] array on the socket
// does the job at a fraction of the memory of a Map per socket.
import type { Socket } from 'socket.io';

/** Where a socket keeps its cursors (exported for a socket class that declares the field). */
export const CURSORS = Symbol('realtime:cursors');

type Holder = Socket & { [CURSORS]?: (string | number)[] };

export function getCursor(socket: Socket, channel: string): number | undefined {
  const list = (socket as Holder)[CURSORS];
  if (!list) return undefined;
  for (let i = 0; i < list.length; i += 2) if (list[i] === channel) return list[i + 1] as number;
  return undefined;
}

export function setCursor(socket: Socket, channel: string, seq: number): void {
  const holder = socket as Holder;
  const list = holder[CURSORS];
  if (list) {
    for (let i = 0; i < list.length; i += 2) {
      if (list[i] === channel) {
        list[i + 1] = seq;
        return;
      }
    }
  }
  // A new array of the exact length (concat): push, or a spread, would reserve room for ~17 elements.
  holder[CURSORS] = list ? list.concat(channel, seq) : [channel, seq];
}

export function deleteCursor(socket: Socket, channel: string): void {
  const list = (socket as Holder)[CURSORS];
  if (!list) return;
  for (let i = 0; i < list.length; i += 2) {
    if (list[i] === channel) {
      list.splice(i, 2);
      return;
    }
  }
}
