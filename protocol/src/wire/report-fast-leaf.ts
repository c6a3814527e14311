/**
 * The batch leaf hashes of a receipt report that passed the fast check (isFastSignedReport), written
 * by a serializer that knows the report's shape: canonical JSON (canonical.ts, the same bytes as
 * `canonicalUtf8View`) with each object's keys written in their sorted order from a fixed list instead
 * of `Object.keys` and a sort per object, strings the fast check matched against a pattern (ids,
 * hashes, signatures, nonces) copied without an escape check, and the forwarded receipt's body written
 * once: its leaf is hashed from the same bytes inside the report's. Nothing is allocated per value
 * (the writer's views of its buffer, one per string, were a sixth of a receipt's garbage).
 *
 * Only sound behind the fast check, which guarantees what the fixed key lists rely on: plain objects
 * whose keys are all in the schema's list, none undefined, no other value types.
 * canonicalUtf8View stays the spec; report-fast-leaf.test.ts checks the two agree byte for byte on the
 * fast check's adversarial inputs.
 */
import { BATCH_SIGNED_VERSION } from '../batch/batch-signing.ts';
import type { Sha256Hex } from '../encoding.ts';

const encoder = new TextEncoder();
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
/** Grown by doubling for a large report; one past this size is not kept (it must not pin megabytes). */
const MAX_KEPT_BYTES = 1 << 20;
let shared: Uint8Array = new Uint8Array(16_384);
/** Set while `shared` is being written: a reentrant call (a getter's) gets a buffer of its own. */
let busy = false;

const REPORT_PREFIX = '\u0000hexedge/v1/report\n';
const RECEIPT_PREFIX = '\u0000hexedge/v1/receipt\n';

type Obj = Record<string, unknown>;

class Writer {
  buf: Uint8Array;
  at = 0;
  /** Where the forwarded receipt's body starts and ends when it is batch-signed (its leaf's bytes), else -1. */
  receiptStart = -1;
  receiptEnd = -1;

  constructor(buf: Uint8Array) {
    this.buf = buf;
  }

  ensure(bytes: number): void {
    if (this.at + bytes <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.at + bytes) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.at));
    this.buf = next;
  }

  /** ASCII text: the constant key and punctuation runs, number forms, prefixes. */
  ascii(text: string): void {
    const n = text.length;
    this.ensure(n);
    const { buf } = this;
    let at = this.at;
    for (let i = 0; i < n; i++) buf[at++] = text.charCodeAt(i);
    this.at = at;
  }

  /** A string the fast check matched against a pattern of unescaped ASCII (base64url, hex). */
  plain(text: string): void {
    const n = text.length;
    this.ensure(n + 2);
    const { buf } = this;
    let at = this.at;
    buf[at++] = QUOTE;
    for (let i = 0; i < n; i++) buf[at++] = text.charCodeAt(i);
    buf[at++] = QUOTE;
    this.at = at;
  }

  /** Any string, as canonicalUtf8View writes it (JSON.stringify's escapes, as UTF-8). */
  string(text: string): void {
    const n = text.length;
    this.ensure(n + 2);
    const { buf } = this;
    const start = this.at;
    let at = start;
    buf[at++] = QUOTE;
    for (let i = 0; i < n; i++) {
      const c = text.charCodeAt(i);
      if (c < 0x20 || c > 0x7e || c === QUOTE || c === BACKSLASH) {
        const quoted = JSON.stringify(text);
        this.at = start;
        this.ensure(quoted.length * 3);
        this.at += encoder.encodeInto(quoted, this.buf.subarray(this.at)).written;
        return;
      }
      buf[at++] = c;
    }
    buf[at++] = QUOTE;
    this.at = at;
  }

  /** A finite number as canonical JSON writes it (ECMAScript's ToString; −0 as "0"). */
  number(value: number): void {
    if (value >= 0 && value <= 0x3fffffff && (value | 0) === value) return this.smallInt(value);
    this.ascii('' + value);
  }

  smallInt(value: number): void {
    let v = value;
    let digits = 1;
    for (let p = 10; p <= v; p *= 10) digits++;
    this.ensure(digits);
    const { buf } = this;
    const end = this.at + digits;
    for (let i = end - 1; i >= this.at; i--) {
      const d = v % 10;
      buf[i] = 0x30 + d;
      v = (v - d) / 10;
    }
    this.at = end;
  }

  /** A tensor's data entry: a finite number, a string or a boolean (the fast check's rule). */
  scalar(value: unknown): void {
    if (typeof value === 'number') this.number(value);
    else if (typeof value === 'string') this.string(value);
    else this.ascii(value ? 'true' : 'false');
  }

  /** `[` then `,`-separated entries, without the closing `]`: the caller closes it with the next run. */
  intArray(list: readonly unknown[]): void {
    this.ascii('[');
    for (let i = 0; i < list.length; i++) {
      if (i > 0) this.ascii(',');
      this.number(list[i] as number);
    }
  }
}

