/** Width and height from a JPEG's SOF marker, walking the marker segments. */
export function jpegSize(data: Uint8Array): { width: number; height: number } {
  let i = 2;
  while (i + 9 < data.length) {
    if (data[i] !== 0xff) throw new Error(`not a JPEG marker at byte ${i}`);
    const marker = data[i + 1]!;
    const length = (data[i + 2]! << 8) | data[i + 3]!;
    // SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC)
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      return { height: (data[i + 5]! << 8) | data[i + 6]!, width: (data[i + 7]! << 8) | data[i + 8]! };
    }
    i += 2 + length;
  }
  throw new Error('no SOF marker found');
}
