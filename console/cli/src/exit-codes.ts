/** What `wharf` exits with; scripts can tell these apart. */
export const EXIT = {
  ok: 0,
  /** The operation ran and failed (build, deploy, ...): its failing step's message is printed. */
  operationFailed: 1,
  /** Bad input: an unknown flag, a malformed argument, or the API refused the input (its field named). */
  usage: 2,
  /** Not signed in, or the token/session was refused. */
  auth: 3,
  /** No such tenant, app, component, operation or data center (or not visible to you). */
  notFound: 4,
  /** The data center or console could not be reached, or answered 503. */
  unavailable: 5,
  /** A conflicting change or operation (409): retry after it. */
  conflict: 6,
  /** Not allowed (403). */
  forbidden: 7,
  /** Ctrl-C while following: detached, the operation goes on. */
  detached: 130,
} as const;

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

/** The exit code of an API error answer. */
export function exitCodeOf(status: number): number {
  if (status === 400 || status === 422) return EXIT.usage;
  if (status === 401) return EXIT.auth;
  if (status === 403) return EXIT.forbidden;
  if (status === 404) return EXIT.notFound;
  if (status === 409) return EXIT.conflict;
  if (status === 429 || status >= 500) return EXIT.unavailable;
  return EXIT.operationFailed;
}