/** An object's keys in sorted order, with the text before each member: first, and after another. */
interface Members {
  keys: readonly string[];
  first: readonly string[];
  next: readonly string[];
}
const membersOf = (...keys: string[]): Members => ({
  keys,
  first: keys.map((k) => `"${k}":`),
  next: keys.map((k) => `,"${k}":`),
});

/** Writes `{ "k": … }` for the keys of `m` that `o` has, in their sorted order; `write` writes each value. */
function members(w: Writer, o: Obj, m: Members, write: (w: Writer, key: string, v: unknown) => void) {
  w.ascii('{');
  let first = true;
  for (let i = 0; i < m.keys.length; i++) {
    const key = m.keys[i]!;
    const v = o[key];
    if (v === undefined) continue;
    w.ascii(first ? m.first[i]! : m.next[i]!);
    first = false;
    write(w, key, v);
  }
  w.ascii('}');
}

function tensors(w: Writer, list: readonly Obj[]): void {
  w.ascii('[');
  for (let i = 0; i < list.length; i++) {
    const t = list[i]!;
    const data = t.data as readonly unknown[];
    w.ascii(i > 0 ? ',{"data":[' : '{"data":[');
    for (let k = 0; k < data.length; k++) {
      if (k > 0) w.ascii(',');
      w.scalar(data[k]);
    }
    w.ascii('],"datatype":');
    w.string(t.datatype as string);
    w.ascii(',"name":');
    w.string(t.name as string);
    w.ascii(',"shape":');
    w.intArray(t.shape as readonly unknown[]);
    w.ascii(']}');
  }
  w.ascii(']');
}

function receiptBody(w: Writer, b: Obj): void {
  w.ascii('{"inputDigest":');
  w.plain(b.inputDigest as string);
  w.ascii(',"issuedAtMs":');
  w.number(b.issuedAtMs as number);
  w.ascii(',"modelContentId":');
  w.plain(b.modelContentId as string);
  w.ascii(',"modelName":');
  w.string(b.modelName as string);
  w.ascii(',"modelVersion":');
  w.string(b.modelVersion as string);
  w.ascii(',"nodeId":');
  w.plain(b.nodeId as string);
  w.ascii(',"outputDigest":');
  w.plain(b.outputDigest as string);
  w.ascii(',"requestId":');
  w.string(b.requestId as string);
  w.ascii(',"serviceTimeMs":');
  w.number(b.serviceTimeMs as number);
  w.ascii('}');
}

/** The batch proof (index, proof, signed root): proof entries are only length-checked, so escape-checked here. */
function batchProof(w: Writer, p: Obj): void {
  w.ascii('{"index":');
  w.number(p.index as number);
  w.ascii(',"proof":[');
  const proof = p.proof as readonly string[];
  for (let i = 0; i < proof.length; i++) {
    if (i > 0) w.ascii(',');
    w.string(proof[i]!);
  }
  const root = p.root as Obj;
  const body = root.body as Obj;
  w.ascii('],"root":{"body":{"issuedAtMs":');
  w.number(body.issuedAtMs as number);
  w.ascii(',"leafCount":');
  w.number(body.leafCount as number);
  w.ascii(',"nodeId":');
  w.plain(body.nodeId as string);
  w.ascii(',"root":');
  w.plain(body.root as string);
  w.ascii('},"signature":');
  w.plain(root.signature as string);
  w.ascii('}}');
}

