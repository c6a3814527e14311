// @ts-expect-error google-protobuf ships no types (it comes with @chirpstack/chirpstack-api, whose classes use it).
import jspb from 'google-protobuf';

/**
 * google-protobuf 3.x reads a string field by looping over its declared length without checking it
 * against the buffer: a 7-byte message whose string claims 4 GiB (`0a ffffffff0f`) spins for ~90 s
 * and blocks the event loop. Bytes fields are bounds-checked; strings are bounded here, once per
 * process, before the generated ChirpStack classes read anything. Only the reader's public API is
 * used: the length varint is decoded from the buffer at the cursor, which is left where it was.
 */
interface Reader {
  getCursor(): number;
  getBuffer(): Uint8Array;
  readString(): string;
}
const proto = (jspb as { BinaryReader: { prototype: Reader & { hexedgeBounded?: true } } }).BinaryReader.prototype;
if (!proto.hexedgeBounded) {
  const readString = proto.readString;
  proto.readString = function (this: Reader): string {
    const bytes = this.getBuffer();
    let at = this.getCursor();
    let length = 0;
    for (let shift = 0; shift < 35 && at < bytes.length; shift += 7) {
      const b = bytes[at++]!;
      length += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) break;
    }
    if (at + length > bytes.length) throw new Error(`a string field of ${length} bytes runs past the end of the message`);
    return readString.call(this);
  };
  proto.hexedgeBounded = true;
}
