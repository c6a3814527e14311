import type { SignedReceipt } from '@hexedge/protocol';

/** What the oracle knows of the model catalogue (the origin registry's manifests, read from the gateways). */
export interface CatalogueView {
  contentIdOf(modelName: string, modelVersion: string): string | undefined;
  knowsName(modelName: string): boolean;
  modelOf(contentId: string): { name: string; version: string } | undefined;
  /**
   * Whether the model's manifest (its comparison tolerance) has been read. Until it has, a spot check
   * would compare with the default tolerance, which may be far tighter than an int8 model's: no
   * verdict is reached on a catalogue read half-way (a gateway lists models before their manifests).
   */
  toleranceKnown?(modelName: string, modelVersion: string): boolean;
}

export type Binding =
  | { status: 'bound'; contentId: string }
  /** The receipt misnames the model it ran: evidence against the node that signed it. */
  | { status: 'fraud'; reason: string; expected: { name: string; version: string; contentId: string | null } }
  /** A model the catalogue does not list (a node's own): nothing to check it against, nothing earned. */
  | { status: 'unknown'; reason: string };

/**
 * Binds a receipt to the catalogue, not to what the node announced: the model it names (name and
 * version) must be the one the gateway asked for, and listed with exactly the content id the node
 * signed. A fake content id, a made-up version or a borrowed name (to earn a dearer model's cost
 * units, or to send checkers astray) is a signed lie.
 */
export function bindToCatalogue(options: {
  receipt: SignedReceipt;
  requested: { modelName: string; modelVersion: string };
  catalogue: CatalogueView | undefined;
}): Binding {
  const { modelName, modelVersion, modelContentId } = options.receipt.body;
  const { catalogue, requested } = options;
  if (modelName !== requested.modelName || modelVersion !== requested.modelVersion)
    return {
      status: 'fraud',
      reason: 'NOT_THE_REQUESTED_MODEL',
      expected: {
        name: requested.modelName,
        version: requested.modelVersion,
        contentId: catalogue?.contentIdOf(requested.modelName, requested.modelVersion) ?? null,
      },
    };
  if (!catalogue) return { status: 'bound', contentId: modelContentId };
  const listed = catalogue.contentIdOf(modelName, modelVersion);
  if (listed !== undefined)
    return listed === modelContentId
      ? { status: 'bound', contentId: listed }
      : {
          status: 'fraud',
          reason: 'CONTENT_ID_NOT_IN_CATALOGUE',
          expected: { name: modelName, version: modelVersion, contentId: listed },
        };
  if (catalogue.knowsName(modelName))
    return {
      status: 'fraud',
      reason: 'VERSION_NOT_IN_CATALOGUE',
      expected: { name: modelName, version: modelVersion, contentId: null },
    };
  const owner = catalogue.modelOf(modelContentId);
  if (owner)
    return {
      status: 'fraud',
      reason: 'MODEL_NAME_NOT_IN_CATALOGUE',
      expected: { ...owner, contentId: modelContentId },
    };
  return { status: 'unknown', reason: 'MODEL_NOT_IN_CATALOGUE' };
}
