import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { describe, expect, it, vi } from 'vitest';
import { assignTraceId, createRootLogger, redactUrl } from './logger.js';

describe('redactUrl', () => {
  it.each([
    ['/ws?token=abc.def.ghi', '/ws?token=[redacted]'],
    ['/cb?access_token=xyz&page=2', '/cb?access_token=[redacted]&page=2'],
    ['/hook?page=2&api_key=k-123', '/hook?page=2&api_key=[redacted]'],
    ['/hook?apiKey=k-123#top', '/hook?apiKey=[redacted]#top'],
    ['/hook?TOKEN=abc', '/hook?TOKEN=[redacted]'],
    ['/a?token=1&api_key=2&access_token=3', '/a?token=[redacted]&api_key=[redacted]&access_token=[redacted]'],
    ['/a?token=', '/a?token=[redacted]'],
  ])('redacts %j as %j', (url, expected) => {
    expect(redactUrl(url)).toBe(expected);
  });

  it.each([
    '/api/v1/transactions?page=2&limit=10',
    '/api/v1/users?token_type=bearer',
    '/api/v1/users?mytoken=abc',
    '/api/v1/transactions',
    '/api/v1/token=abc',
    '',
  ])('leaves %j untouched', (url) => {
    expect(redactUrl(url)).toBe(url);
  });

  it('passes undefined through', () => {
    expect(redactUrl(undefined)).toBeUndefined();
  });
});

type TraceRequest = IncomingMessage & { id?: unknown };

function fakeRequest(headers: IncomingHttpHeaders, id?: unknown): TraceRequest {
  return { headers, ...(id === undefined ? {} : { id }) } as unknown as TraceRequest;
}

function fakeResponse(): { res: ServerResponse; headers: Record<string, unknown> } {
  const headers: Record<string, unknown> = {};
  const res = {
    setHeader(name: string, value: unknown) {
      headers[name] = value;
      return res;
    },
  };
  return { res: res as unknown as ServerResponse, headers };
}

describe('assignTraceId', () => {
  it('uses a well-formed incoming x-request-id and echoes it as X-Trace-Id', () => {
    const req = fakeRequest({ 'x-request-id': 'req-2024.abc_DEF' });
    const { res, headers } = fakeResponse();
    expect(assignTraceId(req, res)).toBe('req-2024.abc_DEF');
    expect(req.id).toBe('req-2024.abc_DEF');
    expect(headers).toEqual({ 'X-Trace-Id': 'req-2024.abc_DEF' });
  });

  it.each([
    ['with forbidden characters', 'bad id!'],
    ['too long', 'a'.repeat(200)],
    ['too short', 'abc'],
    ['empty', ''],
  ])('replaces an incoming id that is %s with 16 hex digits', (_label, incoming) => {
    const req = fakeRequest({ 'x-request-id': incoming });
    const { res, headers } = fakeResponse();
    const id = assignTraceId(req, res);
    expect(id).toMatch(/^[0-9a-f]{16}$/);
    expect(id).not.toBe(incoming);
    expect(req.id).toBe(id);
    expect(headers).toEqual({ 'X-Trace-Id': id });
  });

  it('generates an id when there is no x-request-id, a different one per request', () => {
    const first = assignTraceId(fakeRequest({}), fakeResponse().res);
    const second = assignTraceId(fakeRequest({}), fakeResponse().res);
    expect(first).toMatch(/^[0-9a-f]{16}$/);
    expect(second).toMatch(/^[0-9a-f]{16}$/);
    expect(first).not.toBe(second);
  });

  it('returns the id already set on the request', () => {
    const req = fakeRequest({ 'x-request-id': 'another-well-formed-id' }, 'existing-id-123');
    const { res, headers } = fakeResponse();
    expect(assignTraceId(req, res)).toBe('existing-id-123');
    expect(req.id).toBe('existing-id-123');
    expect(headers).toEqual({});
  });

  it('gives the same id when called twice for one request', () => {
    const req = fakeRequest({});
    const { res } = fakeResponse();
    expect(assignTraceId(req, res)).toBe(assignTraceId(req, res));
  });
});

