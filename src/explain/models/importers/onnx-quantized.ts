/**
 * ONNX Runtime's quantized operations (QLinearConv, QLinearMatMul and the com.microsoft QLinear*
 * family) as the float operations they approximate: weights and biases dequantized exactly at
 * load ((q − zero point) × scale), activations run in float. An operation's output range can
 * imply the activation the quantizer fused into it: a range starting at exactly 0 is a ReLU
 * (ReLU6 where it ends at 6 or below, which int8 saturation made redundant).
 */
import type { Activation } from '../../network/activations.js';
import { dequantize } from './onnx-constants.js';
import type { ConstTensor } from './onnx-file.js';
import { type Lowerer, type Lowering, unsupportedSetting, type Value } from './onnx-lowering.js';
import { FLOAT_OPS } from './onnx-ops.js';
import { intAttr } from './onnx-constants.js';

const constOf = (c: Lowering, i: number, role: string): ConstTensor => {
  const v = c.input(i);
  if (v?.kind !== 'const') throw unsupportedSetting(c, `a ${role} computed at run time`);
  return v.tensor;
};

const asValue = (tensor: ConstTensor): Value => ({ kind: 'const', tensor });

/** Input i as a float value: a run-time tensor as it is, a stored one dequantized with inputs i+1, i+2. */
function floatInput(c: Lowering, i: number, axis = 1): Value | undefined {
  const v = c.input(i);
  if (v?.kind !== 'const') return v;
  const zp = c.input(i + 2);
  return asValue(dequantize(v.tensor, constOf(c, i + 1, 'scale'), zp?.kind === 'const' ? zp.tensor : undefined, axis));
}

/** The float operation `opType` on `inputs`, with the quantized node's attributes. */
function asFloat(c: Lowering, opType: string, inputs: (Value | undefined)[]): Value {
  return FLOAT_OPS[opType]!({ ...c, opType, input: (i) => inputs[i], inputCount: inputs.length });
}

/** The activation a quantized output's range implies: none unless the range starts at 0. */
export function impliedActivation(scale: number, zeroPoint: ConstTensor | undefined): Activation | undefined {
  const [qmin, qmax] = zeroPoint?.dataType === 3 ? [-128, 127] : [0, 255];
  const zp = zeroPoint?.data[0] ?? 0;
  if (zp !== qmin) return undefined;
  return (qmax - zp) * scale <= 6 * (1 + 1e-6) ? 'relu6' : 'relu';
}

/** `v` followed by the activation its quantized output range implies (scale at `i`, zero point at i + 1). */
function withRange(c: Lowering, v: Value, i: number): Value {
  const zp = c.input(i + 1);
  const act = impliedActivation(constOf(c, i, 'output scale').data[0]!, zp?.kind === 'const' ? zp.tensor : undefined);
  if (!act || v.kind !== 'runtime') return v;
  if (c.foldActivation(v, act)) return v;
  return { kind: 'runtime', ...c.emit({ type: 'activation', activation: act }, [v]) };
}

const qlinearConv: Lowerer = (c) => {
  const xScale = constOf(c, 1, 'input scale').data[0]!;
  const wScale = constOf(c, 4, 'filter scale');
  const b = c.input(8);
  let bias: Value | undefined;
  if (b) {
    const q = constOf(c, 8, 'bias');
    // int32 bias in units of input scale × filter scale (per output channel).
    const data = Float32Array.from(q.data, (v, o) => v * xScale * wScale.data[wScale.data.length === 1 ? 0 : o]!);
    bias = asValue({ dims: q.dims, data, dataType: 1 });
  }
  return withRange(c, asFloat(c, 'Conv', [c.input(0), floatInput(c, 3, 0), bias]), 6);
};

const qlinearMatMul: Lowerer = (c) => withRange(c, asFloat(c, 'MatMul', [floatInput(c, 0), floatInput(c, 3, 1)]), 6);

/** QLinearAdd / QLinearMul (com.microsoft): A, its scale and zero point, B, its, then C's. */
function qlinearBinary(op: 'Add' | 'Mul'): Lowerer {
  return (c) => withRange(c, asFloat(c, op, [floatInput(c, 0), floatInput(c, 3)]), 6);
}

/** X, its scale and zero point, then Y's: the float operation on X, no implied activation. */
function qlinearUnary(op: string): Lowerer {
  return (c) => {
    if (intAttr(c.attributes, 'channels_last', 0)) throw unsupportedSetting(c, 'channels_last = 1');
    return asFloat(c, op, [floatInput(c, 0)]);
  };
}

/** QLinearConcat: Y's scale and zero point, then (tensor, scale, zero point) per input. */
const qlinearConcat: Lowerer = (c) => {
  const parts = Array.from({ length: (c.inputCount - 2) / 3 }, (_, k) => floatInput(c, 2 + 3 * k));
  return asFloat(c, 'Concat', parts);
};

/** The quantized operations WhyCam lowers, by ONNX name (standard domain and com.microsoft). */
export const QUANTIZED_OPS: Readonly<Record<string, Lowerer>> = {
  QLinearConv: qlinearConv,
  QLinearMatMul: qlinearMatMul,
  QLinearAdd: qlinearBinary('Add'),
  QLinearMul: qlinearBinary('Mul'),
  QLinearGlobalAveragePool: qlinearUnary('GlobalAveragePool'),
  QLinearAveragePool: qlinearUnary('AveragePool'),
  QLinearLeakyRelu: qlinearUnary('LeakyRelu'),
  QLinearSigmoid: qlinearUnary('Sigmoid'),
  QLinearConcat: qlinearConcat,
};
