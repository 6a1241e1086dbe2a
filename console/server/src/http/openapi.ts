import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { z } from 'zod';

/** A zod schema as the OpenAPI document's request body. */
export const bodySchema = (schema: z.ZodType) => {
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  delete json.$schema;
  return { schema: json };
};

/** /docs (Swagger UI) and /docs/openapi.json: the console's own federation API. */
export function serveOpenApi(app: INestApplication): void {
  const doc = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Wharf console API')
      .setDescription(
        'The federation API across data centers. Sign in with POST /api/v1/session; browsers use the cookie and send X-CSRF-Token on every change, scripts send the session as a bearer token.',
      )
      .setVersion('v1')
      .addBearerAuth()
      .addCookieAuth('wharf_session')
      .build(),
  );
  SwaggerModule.setup('docs', app, doc, { jsonDocumentUrl: 'docs/openapi.json' });
}
