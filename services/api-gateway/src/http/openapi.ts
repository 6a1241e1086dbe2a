import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { z } from 'zod';

type JsonSchema = { [key: string]: unknown };

/**
 * A zod schema as an OpenAPI 3.0 schema: a discriminated union (the operation kinds) as
 * a oneOf with its discriminator, so the document shows each kind's arguments; `const`
 * (3.1) as a one-value enum.
 */
export function openApiSchema(schema: z.ZodType, discriminator?: string): object {
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  delete json.$schema;
  const rewrite = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(rewrite);
    if (!node || typeof node !== 'object') return node;
    const out: JsonSchema = {};
    for (const [k, v] of Object.entries(node)) {
      if (k === 'const') out.enum = [v];
      else out[k] = rewrite(v);
    }
    return out;
  };
  const out = rewrite(json) as JsonSchema;
  if (discriminator && Array.isArray(out.anyOf)) {
    out.oneOf = out.anyOf;
    delete out.anyOf;
    out.discriminator = { propertyName: discriminator };
  }
  return out;
}

/** For @ApiBody(bodySchema(...)). */
export const bodySchema = (schema: z.ZodType, discriminator?: string) => ({ schema: openApiSchema(schema, discriminator) });

/** /docs (Swagger UI) and /docs/openapi.json. */
export function serveOpenApi(app: INestApplication): void {
  const doc = SwaggerModule.createDocument(app, new DocumentBuilder().setTitle('Wharf API').setVersion('v1').addBearerAuth().build());
  SwaggerModule.setup('docs', app, doc, { jsonDocumentUrl: 'docs/openapi.json' });
}
