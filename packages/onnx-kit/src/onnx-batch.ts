import onnxProto, { type onnx } from 'onnx-proto';

const proto = onnxProto.onnx;

/**
 * Makes a model's batch dimension symbolic so several faces go through one inference.
 * The faceplugin models were exported with batch 1 fixed in their inputs and outputs and,
 * for some (pose, feature), in Reshape target shapes. In a Reshape shape, 0 means "copy
 * this dimension from the input", so a leading 1 becomes 0. The model file on disk stays
 * as fetched and verified; this runs on the bytes at load time.
 * Reshapes whose shape is computed at run time (Shape → Gather → Concat) already follow
 * the batch. Returns undefined for a file without a graph.
 */
export function makeBatchDynamic(bytes: Uint8Array): Uint8Array | undefined {
  const model = proto.ModelProto.decode(bytes);
  const graph = model.graph;
  if (!graph) return undefined;
  for (const v of [...(graph.input ?? []), ...(graph.output ?? [])]) {
    const dims = v.type?.tensorType?.shape?.dim;
    if (dims && dims.length > 0) dims[0] = proto.TensorShapeProto.Dimension.create({ dimParam: 'N' });
  }
  const constants = new Map<string, onnx.ITensorProto>();
  for (const t of graph.initializer ?? []) if (t.name) constants.set(t.name, t);
  for (const n of graph.node ?? []) {
    if (n.opType === 'Constant' && n.output?.[0] && n.attribute?.[0]?.t) constants.set(n.output[0], n.attribute[0].t);
  }
  for (const n of graph.node ?? []) {
    if (n.opType !== 'Reshape' || !n.input?.[1]) continue;
    const shape = constants.get(n.input[1]);
    if (shape) zeroLeadingOne(shape);
  }
  return proto.ModelProto.encode(model).finish();
}

/** Replaces a leading 1 of an int64 shape tensor with 0 (raw little-endian or int64Data). */
function zeroLeadingOne(t: onnx.ITensorProto): void {
  if (t.rawData && t.rawData.length >= 8) {
    const view = new DataView(t.rawData.buffer, t.rawData.byteOffset, t.rawData.byteLength);
    if (view.getBigInt64(0, true) === 1n) view.setBigInt64(0, 0n, true);
  } else if (t.int64Data && t.int64Data.length > 0 && Number(t.int64Data[0]) === 1) {
    t.int64Data[0] = 0;
  }
}
