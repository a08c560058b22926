import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server, type Socket } from 'socket.io';
import { io as connect } from 'socket.io-client';
import { Encoder, PacketType, type Packet } from 'socket.io-parser';
import { describe, expect, it } from 'vitest';
import { DomainError } from '../errors/domain-error.js';
import { frameJson, rememberedJson, shareJson } from './frame-json.js';
import { lenientParser, MALFORMED_EVENT } from './lenient-parser.js';
import type { StreamFrame } from './realtime.types.js';

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

  const refusal = (packet: Packet) => {
    const [event, error] = packet.data as [string, DomainError];
    expect(event).toBe(MALFORMED_EVENT);
    expect(error).toBeInstanceOf(DomainError);
    return { code: error.code, message: error.message, field: error.field };
  };

  it('turns an event with broken JSON into a __malformed__ event of the same namespace and ack id', () => {
    const [packet] = decode('2/user,17["transfer",{oops');
    expect(packet).toMatchObject({ type: 2, nsp: '/user', id: 17 });
    expect(refusal(packet)).toMatchObject({ code: 'INVALID_REQUEST', message: 'invalid request format' });
  });

  it('keeps the default namespace and a missing ack id', () => {
    const [plain] = decode('2{not json');
    expect(plain).toMatchObject({ nsp: '/', id: undefined });
    expect(refusal(plain).code).toBe('INVALID_REQUEST');
    const [text] = decode('2/public,"just a string"');
    expect(text).toMatchObject({ nsp: '/public' });
    expect(refusal(text).code).toBe('INVALID_REQUEST');
  });

  it('refuses deep nesting before parsing it', () => {
    const [packet] = decode(`2/user,4["transfer",{"amount":${'['.repeat(1300)}${']'.repeat(1300)}}]`);
    expect(packet).toMatchObject({ nsp: '/user', id: 4 });
    expect(refusal(packet)).toMatchObject({ code: 'INVALID_REQUEST', message: expect.stringMatching(/nested deeper/) });
  });

  it('refuses a number that a double cannot hold exactly, naming its field', () => {
    const [packet] = decode('2/user,9["transfer",{"to_user_id":"2","amount":0.999999999999999999999}]');
    expect(packet).toMatchObject({ nsp: '/user', id: 9 });
    expect(refusal(packet)).toMatchObject({ code: 'VALIDATION_FAILED', field: 'amount' });
    expect((packet.data as unknown[])[2]).toBe('transfer'); // the request type, for the answer
  });

  it('hands a binary event over as __malformed__ once its attachments arrived', () => {
    const decoder = new lenientParser.Decoder();
    const packets: Packet[] = [];
    decoder.on('decoded', (packet: Packet) => packets.push(packet));
    decoder.add('51-/user,3["transfer",{"_placeholder":true,"num":0}]');
    expect(packets).toEqual([]);
    decoder.add(Buffer.from('binary'));
    expect(packets).toHaveLength(1);
    expect(packets[0]).toMatchObject({ type: PacketType.EVENT, nsp: '/user', id: 3 });
    expect(refusal(packets[0])).toMatchObject({ code: 'INVALID_REQUEST', message: expect.stringMatching(/binary/) });
  });

  it('still refuses malformed packets of other types (the connection closes, as socket.io does)', () => {
    expect(() => decode('0/user,[broken')).toThrow();
    expect(() => decode('9')).toThrow(/unknown packet type/);
  });
});

describe('its encoder', () => {
  const base = new Encoder();
  const ours = new lenientParser.Encoder();
  const frame = (): StreamFrame => ({
    event: 'balance',
    channel: 'ch-"quoted"\\',
    seq: 7,
    timestamp: '2026-12-02T05:00:00.000Z',
    payload: { balance: 1000.5, note: 'a "b" \\ c ✓', list: [1, null] },
  });

  it('writes a frame with a remembered text exactly as socket.io would write the frame', () => {
    const remembered = frame();
    frameJson(remembered, JSON.stringify(remembered.payload));
    for (const packet of [
      { type: PacketType.EVENT, nsp: '/user', data: ['stream', remembered] },
      { type: PacketType.EVENT, nsp: '/', data: ['stream', remembered] },
      { type: PacketType.EVENT, nsp: '/user', id: 12, data: ['stream', remembered] },
    ]) {
      expect(ours.encode(packet)).toEqual(base.encode({ ...packet, data: ['stream', frame()] }));
    }
  });

  // The shortcut only works while socket.io hands the parser's encoder the frame object it was
  // given (socket.io 4.8: `[event, ...args]` as packet.data, once per broadcast). These pin that
  // and the text that reaches a client.
  it('is handed, by a real socket.io server, the very frame emitted to a socket or a room, and the client reads the frame', async () => {
    const seen: unknown[] = [];
    class Watching extends lenientParser.Encoder {
      override encode(packet: Packet) {
        if (Array.isArray(packet.data) && packet.data[0] === 'stream') seen.push(packet.data[1]);
        return super.encode(packet);
      }
    }
    const http = createServer();
    const server = new Server(http, { parser: { Encoder: Watching, Decoder: lenientParser.Decoder } });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const client = connect(`http://127.0.0.1:${(http.address() as AddressInfo).port}`, { transports: ['websocket'] });
    try {
      const socket = await new Promise<Socket>((resolve) => server.on('connection', resolve));
      const received: unknown[] = [];
      client.on('stream', (frame: unknown) => received.push(frame));
      await socket.join('room');
      const [direct, broadcast] = [frame(), { ...frame(), seq: 8 }];
      frameJson(direct, JSON.stringify(direct.payload));
      frameJson(broadcast, JSON.stringify(broadcast.payload));
      socket.emit('stream', direct);
      server.to('room').emit('stream', broadcast);
      await expect.poll(() => received).toHaveLength(2);
      expect(seen[0]).toBe(direct);
      expect(seen[1]).toBe(broadcast);
      expect(received).toEqual([frame(), { ...frame(), seq: 8 }]);
    } finally {
      client.close();
      await server.close();
    }
  });

  it('leaves every other packet to socket.io', () => {
    const packets = [
      { type: PacketType.EVENT, nsp: '/user', data: ['stream', frame()] },
      { type: PacketType.ACK, nsp: '/user', id: 3, data: [{ type: 'success' }] },
      { type: PacketType.EVENT, nsp: '/user', data: ['x', Buffer.from('binary')] },
    ];
    for (const packet of packets) expect(ours.encode(packet)).toEqual(base.encode(packet));
  });
});

describe('frameJson', () => {
  it('is JSON.stringify of the frame, remembered for it and shared with a copy', () => {
    const frame: StreamFrame = { event: 'e"', channel: 'c', seq: 1, timestamp: 't', payload: { a: [1, 'x'] } };
    expect(frameJson(frame)).toBe(JSON.stringify(frame));
    expect(rememberedJson(frame)).toBe(JSON.stringify(frame));
    const stored = { id: '9', ...frame };
    frameJson(stored, '{"a":[1,"x"]}');
    expect(rememberedJson(stored)).toBe(JSON.stringify(frame)); // the outbox id is not in it
    const copy = { ...frame };
    shareJson(stored, copy);
    expect(rememberedJson(copy)).toBe(JSON.stringify(frame));
    expect(rememberedJson({ ...frame })).toBeUndefined();
  });
});