const REQUEST_KEYS = membersOf('inputs', 'kind', 'modelName', 'modelVersion');
const RESULT_KEYS = membersOf('kind', 'outputs');
const CONTEXT_KEYS = membersOf('deadlineMs', 'priority', 'traceparent');

const requestOrResult = (w: Writer, key: string, v: unknown): void => {
  if (key === 'inputs' || key === 'outputs') tensors(w, v as Obj[]);
  else w.string(v as string);
};
const contextValue = (w: Writer, key: string, v: unknown): void => {
  if (key === 'deadlineMs') w.number(v as number);
  else w.string(v as string);
};

/** The report body's canonical JSON after the report prefix (and where a batch-signed receipt's body is in it). */
function reportBody(w: Writer, b: Obj): void {
  w.ascii('{');
  if (b.context !== undefined) {
    w.ascii('"context":');
    members(w, b.context as Obj, CONTEXT_KEYS, contextValue);
    w.ascii(',');
  }
  w.ascii('"issuedAtMs":');
  w.number(b.issuedAtMs as number);
  w.ascii(',"nodeId":');
  w.plain(b.nodeId as string);
  w.ascii(',"nonce":');
  w.plain(b.nonce as string);
  const receipt = b.receipt as Obj;
  if (receipt.v === BATCH_SIGNED_VERSION) {
    w.ascii(',"receipt":{"batch":');
    batchProof(w, receipt.batch as Obj);
    w.ascii(',"body":');
    w.receiptStart = w.at;
    receiptBody(w, receipt.body as Obj);
    w.receiptEnd = w.at;
    w.ascii(',"v":2}');
  } else {
    w.ascii(',"receipt":{"body":');
    receiptBody(w, receipt.body as Obj);
    w.ascii(',"signature":');
    w.plain(receipt.signature as string);
    w.ascii('}');
  }
  w.ascii(',"request":');
  members(w, b.request as Obj, REQUEST_KEYS, requestOrResult);
  w.ascii(',"result":');
  members(w, b.result as Obj, RESULT_KEYS, requestOrResult);
  w.ascii(',"type":"receipt"}');
}

/** A receipt report's batch leaf hash, and its forwarded receipt's when that is batch-signed. */
export interface FastReportLeaves {
  report: string;
  receipt: string | undefined;
}

/**
 * The leaf hash of a batch-signed receipt report's body and, when its forwarded receipt is
 * batch-signed too, of that receipt's body: `batchLeafHash('report', report.body)` and
 * `batchLeafHash('receipt', report.body.receipt.body)`. Only for a report that passed
 * isFastSignedReport, and only with a synchronous hash that reads its input before returning
 * (node:crypto's, marked by `utf8`); otherwise undefined, and the caller hashes the generic way.
 */
export function fastReceiptReportLeaves(report: unknown, sha256: Sha256Hex): FastReportLeaves | undefined {
  if (!sha256.utf8 || (report as Obj).v !== BATCH_SIGNED_VERSION) return undefined;
  if (busy) return leaves(new Writer(new Uint8Array(1024)), report as Obj, sha256);
  busy = true;
  try {
    const w = new Writer(shared);
    const result = leaves(w, report as Obj, sha256);
    if (w.buf.length <= MAX_KEPT_BYTES) shared = w.buf;
    return result;
  } finally {
    busy = false;
  }
}

function leaves(w: Writer, report: Obj, sha256: Sha256Hex): FastReportLeaves | undefined {
  w.ascii(REPORT_PREFIX);
  reportBody(w, report.body as Obj);
  const { receiptStart: start, receiptEnd: end } = w;
  const reportEnd = w.at;
  if (start >= 0) {
    // The receipt's leaf: its prefix, then its body's bytes copied from inside the report's.
    w.ascii(RECEIPT_PREFIX);
    w.ensure(end - start);
    w.buf.copyWithin(w.at, start, end);
    w.at += end - start;
  }
  const reportLeaf = sha256(w.buf.subarray(0, reportEnd));
  const receiptLeaf = start >= 0 ? sha256(w.buf.subarray(reportEnd, w.at)) : undefined;
  if (typeof reportLeaf !== 'string' || (receiptLeaf !== undefined && typeof receiptLeaf !== 'string'))
    return undefined;
  return { report: reportLeaf, receipt: receiptLeaf };
}
