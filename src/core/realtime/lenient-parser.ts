// socket.io's parser closes the connection on a packet it cannot decode. For an EVENT packet whose
// JSON is broken, this one instead hands the server a `__malformed__` event (same namespace, same
// ack id), which is answered with INVALID_REQUEST; the connection stays up.
//
// Its encoder writes an event whose argument is a stream frame with a remembered JSON text
// (frame-json.ts) with that text, rather than serializing the frame again (and walking it for
// binary parts, which frames never have).
import { Decoder as BaseDecoder, Encoder as BaseEncoder, PacketType, type Packet } from 'socket.io-parser';
import { rememberedJson } from './frame-json.js';

export const MALFORMED_EVENT = '__malformed__';

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
  override add(chunk: unknown): void {
    try {
      super.add(chunk);
    } catch (error) {
      if (typeof chunk !== 'string' || chunk.charAt(0) !== String(PacketType.EVENT)) throw error;
      const { nsp, id } = prefixOf(chunk);
      const packet: Packet = { type: PacketType.EVENT, nsp, id, data: [MALFORMED_EVENT, (error as Error).message] };
      this.emitReserved('decoded', packet);
    }
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
