import type { FastifyInstance, FastifyRequest } from 'fastify';

/** The largest request body the API takes (then 413). */
export const BODY_LIMIT_BYTES = 1024 * 1024;

/** A refused body, with the status and the words the error filter answers with. */
class BodyError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
  }
}

/** The request as parsed here: rawBody is the exact bytes (what a webhook's signature covers). */
export type RequestWithRawBody = FastifyRequest & { rawBody?: Buffer };

/**
 * The API's only body format is JSON. Bodies are read as bytes (bounded) so the exact bytes stay
 * on the request, then parsed with fastify's own parser (which refuses __proto__ and constructor
 * poisoning). An empty body with a JSON content type is no body, as body-parser treated it:
 * clients send that on actions without arguments. Any other content type is 415 naming what is taken.
 * JSON bodies of paths for which `keepRaw` holds (webhook deliveries) are kept as bytes only,
 * unparsed: their route checks the signature over those bytes before it reads them.
 */
export function acceptJsonBodies(server: FastifyInstance, options: { keepRaw?: (url: string) => boolean } = {}): void {
  server.removeAllContentTypeParsers();
  const parse = server.getDefaultJsonParser('error', 'error');
  const raw = (req: FastifyRequest) => options.keepRaw?.(req.url) === true;
  server.addContentTypeParser(/^application\/([\w.+-]+\+)?json(\s*;.*)?$/i, { parseAs: 'buffer', bodyLimit: BODY_LIMIT_BYTES }, (req, body: Buffer, done) => {
    (req as RequestWithRawBody).rawBody = body;
    if (body.length === 0 || raw(req)) return done(null, undefined);
    void parse(req, body.toString('utf8'), (err, value) => (err ? done(new BodyError(400, 'body: malformed JSON'), undefined) : done(null, value)));
  });
  server.addContentTypeParser('*', (req, _payload, done) =>
    done(new BodyError(415, `body: content type ${JSON.stringify(req.headers['content-type'] ?? '')} is not taken; send application/json`), undefined),
  );
}
