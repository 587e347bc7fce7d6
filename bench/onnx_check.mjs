// onnx_check.mjs: runs an ONNX model written by `kallima export` in
// onnxruntime-node (CPU) on the inputs `kallima export -dump` wrote: each
// graph input NAME is fed DUMP_DIR/NAME.npy (a generator's z.npy,
// label.npy, c1.npy, ...; a translator's x.npy and domain.npy), and prints
// the largest absolute difference between the graph's output OUT and
// Kallima's own, DUMP_DIR/OUT.npy (a generator's samples x.npy, a
// translator's translations y.npy), for the whole batch and for its first 3
// rows alone (the batch dimension is symbolic). Exits 1 when a difference
// exceeds TOL.
//
// Usage: node bench/onnx_check.mjs MODEL.onnx DUMP_DIR [TOL]
//   (run with NODE_PATH pointing at a node_modules holding onnxruntime-node;
//   bench/onnx_check.sh does this)
import { createRequire } from 'node:module';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const require = createRequire(import.meta.url);
const ort = require(process.env.ORT_MODULE || 'onnxruntime-node');

// readNPY reads a little-endian '<f4' or '<i8' C-order NPY file.
function readNPY(path) {
  const buf = readFileSync(path);
  const hlen = buf.readUInt16LE(8);
  const header = buf.subarray(10, 10 + hlen).toString('latin1');
  const descr = /'descr': '([^']+)'/.exec(header)[1];
  const shape = /'shape': \(([^)]*)\)/.exec(header)[1].split(',').map((s) => s.trim()).filter((s) => s !== '').map(Number);
  const body = buf.subarray(10 + hlen);
  const data = new Uint8Array(body).buffer;
  if (descr === '<f4') return { shape, data: new Float32Array(data) };
  if (descr === '<i8') return { shape, data: new BigInt64Array(data) };
  throw new Error(`${path}: dtype ${descr}: want <f4 or <i8`);
}

const [model, dir, tolArg] = process.argv.slice(2);
const tol = Number(tolArg ?? '1e-5');
const session = await ort.InferenceSession.create(model, { executionProviders: ['cpu'] });
const outName = session.outputNames[0];
const want = readNPY(join(dir, `${outName}.npy`));
const inputs = {};
for (const name of session.inputNames) {
  const path = join(dir, `${name}.npy`);
  if (!existsSync(path)) throw new Error(`${model}: input ${name}: no ${path} in the dump`);
  inputs[name] = readNPY(path);
}
const first = inputs[session.inputNames[0]];

// run feeds the first n rows of every input and returns the largest
// |ONNX - Kallima|.
async function run(n) {
  const feeds = {};
  for (const [name, v] of Object.entries(inputs)) {
    const per = v.data.length / v.shape[0];
    const type = v.data instanceof BigInt64Array ? 'int64' : 'float32';
    feeds[name] = new ort.Tensor(type, v.data.slice(0, n * per), [n, ...v.shape.slice(1)]);
  }
  const out = (await session.run(feeds))[outName];
  const per = want.data.length / want.shape[0];
  if (out.dims[0] !== n || out.data.length !== n * per) {
    throw new Error(`output dims ${out.dims} for ${n} rows, want [${n}, ${want.shape.slice(1)}]`);
  }
  let max = 0;
  for (let i = 0; i < n * per; i++) max = Math.max(max, Math.abs(out.data[i] - want.data[i]));
  return max;
}

const rows = first.shape[0];
const full = await run(rows);
const few = await run(Math.min(3, rows));
console.log(`${model}: onnxruntime-node ${ort.env.versions?.common ?? ''} inputs ${session.inputNames} output ${outName} max |diff| ${full.toExponential(3)} (${rows} rows), ${few.toExponential(3)} (3 rows)`);
if (!(full <= tol && few <= tol)) {
  console.error(`${model}: difference above ${tol}`);
  process.exit(1);
}
