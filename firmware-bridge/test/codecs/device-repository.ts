import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { EXAMPLE_CODECS_DIR, exampleCodecSource } from '../../testing/codecs/index.ts';

/**
 * Reads codecs written in The Things Network device repository's format: a codec definition
 * (`<codec>.yaml` with `uplinkDecoder` / `downlinkEncoder` / `downlinkDecoder`, each a `fileName`
 * and `examples` of `input` → `output`) beside the codec's JavaScript.
 */
export interface UplinkExample {
  description: string;
  input: { fPort: number; bytes: number[]; recvTime?: string };
  output: { data?: Record<string, unknown>; errors?: string[]; warnings?: string[] };
  normalizedOutput?: { data: Record<string, unknown>[] };
}
export interface EncoderExample {
  description: string;
  input: { data: Record<string, unknown> };
  output: { bytes?: number[]; fPort?: number; errors?: string[]; warnings?: string[] };
}
export interface DownlinkDecoderExample {
  description: string;
  input: { fPort: number; bytes: number[] };
  output: { data?: Record<string, unknown>; errors?: string[]; warnings?: string[] };
}
export interface CodecDefinition {
  name: string;
  source: string;
  uplinkDecoder?: { fileName: string; examples: UplinkExample[] };
  downlinkEncoder?: { fileName: string; examples: EncoderExample[] };
  downlinkDecoder?: { fileName: string; examples: DownlinkDecoderExample[] };
}

/** The example codecs' source by file name (firmware-bridge/testing/codecs). */
export const codecSource = exampleCodecSource;

export function loadCodecDefinition(name: string): CodecDefinition {
  const definition = parse(readFileSync(path.join(EXAMPLE_CODECS_DIR, `${name}.yaml`), 'utf8')) as Omit<
    CodecDefinition,
    'name' | 'source'
  >;
  const fileName =
    definition.uplinkDecoder?.fileName ??
    definition.downlinkEncoder?.fileName ??
    definition.downlinkDecoder?.fileName;
  if (!fileName) throw new Error(`${name}.yaml names no codec file`);
  return { name, source: codecSource(fileName), ...definition };
}

/** When an example gives no recvTime (the device repository's never do). */
export const DEFAULT_RECV_TIME = '2025-03-01T12:00:00Z';
