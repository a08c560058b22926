// What plain connections share rather than each hold its own (bench/plain/run.mjs measures the heap
// per connection): the lists of listeners every connection is given, the mark of a set-up
// connection of each endpoint, and the text of the last channel event encoded for an endpoint.
import type { PlainMark } from '../realtime-handshake.js';
import type { StreamFrame } from '../realtime.types.js';
import type { EndpointProtocol } from './plain-protocol.js';

/**
 * Every connection is given the same functions in the same order (the request gate's and the
 * router's `onAny`, the gateways' disconnect listener), so each list exists once, not once per
 * connection. Keyed weakly by the functions, so a list made with a connection's own function goes
 * with it.
 */
const appended = new WeakMap<readonly object[], WeakMap<object, readonly object[]>>();
const NONE: readonly object[] = Object.freeze([]);

/** `list` with `item` appended, as the list shared by every connection that appended the same. */
export function appendShared<T extends object>(list: readonly T[] | undefined, item: T): readonly T[] {
  const from = list ?? NONE;
  let next = appended.get(from);
  if (!next) {
    next = new WeakMap();
    appended.set(from, next);
  }
  let result = next.get(item);
  if (!result) {
    result = Object.freeze(from.concat(item));
    next.set(item, result);
  }
  return result as readonly T[];
}

/** One mark per endpoint for its set-up connections: the opening's streams and seqs are done with. */
const settledMarks = new Map<string, PlainMark>();

export function settledMark(mark: PlainMark): PlainMark {
  let settled = settledMarks.get(mark.endpoint);
  if (!settled) {
    const { endpoint, single, ownChannelsOnly, addressed } = mark;
    settled = { endpoint, streams: [], single, ownChannelsOnly, addressed };
    settledMarks.set(mark.endpoint, settled);
  }
  return settled;
}

/**
 * The last channel event encoded for an endpoint whose frame depends on the event alone: delivery
 * hands every connection an event reaches the same frame object, so it is translated and encoded
 * once per endpoint, not once per connection.
 */
let lastStream: { protocol: EndpointProtocol; frame: StreamFrame; text: string } | undefined;

export function encodedStream(
  protocol: EndpointProtocol,
  streamFrame: (frame: StreamFrame) => unknown,
  frame: StreamFrame,
): string {
  let encoded = lastStream;
  if (encoded?.frame !== frame || encoded.protocol !== protocol) {
    encoded = { protocol, frame, text: JSON.stringify(streamFrame(frame)) };
    lastStream = encoded;
  }
  return encoded.text;
}
