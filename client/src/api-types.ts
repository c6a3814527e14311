import type { components, paths } from './generated/gateway-api.ts';

/** The gateway's API as its OpenAPI document types it (src/generated/gateway-api.ts, openapi-typescript). */
export type { components, paths };
export type Schemas = components['schemas'];

export type InferRequest = Schemas['InferRequest'];
export type InferResponse = Schemas['InferResponse'];
export type NearestNode = Schemas['NearestNodes']['nodes'][number];
export type NodeDetail = Schemas['NodeDetail'];
export type NodeListPage = Schemas['NodeListPage'];
export type ModelCatalog = Schemas['ModelCatalog'];
export type Usage = Schemas['Usage'];
export type Health = Schemas['Health'];
export type ErrorBody = Schemas['Error'];
export type SignedReceipt = InferResponse['receipt'];

export type Method = 'get' | 'put' | 'post' | 'delete';
export type Path = keyof paths;
/** The methods a path has in the document. */
export type MethodOf<P extends Path> = { [M in Method]: paths[P][M] extends undefined ? never : M }[Method];
export type Operation<P extends Path, M extends MethodOf<P>> = Exclude<paths[P][M], undefined>;

type SuccessStatus = 200 | 201 | 202 | 204;
/** The JSON body of an operation's success answer (undefined for 204 and non-JSON answers). */
export type SuccessBody<O> = O extends { responses: infer R }
  ? {
      [S in keyof R & SuccessStatus]: R[S] extends { content: { 'application/json': infer B } }
        ? B
        : undefined;
    }[keyof R & SuccessStatus]
  : never;
/** An operation's JSON request body, or never. */
export type RequestBody<O> = O extends { requestBody: { content: { 'application/json': infer B } } }
  ? B
  : O extends { requestBody?: { content: { 'application/json': infer B } } }
    ? B
    : never;
type ParamsOf<O> = O extends { parameters: infer P } ? P : never;
export type QueryOf<O> = ParamsOf<O> extends { query?: infer Q } ? Q : never;
export type PathParamsOf<O> = ParamsOf<O> extends { path: infer Q } ? Q : never;
