/**
 * Simulated edge nodes: where they are (and claim to be), their hardware, models, speed, price,
 * honesty and background load; Ed25519 identities from node:crypto (key generation and signing there
 * are ~10× faster than WebCrypto; keys derived from the run's seed), signing the exact bytes
 * `signingInput` defines.
 */
import { greatCircleDistanceKm, signingInput, type Hardware, type LatLng, type NodeModel, type SignedRegistration } from '@hexedge/protocol';
import { createPrivateKey, createPublicKey, sign, type KeyObject } from 'node:crypto';
import { logNormal, type Rng } from './random.ts';
import { MODELS, type ModelSpec } from './world.ts';
import type { SybilRole } from './adversary/roles.ts';

export interface SimNode {
  index: number;
  id: string;
  privateKey: KeyObject;
  trueLocation: LatLng;
  claimedLocation: LatLng;
  gpu: boolean;
  hardware: Hardware;
  /** Parallel execution slots (cores on a CPU node, streams on a GPU). */
  slots: number;
  /** Node-specific slowdown (thermal limits, older silicon): service time = model's × speed. */
  speed: number;
  price: number;
  /** Share of answers it fakes; 0 for an honest node. */
  lieRate: number;
  /** Relative background demand on it (its neighbourhood, its operator's own customers). */
  popularity: number;
  heartbeatPhaseMs: number;
  /** Models held: name → ready. */
  models: Map<string, boolean>;
  state: 'up' | 'crashed' | 'blackholed' | 'left';
  /** Next failure (or Infinity): the registry is told its last heartbeat before it. */
  nextFailureAtMs: number;
  registeredAtMs: number;
  lastReported: string;
  /** Adversary mode: what a sybil does (undefined: an honest node). */
  role?: SybilRole;
  /** Adversary mode: a node with no hardware that passes requests on to another operator's node. */
  relay?: boolean;
}

export interface NodeMix {
  gpuShare: number;
  dishonestShare: number;
  locationLiarShare: number;
}

export const DEFAULT_NODE_MIX: NodeMix = { gpuShare: 0.2, dishonestShare: 0.02, locationLiarShare: 0.01 };
/** A location liar claims a populated place at least this far from where it is (to win another city's traffic). */
export const MIN_LOCATION_LIE_KM = 300;

export function createNode(o: { index: number; sample: () => LatLng; rand: Rng; mix: NodeMix; heartbeatIntervalMs: number }): SimNode {
  const { rand, mix } = o;
  const { privateKey, id } = seededKeyPair(rand);
  const trueLocation = o.sample();
  let claimedLocation = trueLocation;
  if (rand() < mix.locationLiarShare) {
    do claimedLocation = o.sample();
    while (greatCircleDistanceKm(trueLocation, claimedLocation) < MIN_LOCATION_LIE_KM);
  }
  const gpu = rand() < mix.gpuShare;
  const cores = gpu ? 8 : [2, 4, 4, 8][Math.floor(rand() * 4)]!;
  const hardware: Hardware = {
    cpuCores: cores,
    memoryMb: gpu ? 16_384 : cores * 1024,
    executionProviders: gpu ? ['cuda', 'cpu'] : ['cpu'],
  };
  const models = new Map<string, boolean>();
  for (const m of MODELS) if (rand() < (gpu ? m.gpuShare : m.cpuShare)) models.set(m.name, true);
  if (models.size === 0) models.set(MODELS[0]!.name, true);
  return {
    index: o.index,
    id,
    privateKey,
    trueLocation,
    claimedLocation,
    gpu,
    hardware,
    slots: gpu ? 8 : cores,
    speed: logNormal(rand, 1, 0.3),
    price: Math.round(logNormal(rand, 100, 0.5)),
    lieRate: rand() < mix.dishonestShare ? 0.2 + 0.8 * rand() : 0,
    popularity: logNormal(rand, 1, 0.5),
    heartbeatPhaseMs: Math.floor(rand() * o.heartbeatIntervalMs),
    models,
    state: 'up',
    nextFailureAtMs: Infinity,
    registeredAtMs: 0,
    lastReported: '',
  };
}

/** PKCS#8 header of a raw 32-byte Ed25519 private key (RFC 8410): the key is the seed that follows. */
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

/** A key pair from the run's seeded stream, so node ids (and every tie broken by id) repeat with the seed. */
function seededKeyPair(rand: Rng): { privateKey: KeyObject; id: string } {
  const seed = Buffer.alloc(32);
  for (let i = 0; i < 32; i++) seed[i] = Math.floor(rand() * 256);
  const privateKey = createPrivateKey({ key: Buffer.concat([ED25519_PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
  return { privateKey, id: createPublicKey(privateKey).export({ format: 'jwk' }).x! };
}

export function serviceMsOf(node: SimNode, model: ModelSpec): number {
  return (node.gpu ? model.gpuServiceMs : model.cpuServiceMs) * node.speed;
}

export function modelEntries(node: SimNode, load: (m: ModelSpec) => NodeModel['load']): NodeModel[] {
  const out: NodeModel[] = [];
  for (const m of MODELS) {
    const ready = node.models.get(m.name);
    if (ready === undefined) continue;
    const entry: NodeModel = { name: m.name, version: m.version, contentId: m.contentId, ready, sizeBytes: m.sizeBytes, executionProvider: node.gpu ? 'cuda' : 'cpu' };
    if (m.prefersAccelerator) entry.prefersAccelerator = true;
    const l = load(m);
    if (l) entry.load = l;
    out.push(entry);
  }
  return out;
}

/** Where the node is reached: one host name per node (so one network prefix each). */
export const nodeUrlOf = (node: Pick<SimNode, 'index'>) => `https://n${node.index}.sim.hexedge.invalid`;

/** A registration signed as `hexedge node run` signs it (domain tag + canonical JSON), with node:crypto. */
export function signedRegistration(node: SimNode, o: { issuedAtMs: number; models: NodeModel[] }): SignedRegistration {
  const body = {
    nodeId: node.id,
    issuedAtMs: o.issuedAtMs,
    url: nodeUrlOf(node),
    location: node.claimedLocation,
    hardware: node.hardware,
    models: o.models,
    pricePerRequest: node.price,
  };
  const signature = sign(null, signingInput('registration', body), node.privateKey).toString('base64url');
  return { body, signature };
}
