import type { Packet } from 'socket.io-parser';
import { describe, expect, it } from 'vitest';
import { lenientParser, MALFORMED_EVENT } from './lenient-parser.js';

function decode(frame: string): Packet[] {
  const decoder = new lenientParser.Decoder();
  const packets: Packet[] = [];
  decoder.on('decoded', (packet: Packet) => packets.push(packet));
  decoder.add(frame);
  return packets;
}

describe('lenient socket.io parser', () => {
  it('decodes well-formed packets as usual', () => {
    expect(decode('2/user,5["get_accounts",{}]')).toEqual([
      { type: 2, nsp: '/user', id: 5, data: ['get_accounts', {}] },
    ]);
  });

  it('turns an event with broken JSON into a __malformed__ event of the same namespace and ack id', () => {
    const [packet] = decode('2/user,17["transfer",{oops');
    expect(packet).toMatchObject({ type: 2, nsp: '/user', id: 17, data: [MALFORMED_EVENT, 'invalid payload'] });
  });

  it('keeps the default namespace and a missing ack id', () => {
    expect(decode('2{not json')[0]).toMatchObject({
      nsp: '/',
      id: undefined,
      data: [MALFORMED_EVENT, 'invalid payload'],
    });
    expect(decode('2/public,"just a string"')[0]).toMatchObject({
      nsp: '/public',
      data: [MALFORMED_EVENT, 'invalid payload'],
    });
  });

  it('still refuses malformed packets of other types (the connection closes, as socket.io does)', () => {
    expect(() => decode('0/user,[broken')).toThrow();
    expect(() => decode('9')).toThrow(/unknown packet type/);
  });
});
