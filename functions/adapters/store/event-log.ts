/**
 * The event log of a cluster in its partition: gap-free, idempotent appends by event id, and pages in seq order.
 * See docs/store.md "Event log" for the algorithm and why it is gap-free and idempotent.
 *
 * Note: two item kinds per event. The claim `EVENTID#<id>` holds the seq this id is trying to occupy; the log item
 * `EVENT#<seq>` is immutable once written. A claim for seq s is only ever made when the log item s-1 exists.
 *
 * Its own file because the append is the store's one lock-free multi-request algorithm: every request in it is a
 * crash point test/adapters/dynamodb-store.test.ts covers, so it reads best with nothing else around it.
 */
import type { ClusterEvent, NewEvent } from '../../domain/machine.js';
import { StoreConflictError, ValidationError } from '../../domain/errors.js';
import type { Page } from '../../domain/ports.js';
import { K, N, S, SEQ_DIGITS, readDoc, readN } from './item-codec.js';
import { pageLimit } from './pagination.js';
import type { StoreTable } from './store-table.js';

/** How many collisions one event append survives before giving up with StoreConflictError. */
const MAX_APPEND_ATTEMPTS = 500;

/** Appends `events` to the log of `cluster` in order; events already in the log are returned as stored. */
export async function appendEvents(table: StoreTable, cluster: string, events: readonly NewEvent[]): Promise<ClusterEvent[]> {
  const pk = K.clusterPk(cluster);
  // Callers re-append on purpose (same ids after a retry or a crash): events already in the log are found with
  // two batched reads instead of four round trips each.
  const known = await appendedEvents(table, pk, events.map((e) => e.id));
  const stored: ClusterEvent[] = [];
  let hint: number | undefined;
  for (const event of events) {
    const result = known.get(event.id) ?? (await appendOne(table, pk, event, hint));
    stored.push(result);
    if (!known.has(event.id)) hint = result.seq + 1; // L(result.seq) exists, so claiming the next seq can never leave a gap
  }
  return stored;
}

/** One page of the log of `cluster`: the events with seq after `after`, in order; `next` is the last seq. */
export async function listEvents(table: StoreTable, cluster: string, options: { readonly after?: number; readonly limit?: number }): Promise<Page<ClusterEvent>> {
  const limit = pageLimit(options.limit);
  const after = options.after ?? 0;
  if (!Number.isSafeInteger(after) || after < 0) {
    throw new ValidationError([{ path: 'after', message: `must be a non-negative integer, got ${after}` }]);
  }
  const items = await table.queryUpTo(
    {
      KeyConditionExpression: 'PK = :pk AND SK BETWEEN :from AND :to',
      ExpressionAttributeValues: {
        ':pk': S(K.clusterPk(cluster)),
        ':from': S(K.eventSk(after + 1)),
        ':to': S(K.eventSk(10 ** SEQ_DIGITS - 1)),
      },
      ConsistentRead: true,
    },
    limit + 1,
    'listEvents',
  );
  const events = items.slice(0, limit).map((item) => readDoc<ClusterEvent>(item));
  const last = events[events.length - 1];
  return items.length > limit && last ? { items: events, next: String(last.seq) } : { items: events };
}

/**
 * The events among `ids` that are in the log (claim present and the log item at its seq holding that id): a
 * consistent BatchGetItem of the claims, then one of the log items they point at. An id claimed but not (yet)
 * written, or whose claim points at another event, is left to `appendOne`, which completes or moves it.
 */
async function appendedEvents(table: StoreTable, pk: string, ids: readonly string[]): Promise<Map<string, ClusterEvent>> {
  const found = new Map<string, ClusterEvent>();
  const unique = new Set(ids);
  const claims = await table.batchGet([...unique].map((id) => ({ PK: S(pk), SK: S(K.eventIdSk(id)) })), 'appendEvents');
  if (claims.length === 0) return found;
  const seqs = [...new Set(claims.map((item) => readN(item, 'seq')))];
  const logged = await table.batchGet(seqs.map((seq) => ({ PK: S(pk), SK: S(K.eventSk(seq)) })), 'appendEvents');
  for (const item of logged) {
    const event = readDoc<ClusterEvent>(item);
    if (unique.has(event.id)) found.set(event.id, event);
  }
  return found;
}

