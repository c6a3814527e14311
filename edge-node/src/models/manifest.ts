// The manifest is a wire format (nodes, peers and the gateway's origin registry exchange it), so its
// schema lives in @hexedge/protocol; the edge node re-exports it where its model code expects it.
export { MANIFEST_FILE_SUFFIX, modelManifestSchema, type ModelManifest, type TensorSpec } from '@hexedge/protocol';
