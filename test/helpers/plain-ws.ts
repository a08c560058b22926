// A raw `ws` client for the plain-WebSocket endpoints: every frame received is recorded, waiting
// for one is a promise, and the close code is kept.
import { WebSocket } from 'ws';

export interface PlainClient {
  ws: WebSocket;
  frames: any[];
  closed: Promise<{ code: number; reason: string }>;
  send(frame: unknown): void;
  sendRaw(text: string | Buffer): void;
  waitFor(predicate: (frame: any) => boolean, timeoutMs?: number): Promise<any>;
  /** Sends a request with an id and resolves to the answer carrying that id. */
  request(type: string, data?: unknown, timeoutMs?: number): Promise<any>;
  close(): void;
}

let nextId = 1;

/** Opens `url` (ws://...); resolves once open, rejects with the HTTP status and body if refused. */
export function openPlain(url: string, headers: Record<string, string> = {}): Promise<PlainClient> {
  const ws = new WebSocket(url, { headers });
  const frames: any[] = [];
  const waiters: { predicate: (frame: any) => boolean; resolve: (frame: any) => void }[] = [];
  ws.on('message', (data: Buffer) => {
    let frame: unknown;
    try {
      frame = JSON.parse(data.toString('utf8'));
    } catch {
      frame = { unparsable: data.toString('utf8') };
    }
    frames.push(frame);
    for (const waiter of [...waiters]) {
      if (waiter.predicate(frame)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(frame);
      }
    }
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  const client: PlainClient = {
    ws,
    frames,
    closed,
    send: (frame) => ws.send(JSON.stringify(frame)),
    sendRaw: (text) => ws.send(text),
    waitFor(predicate, timeoutMs = 5000) {
      const seen = frames.find(predicate);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          const got = frames.map((f) => f.type ?? f.event ?? JSON.stringify(f).slice(0, 60)).join(', ');
          reject(new Error(`no matching frame within ${timeoutMs} ms; got ${got}`));
        }, timeoutMs);
        waiters.push({ predicate, resolve: (frame) => (clearTimeout(timer), resolve(frame)) });
      });
    },
    request(type, data, timeoutMs) {
      const id = nextId++;
      client.send(data === undefined ? { type, id } : { type, data, id });
      return client.waitFor((f) => f.id === id, timeoutMs);
    },
    close: () => ws.close(),
  };
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(client));
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => {
        const error = Object.assign(new Error(`refused with ${res.statusCode}`), {
          status: res.statusCode,
          body: body ? JSON.parse(body) : undefined,
        });
        reject(error);
      });
    });
    ws.once('error', (error) => reject(error));
  });
}
