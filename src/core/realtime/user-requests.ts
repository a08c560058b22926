// The requests of `/user` (contract sections 3 and 5): for each request type, the body it takes and
// the data of its success reply. This is the one source both ends are typed from:
// - each module declares its requests next to its gateway, by declaration merging (as it declares
//   its events in RealtimeEventMap), and its handlers carry @UserRequest('type'), which the type
//   checker holds to the declared body and reply;
// - the typed client (client/) imports these types (type-only, through src/realtime-contract.ts),
//   so a request or reply changed on the server fails the client's type check instead of drifting.
// Types only: nothing here runs, so the client's browser bundle takes nothing from the server.

/**
 * Request type → `{ body, reply }`: `body` is the request DTO (`void` for a request without one),
 * `reply` the `data` of the success envelope. Extended by declaration merging, each gateway
 * naming its own requests in an exported interface:
 *
 *   export interface TransfersRequests { transfer: { body: TransferRequestDto; reply: TransferResult } }
 *   declare module '../../core/realtime/user-requests.js' {
 *     interface UserRequestMap extends TransfersRequests {}
 *   }
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- extended by declaration merging
export interface UserRequestMap {}

export type UserRequestType = Extract<keyof UserRequestMap, string>;

export type UserRequestBody<K extends UserRequestType> = UserRequestMap[K] extends { body: infer B } ? B : never;

export type UserReplyData<K extends UserRequestType> = UserRequestMap[K] extends { reply: infer R } ? R : never;

/** The request types whose body takes an `idempotency_key` (the money-moving ones, contract §3). */
export type IdempotentRequestType = {
  [K in UserRequestType]: 'idempotency_key' extends keyof UserRequestBody<K> ? K : never;
}[UserRequestType];
