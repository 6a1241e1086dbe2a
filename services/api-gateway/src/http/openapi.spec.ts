import { z } from 'zod';
import { operationSchema } from '../domain/schemas';
import { openApiSchema } from './openapi';

describe('openApiSchema', () => {
  it('shows a discriminated union as a oneOf with its discriminator and one-value enums (OpenAPI 3.0)', () => {
    const s = openApiSchema(operationSchema, 'kind') as {
      oneOf: { properties: { kind: object }; required: string[] }[];
      discriminator: object;
      $schema?: string;
    };
    expect(s.$schema).toBeUndefined();
    expect(s.discriminator).toEqual({ propertyName: 'kind' });
    expect(s.oneOf).toHaveLength(11);
    const scale = s.oneOf.find((k) => JSON.stringify(k.properties.kind).includes('"scale"'))!;
    expect(scale.properties.kind).toEqual({ type: 'string', enum: ['scale'] });
    expect(scale.required).toEqual(['kind', 'replicas']);
  });

  it('leaves a plain object as it is', () => {
    expect(openApiSchema(z.object({ name: z.string() }).strict())).toEqual({
      type: 'object',
      properties: { name: { type: 'string' } },
      required: ['name'],
      additionalProperties: false,
    });
  });
});
