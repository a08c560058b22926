// The JSON text of a stream frame, built once. A committed event used to be serialized three
// times: its payload for the outbox row, the whole frame again for the Redis bus, and again by
// socket.io for the sockets. Now the outbox write serializes the payload, the frame's text is put
// together around it and remembered for the frame object, and both the bus and the socket.io
// encoder (lenient-parser.ts) use that text. lenient-parser.spec.ts pins that the text equals what
// JSON.stringify and socket.io's own encoder write, and that socket.io hands the encoder the frame.
import type { StreamFrame } from './realtime.types.js';

const texts = new WeakMap<object, string>();

/**
 * `JSON.stringify(frame)` (its five fields, in StreamFrame's order), remembered for the frame;
 * `payloadJson` is the payload's text when the caller has it already.
 */
export function frameJson(frame: StreamFrame, payloadJson?: string): string {
  let text = texts.get(frame);
  if (text === undefined) {
    text =
      `{"event":${JSON.stringify(frame.event)},"channel":${JSON.stringify(frame.channel)},"seq":${frame.seq},` +
      `"timestamp":${JSON.stringify(frame.timestamp)},"payload":${payloadJson ?? JSON.stringify(frame.payload) ?? 'null'}}`;
    texts.set(frame, text);
  }
  return text;
}

/** The text remembered for `value` by frameJson(), if any. */
export function rememberedJson(value: unknown): string | undefined {
  return typeof value === 'object' && value !== null ? texts.get(value) : undefined;
}

/** Lets `copy` (the same frame as another object) use the text remembered for `original`. */
export function shareJson(original: object, copy: object): void {
  const text = texts.get(original);
  if (text !== undefined) texts.set(copy, text);
}
