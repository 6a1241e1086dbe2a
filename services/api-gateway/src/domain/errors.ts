/** Errors the API answers with; the HTTP layer maps them to status codes. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

export const badRequest = (field: string, reason: string) => new ApiError(400, 'invalid', `${field}: ${reason}`, field);
export const unauthenticated = () => new ApiError(401, 'unauthenticated', 'a valid bearer token is required (Authorization: Bearer wharf_...)');
export const forbidden = (what: string) => new ApiError(403, 'forbidden', what);
export const notFound = (what: string) => new ApiError(404, 'not_found', `${what} not found`);
export const conflict = (message: string, code = 'conflict') => new ApiError(409, code, message);