describe('createRootLogger', () => {
  function captureLines(log: () => void): string[] {
    const chunks: string[] = [];
    const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      return true;
    });
    try {
      log();
    } finally {
      write.mockRestore();
    }
    return chunks.join('').split('\n').filter(Boolean);
  }

  it('redacts credentials in headers and bodies', () => {
    const lines = captureLines(() => {
      const logger = createRootLogger('info');
      logger.info(
        {
          req: { headers: { authorization: 'Bearer abc.def.ghi', 'user-agent': 'vitest' } },
          body: { password: 'hunter2hunter2', refresh_token: 'rt-123', email: 'a@example.com' },
        },
        'request received',
      );
      logger.flush();
    });
    expect(lines).toHaveLength(1);
    const line = lines[0];
    expect(line).not.toContain('abc.def.ghi');
    expect(line).not.toContain('hunter2hunter2');
    expect(line).not.toContain('rt-123');
    expect(line).toContain('[redacted]');

    const entry = JSON.parse(line) as {
      level: string;
      service: string;
      msg: string;
      req: { headers: Record<string, string> };
      body: Record<string, string>;
    };
    expect(entry).toMatchObject({ level: 'info', service: 'cashier', msg: 'request received' });
    expect(entry.req.headers).toEqual({ authorization: '[redacted]', 'user-agent': 'vitest' });
    expect(entry.body).toEqual({ password: '[redacted]', refresh_token: '[redacted]', email: 'a@example.com' });
  });

  it('redacts secrets at the top level, in child bindings and two levels down', () => {
    const lines = captureLines(() => {
      const logger = createRootLogger('info');
      logger.info({ password: 'top-level-pw', token: 'top-tok' }, 'top');
      logger.child({ api_key: 'child-key' }).info('child');
      logger.info({ user: { credentials: { password: 'deep-pw' } } }, 'deep');
      logger.info({ err: { code: 'ECONNREFUSED' } }, 'error codes stay readable');
      logger.flush();
    });
    const text = lines.join('\n');
    for (const secret of ['top-level-pw', 'top-tok', 'child-key', 'deep-pw']) expect(text).not.toContain(secret);
    expect(text).toContain('ECONNREFUSED');
  });

  it('redacts the verification secrets (TOTP secret and URL, tokens, stored hashes and bodies)', () => {
    const lines = captureLines(() => {
      const logger = createRootLogger('info');
      logger.info({ secret: 'JBSWY3DPEHPK3PXP', otpauth_url: 'otpauth://totp/x?secret=JBSWY3DPEHPK3PXQ' }, 'setup');
      logger.info({ data: { verification_token: 'tok-abc', otp: '123456' } }, 'token');
      logger.info({ row: { body_enc: 'v1.sealed', code_hash: 'hash-1', token_hash: 'hash-2' } }, 'row');
      logger.flush();
    });
    const text = lines.join('\n');
    for (const secret of [
      'JBSWY3DPEHPK3PXP',
      'JBSWY3DPEHPK3PXQ',
      'tok-abc',
      '123456',
      'v1.sealed',
      'hash-1',
      'hash-2',
    ]) {
      expect(text).not.toContain(secret);
    }
  });

  it('redacts partner webhook secrets and signatures', () => {
    const lines = captureLines(() => {
      const logger = createRootLogger('info');
      logger.info({ partner: { id: 'PTN-MPESA', webhook_secrets: ['whsec-one-0123456789'] } }, 'row');
      logger.info({ webhookSecrets: ['whsec-two-0123456789'], secrets: ['whsec-three-0123456789'] }, 'seed');
      logger.info({ req: { headers: { 'x-signature': 't=1,v1=deadbeefcafe' } } }, 'webhook');
      logger.flush();
    });
    const text = lines.join('\n');
    for (const secret of ['whsec-one', 'whsec-two', 'whsec-three', 'deadbeefcafe']) expect(text).not.toContain(secret);
    expect(text).toContain('PTN-MPESA');
  });

  it('writes nothing below its level', () => {
    const lines = captureLines(() => {
      const logger = createRootLogger('warn');
      logger.info('not shown');
      logger.warn('shown');
      logger.flush();
    });
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0])).toMatchObject({ level: 'warn', msg: 'shown' });
  });
});
