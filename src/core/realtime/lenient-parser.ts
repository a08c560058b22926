// socket.io's parser closes the connection on a packet it cannot decode. For an EVENT packet whose
// JSON is broken, this one instead hands the server a `__malformed__` event (same namespace, same
// ack id) carrying the refusal (a DomainError), which the request gate answers; the connection
// stays up. The same happens, before any parsing, to an event whose JSON nests too deep or holds a
// number no double represents exactly (shared/json-guard.ts), and to any event with binary
// attachments (no request takes binary data).
//
// Its encoder writes an event whose argument is a stream frame with a remembered JSON text
// (frame-json.ts) with that text, rather than serializing the frame again (and walking it for
// binary parts, which frames never have).
import { Decoder as BaseDecoder, Encoder as BaseEncoder, PacketType, type Packet } from 'socket.io-parser';
import type { DomainError } from '../errors/domain-error.js';
import { invalidRequestFormat, refuseJsonText } from '../errors/json-input.js';
import { rememberedJson } from './frame-json.js';

export const MALFORMED_EVENT = '__malformed__';

const EVENT_CODE = String(PacketType.EVENT).charCodeAt(0);

/**
 * The event the server gets in place of a refused packet: `__malformed__` with the refusal, and
 * the request type when the packet's text names one.
 */
const malformed = (nsp: string, id: number | undefined, refusal: DomainError, requestType?: string): Packet => ({
  type: PacketType.EVENT,
  nsp,
  id,
  data: requestType ? [MALFORMED_EVENT, refusal, requestType] : [MALFORMED_EVENT, refusal],
});

/** The event name at `start` of a packet's text (`["transfer",...`), if it is a plain one. */
const requestTypeAt = (text: string, start: number): string | undefined =>
  /^\["([A-Za-z0-9_.:-]{1,64})"/.exec(text.slice(start, start + 70))?.[1];

type DecodedListener = (packet: Packet) => void;

/** Namespace and ack id of an event packet string: `2/user,12["x",...` → { nsp: '/user', id: 12 }. */
function prefixOf(text: string): { nsp: string; id?: number } {
  let rest = text.slice(1);
  let nsp = '/';
  if (rest.startsWith('/')) {
    const comma = rest.indexOf(',');
    nsp = comma === -1 ? rest : rest.slice(0, comma);
    rest = comma === -1 ? '' : rest.slice(comma + 1);
  }
  const digits = /^\d{1,15}/.exec(rest)?.[0];
  return { nsp, id: digits ? Number(digits) : undefined };
}

class Decoder extends BaseDecoder {
  /** True while an attachment is added: a packet decoded then is a binary one. */
  private addingAttachment = false;

  override add(chunk: unknown): void {
    if (typeof chunk !== 'string') {
      this.addingAttachment = true;
      try {
        super.add(chunk);
      } finally {
        this.addingAttachment = false;
      }
      return;
    }
    const isEvent = chunk.charCodeAt(0) === EVENT_CODE;
    if (isEvent) {
      const start = chunk.indexOf('[');
      const refusal = start === -1 ? undefined : refuseJsonText(chunk, start);
      if (refusal) {
        const { nsp, id } = prefixOf(chunk);
        this.emitReserved('decoded', malformed(nsp, id, refusal, requestTypeAt(chunk, start)));
        return;
      }
    }
    try {
      super.add(chunk);
    } catch (error) {
      if (!isEvent) throw error;
      const { nsp, id } = prefixOf(chunk);
      this.emitReserved('decoded', malformed(nsp, id, invalidRequestFormat()));
    }
  }

  /**
   * socket.io listens for `decoded` here; a binary packet (reassembled from its attachments by the
   * base decoder, which emits it past any override of emitReserved) reaches it as `__malformed__`.
   */
  override on(event: string, listener: (...args: never[]) => void): this {
    if (event !== 'decoded') return super.on(event as 'decoded', listener as DecodedListener);
    const decoded = listener as DecodedListener;
    return super.on('decoded', (packet: Packet) =>
      decoded(
        this.addingAttachment
          ? malformed(packet.nsp, packet.id, invalidRequestFormat('binary data is not accepted'))
          : packet,
      ),
    );
  }
}

class Encoder extends BaseEncoder {
  override encode(packet: Packet): ReturnType<BaseEncoder['encode']> {
    const data: unknown = packet.data;
    if (packet.type === PacketType.EVENT && Array.isArray(data) && data.length === 2 && typeof data[0] === 'string') {
      const text = rememberedJson(data[1]);
      if (text !== undefined) {
        const nsp = packet.nsp && packet.nsp !== '/' ? `${packet.nsp},` : '';
        return [`${PacketType.EVENT}${nsp}${packet.id ?? ''}[${JSON.stringify(data[0])},${text}]`];
      }
    }
    return super.encode(packet);
  }
}

export const lenientParser = { Encoder, Decoder };
