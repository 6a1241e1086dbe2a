import type { DescMessage, DescService, MessageInitShape, MessageShape } from '@bufbuild/protobuf';

type AnyMethod = { methodKind: string; input: DescMessage; output: DescMessage };

/** What a handler knows about its call. */
export interface CallContext {
  /** Request metadata, lower-cased keys (first value of each). */
  readonly metadata: Readonly<Record<string, string>>;
  /** Aborted when the client cancels or the deadline passes. */
  readonly signal: AbortSignal;
  readonly peer: string;
  /** The caller's identity, proven by its certificate (undefined without TLS). */
  readonly identity?: string;
}

type In<M extends AnyMethod> = MessageShape<M['input']>;
type Out<M extends AnyMethod> = MessageInitShape<M['output']>;

export type MethodImpl<M extends AnyMethod> = M['methodKind'] extends 'unary'
  ? (request: In<M>, ctx: CallContext) => Promise<Out<M>>
  : M['methodKind'] extends 'server_streaming'
    ? (request: In<M>, ctx: CallContext) => AsyncIterable<Out<M>>
    : M['methodKind'] extends 'client_streaming'
      ? (requests: AsyncIterable<In<M>>, ctx: CallContext) => Promise<Out<M>>
      : (requests: AsyncIterable<In<M>>, ctx: CallContext) => AsyncIterable<Out<M>>;

/** An implementation of every method of a generated service, typed from its descriptor. */
export type ServiceImpl<S extends DescService> = {
  [K in keyof S['method']]: S['method'][K] extends AnyMethod ? MethodImpl<S['method'][K]> : never;
};

export interface CallOptions {
  /** Deadline relative to now. */
  timeoutMs?: number;
  /** Cancels the call. */
  signal?: AbortSignal;
  metadata?: Record<string, string>;
}

type CIn<M extends AnyMethod> = MessageInitShape<M['input']>;
type COut<M extends AnyMethod> = MessageShape<M['output']>;

export type MethodClient<M extends AnyMethod> = M['methodKind'] extends 'unary'
  ? (request: CIn<M>, options?: CallOptions) => Promise<COut<M>>
  : M['methodKind'] extends 'server_streaming'
    ? (request: CIn<M>, options?: CallOptions) => AsyncIterable<COut<M>>
    : M['methodKind'] extends 'client_streaming'
      ? (requests: AsyncIterable<CIn<M>>, options?: CallOptions) => Promise<COut<M>>
      : (requests: AsyncIterable<CIn<M>>, options?: CallOptions) => AsyncIterable<COut<M>>;

/** A typed client: one method per rpc, named as in the generated descriptor (lowerCamel). */
export type ServiceClient<S extends DescService> = {
  [K in keyof S['method']]: S['method'][K] extends AnyMethod ? MethodClient<S['method'][K]> : never;
} & { close(): void };
