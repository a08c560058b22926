// The client's pure parts: CRC32 against zlib's, the book checksum against the server's own
// function, ordering and repeats per channel, and lining a snapshot up with as_of_seq.
import { randomBytes } from 'node:crypto';
import { crc32 as zlibCrc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { decimalBookChecksum } from '../../src/modules/market/engine/index.js';
import { ChannelSequence } from './channel-sequence.js';
import { crc32 } from './crc32.js';
import { SnapshotAligner } from './live-state.js';
import { bookChecksum, checksumDigits, OrderBook, type Level } from './order-book.js';

describe('crc32', () => {
  it('equals zlib.crc32 on the checksum alphabet and on arbitrary text', () => {
    expect(crc32('')).toBe(0);
    for (let i = 0; i < 200; i++) {
      const digits = [...randomBytes(1 + (i % 60))].map((b) => String(b % 10)).join('');
      expect(crc32(digits)).toBe(zlibCrc32(digits));
    }
    expect(crc32('héllo ✓')).toBe(zlibCrc32('héllo ✓'));
  });
});

describe('book checksum', () => {
  it('writes levels as the contract says', () => {
    expect(checksumDigits(20000.5, 2)).toBe('2000050');
    expect(checksumDigits(0.01, 8)).toBe('1000000');
    expect(checksumDigits(1e-7, 8)).toBe('10');
  });

  it('matches the server’s checksum on random books', () => {
    for (let round = 0; round < 50; round++) {
      const level = (base: number): Level => [
        Math.round((base + Math.random() * 1000) * 100) / 100,
        Math.max(1e-8, Math.round(Math.random() * 2e8) / 1e8),
      ];
      const bids = Array.from({ length: round % 14 }, () => level(19000)).sort((a, b) => b[0] - a[0]);
      const asks = Array.from({ length: (round * 7) % 15 }, () => level(20001)).sort((a, b) => a[0] - b[0]);
      expect(bookChecksum({ bids, asks }, 2)).toBe(decimalBookChecksum({ bids, asks }, 2));
    }
  });

  it('keeps levels sorted through updates', () => {
    const book = new OrderBook('BTC-EUR', 2);
    book.load({ bids: [[100, 1]], asks: [[101, 1]] }, 5);
    book.set('buy', 99.5, 2);
    book.set('buy', 100.25, 0.5);
    book.set('sell', 102, 3);
    book.set('sell', 101, 0);
    book.set('buy', 100, 1.5);
    expect(book.bids).toEqual([
      [100.25, 0.5],
      [100, 1.5],
      [99.5, 2],
    ]);
    expect(book.asks).toEqual([[102, 3]]);
    expect(book.checksum()).toBe(decimalBookChecksum(book, 2));
  });
});

describe('ChannelSequence', () => {
  const frames = (...seqs: number[]) => seqs.map((seq) => ({ seq }));

  it('hands frames on once, in order, holding those ahead of a gap', () => {
    const got: number[] = [];
    const sequence = new ChannelSequence('c', (f: { seq: number }) => got.push(f.seq), 3);
    const outcomes = frames(3, 5, 4, 4, 6, 8, 7, 2).map((f) => sequence.accept(f));
    expect(outcomes).toEqual(['repeat', 'held', 'delivered', 'repeat', 'delivered', 'held', 'delivered', 'repeat']);
    expect(got).toEqual([4, 5, 6, 7, 8]);
    expect(sequence.position).toBe(8);
    expect(sequence.hasGap).toBe(false);
  });

  it('settles a fresh join at the ack, keeping frames that came before it', () => {
    const got: number[] = [];
    const sequence = new ChannelSequence('c', (f: { seq: number }) => got.push(f.seq));
    sequence.accept({ seq: 11 });
    sequence.accept({ seq: 12 });
    sequence.settle(11);
    expect(got).toEqual([11, 12]);
    const other = new ChannelSequence('d', (f: { seq: number }) => got.push(f.seq));
    other.settle(40);
    other.accept({ seq: 40 });
    other.accept({ seq: 41 });
    expect(got).toEqual([11, 12, 41]);
  });

  it('moves to a reset position, dropping what is behind it', () => {
    const got: number[] = [];
    const sequence = new ChannelSequence('c', (f: { seq: number }) => got.push(f.seq), 1);
    sequence.accept({ seq: 5 });
    sequence.accept({ seq: 7 });
    sequence.moveTo(6);
    expect(got).toEqual([7]);
  });
});

describe('SnapshotAligner', () => {
  it('applies only the events after as_of_seq, holding them while the read is in flight', () => {
    const aligner = new SnapshotAligner<number[], { seq: number }>((state, frame) => [...state, frame.seq]);
    aligner.push({ seq: 4 });
    aligner.push({ seq: 5 });
    expect(aligner.state).toBeUndefined();
    aligner.setSnapshot([], 4);
    expect(aligner.state).toEqual([5]);
    expect(aligner.push({ seq: 5 })).toBe(false);
    expect(aligner.push({ seq: 6 })).toBe(true);
    expect(aligner.state).toEqual([5, 6]);
  });
});

describe('CashierClient without a server', () => {
  it('fails a request waiting for a connection with CLOSED when closed', async () => {
    const { CashierClient } = await import('./cashier-client.js');
    const client = new CashierClient({ url: 'http://127.0.0.1:9', token: 't', reconnectionDelay: 50 });
    client.on('error', () => undefined);
    void client.connect().catch(() => undefined);
    const pending = client.getAccounts().catch((error: unknown) => error);
    setTimeout(() => client.close(), 50);
    expect(await pending).toMatchObject({ code: 'CLOSED', requestType: 'get_accounts' });
  });

  it('has a method per request type of the server', async () => {
    const { CashierClient } = await import('./cashier-client.js');
    const client = new CashierClient({ url: 'http://127.0.0.1:9' });
    expect(typeof client.placeOrder).toBe('function');
    expect(typeof client.getTransactionByReceipt).toBe('function');
    expect(typeof client.markNotificationsRead).toBe('function');
    client.close();
  });
});
