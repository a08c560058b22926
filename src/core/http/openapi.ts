// The OpenAPI document of the REST API, built from the controllers: served at /api/docs (and
// /api/docs/json), and rendered into docs/rest.md by scripts/rest-docs.mjs. Routes describe
// themselves with @ApiOperation, @ApiAnswer and @ApiErrors; what every authenticated route can
// answer (401, 429) is added here, once, from the route's security.
import { applyDecorators, type INestApplication } from '@nestjs/common';
import { ApiResponse, DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { ERROR_STATUS, type ErrorCode } from '../errors/error-codes.js';

/** The security scheme of partner webhooks (their signature header). */
export const PARTNER_SIGNATURE = 'partner-signature';

/** The error body every route answers with (HttpExceptionFilter). */
const ERROR_BODY = {
  type: 'object',
  required: ['status_code', 'message', 'code', 'trace_id', 'data'],
  properties: {
    status_code: { type: 'integer', example: 400 },
    message: { type: 'string', example: 'amount must be greater than zero' },
    code: { type: 'string', example: 'VALIDATION_FAILED' },
    trace_id: { type: 'string', example: '4bf92f3577b34da6' },
    data: { type: 'object', nullable: true, example: { field: 'amount' } },
  },
};

/** Where a description lists codes: "`CONFLICT`, `NOT_FOUND`". */
const codeList = (codes: readonly string[]) => codes.map((code) => `\`${code}\``).join(', ');

/**
 * The success answer of a route, in the notation of the docs (`{id, email, channel}`; `?` marks
 * what may be absent).
 */
export const ApiAnswer = (status: number, shape: string) => ApiResponse({ status, description: shape });

/**
 * The error codes a route answers beyond what every route can (docs/errors.md: INVALID_REQUEST,
 * PAYLOAD_TOO_LARGE, INTERNAL, SERVICE_UNAVAILABLE; and UNAUTHORIZED and RATE_LIMIT_EXCEEDED on
 * every authenticated route, added by createOpenApiDocument). Give them all in one call: a second
 * call would replace the first one's codes of the same status.
 */
export function ApiErrors(...codes: ErrorCode[]) {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of codes) byStatus.set(ERROR_STATUS[code], [...(byStatus.get(ERROR_STATUS[code]) ?? []), code]);
  return applyDecorators(
    ...[...byStatus].map(([status, list]) => ApiResponse({ status, description: codeList(list), schema: ERROR_BODY })),
  );
}

/** Adds `code` to the documented answers of `status` of an operation. */
function addError(operation: { responses: Record<string, { description?: string }> }, code: ErrorCode): void {
  const status = String(ERROR_STATUS[code]);
  const existing = operation.responses[status];
  if (!existing) {
    operation.responses[status] = { description: codeList([code]), schema: ERROR_BODY } as never;
  } else if (!existing.description?.includes(`\`${code}\``)) {
    existing.description = existing.description ? `${existing.description}, ${codeList([code])}` : codeList([code]);
  }
}

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'options', 'head'] as const;

/** The document of `app`'s routes (its global prefix set), with the answers every route shares. */
export function createOpenApiDocument(app: INestApplication): OpenAPIObject {
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('cashier')
      .setDescription(
        'Realtime wallet, payments and exchange API: the REST part. The realtime part (socket.io and the ' +
          'plain WebSockets) is described at /docs/ws (AsyncAPI), and everything in the docs/ folder of the repository.',
      )
      .setVersion('1')
      .addBearerAuth()
      .addApiKey(
        {
          type: 'apiKey',
          in: 'header',
          name: 'X-Signature',
          description: 't=<unix seconds>,v1=<hex HMAC-SHA256(secret, t + "." + raw body)>',
        },
        PARTNER_SIGNATURE,
      )
      .build(),
  );
  for (const item of Object.values(document.paths)) {
    for (const method of METHODS) {
      const operation = item[method];
      if (!operation?.security?.some((requirement) => 'bearer' in requirement)) continue;
      // The global JwtAuthGuard: every route that takes a bearer token. The RequestBudgetGuard:
      // the same routes, except those only administrators may call (they are not budgeted).
      addError(operation as never, 'UNAUTHORIZED');
      const adminOnly = (operation.responses['403'] as { description?: string } | undefined)?.description?.includes(
        '`FORBIDDEN`',
      );
      if (!adminOnly) addError(operation as never, 'RATE_LIMIT_EXCEEDED');
    }
  }
  return document;
}

/** Serves the document at /api/docs (Swagger UI) and /api/docs/json. */
export function serveOpenApi(app: INestApplication): void {
  SwaggerModule.setup('api/docs', app, () => createOpenApiDocument(app), { jsonDocumentUrl: 'api/docs/json' });
}