/** Appends one event (see the module note): claim a seq for its id, then write the log item at the claimed seq. */
async function appendOne(table: StoreTable, pk: string, event: NewEvent, hint: number | undefined): Promise<ClusterEvent> {
  const first = hint ?? (await headSeq(table, pk)) + 1;
  let claim: number | undefined;
  let existingClaim: number | undefined;
  // A failed claim whose item then reads as absent (deleted meanwhile, or a spurious condition failure) is
  // claimed again rather than given up on.
  for (let attempt = 0; attempt < 3 && claim === undefined && existingClaim === undefined; attempt += 1) {
    const claimed = await table.conditionalPut(
      { PK: S(pk), SK: S(K.eventIdSk(event.id)), seq: N(first) },
      'attribute_not_exists(PK)',
      {},
      'appendEvents',
    );
    if (claimed) claim = first;
    else existingClaim = await readClaimIfAny(table, pk, event.id);
  }
  if (claim === undefined) {
    // The id was claimed before (a retry, or a concurrent appender of the same id).
    claim = existingClaim ?? (await readClaim(table, pk, event.id));
    const existing = await getLogEvent(table, pk, claim);
    if (existing?.id === event.id) return existing;
    if (existing) claim = await reclaim(table, pk, event.id, claim);
  }
  for (let attempt = 0; attempt < MAX_APPEND_ATTEMPTS; attempt += 1) {
    const stored: ClusterEvent = { ...event, seq: claim };
    const written = await table.conditionalPut(
      { PK: S(pk), SK: S(K.eventSk(claim)), eventId: S(event.id), doc: S(JSON.stringify(stored)) },
      'attribute_not_exists(PK)',
      {},
      'appendEvents',
    );
    if (written) return stored;
    const existing = await getLogEvent(table, pk, claim);
    if (existing?.id === event.id) return existing; // a concurrent appender of the same id wrote it
    claim = await reclaim(table, pk, event.id, claim);
  }
  throw new StoreConflictError(`events of ${pk}: gave up appending "${event.id}" after ${MAX_APPEND_ATTEMPTS} collisions`);
}

/** Moves the claim of `id` from `old` (occupied by another event) to the seq after the current head. */
async function reclaim(table: StoreTable, pk: string, id: string, old: number): Promise<number> {
  const next = (await headSeq(table, pk)) + 1;
  const moved = await table.conditionalUpdate(
    { PK: S(pk), SK: S(K.eventIdSk(id)) },
    'SET seq = :next',
    'seq = :old',
    { ':next': N(next), ':old': N(old) },
    'appendEvents',
  );
  return moved ? next : readClaim(table, pk, id); // a concurrent appender of the same id moved it first
}

async function readClaim(table: StoreTable, pk: string, id: string): Promise<number> {
  const seq = await readClaimIfAny(table, pk, id);
  if (seq === undefined) throw new StoreConflictError(`events of ${pk}: the claim of "${id}" vanished (cluster deleted meanwhile?)`);
  return seq;
}

async function readClaimIfAny(table: StoreTable, pk: string, id: string): Promise<number | undefined> {
  const item = await table.get(pk, K.eventIdSk(id), 'appendEvents');
  return item ? readN(item, 'seq') : undefined;
}

async function getLogEvent(table: StoreTable, pk: string, seq: number): Promise<ClusterEvent | undefined> {
  const item = await table.get(pk, K.eventSk(seq), 'appendEvents');
  return item ? readDoc<ClusterEvent>(item) : undefined;
}

/** Seq of the last log item (0 when the log is empty): a strongly consistent reverse query of one item. */
async function headSeq(table: StoreTable, pk: string): Promise<number> {
  const output = await table.query(
    {
      KeyConditionExpression: 'PK = :pk AND begins_with(SK, :prefix)',
      ExpressionAttributeValues: { ':pk': S(pk), ':prefix': S(K.eventPrefix) },
      ProjectionExpression: 'SK',
      ScanIndexForward: false,
      Limit: 1,
      ConsistentRead: true,
    },
    'appendEvents',
  );
  const sk = output.Items?.[0]?.SK?.S;
  return sk === undefined ? 0 : Number(sk.slice(K.eventPrefix.length));
}
