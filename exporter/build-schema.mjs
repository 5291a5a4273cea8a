#!/usr/bin/env node
// Generates the protobuf codecs in exporter/generated/ from the .proto files beside this script:
//   exporter/ticket.proto -> exporter/generated/ticket-schema.ts   (the .glt format, proto3)
//   exporter/onnx.proto   -> exporter/generated/onnx-schema.ts     (a subset of ONNX, proto2)
//
//   node exporter/build-schema.mjs [PROTO ...]           write each module (only if its content changed)
//   node exporter/build-schema.mjs --check [PROTO ...]   exit 1 if a module is missing or stale
// PROTO is a file name from TARGETS below (ticket.proto, onnx.proto); none means all of them.
//
// Each .proto is parsed with protobufjs's own parser. The output is static TypeScript that needs
// only `protobufjs/minimal` at run time: per message an interface, a factory, an encoder (Writer)
// and a bounds-checked decoder, plus the enums, the field numbers and the JSON descriptor
// (`Root.fromJSON(schemaDescriptor)` gives the reflection API to tools that want it).
// Why not reflection at run time: protobufjs's reflection compiles its codecs with `new Function`,
// which content-security policies and edge runtimes (Cloudflare Workers, ...) forbid, and its
// decoders neither check field wire types nor say where a malformed message went wrong.
//
// Field presence follows the file's syntax:
//   - proto3 (implicit presence): every field is always there; a scalar or enum is written only
//     when it is not its default, a message field is `T | null`. Repeated scalars, scalar oneof
//     members and proto3 `optional` are not supported (ticket.proto packs arrays into bytes);
//   - proto2 (explicit presence): `optional` fields are optional properties, written only when set
//     (ONNX tells an absent field from a zero one, e.g. AttributeProto.i = 0); repeated scalars
//     (dims, ints, float_data, ...) are arrays, written packed when the field says [packed = true]
//     and read in either form, as protobuf requires.
// In both, 64-bit integers are JavaScript numbers (the decoder rejects values beyond ±2^53),
// nested messages and enums are flattened to Outer_Inner names (TensorShapeProto_Dimension), and
// enums are int32 on the wire.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import protobuf from "protobufjs";

const here = dirname(fileURLToPath(import.meta.url));

// error: the class the decoders throw, `(where, problem)`; imported from `from`, or, without it,
// defined in the generated module.
const TARGETS = [
  { proto: "ticket.proto", out: "ticket-schema.ts", error: { name: "TicketFormatError", from: "../errors.js" } },
  { proto: "onnx.proto", out: "onnx-schema.ts", error: { name: "OnnxFormatError", what: "ONNX protobuf", example: "ModelProto.graph.node[3]" } },
];

// scalar type -> { ts, wire, write (Writer method), read (expression given `at`), packable,
//                  def (default literal), nonDefault (test that a value is not the default) }
const SCALARS = {
  int32: { ts: "number", wire: 0, write: "int32", read: (w) => `varint(r, end, ${w}) | 0`, packable: true, def: "0", nonDefault: (v) => `${v} !== 0` },
  uint32: { ts: "number", wire: 0, write: "uint32", read: (w) => `varint(r, end, ${w})`, packable: true, def: "0", nonDefault: (v) => `${v} !== 0` },
  int64: { ts: "number", wire: 0, write: "int64", read: (w) => `varint64(r, end, ${w}, true)`, packable: true, def: "0", nonDefault: (v) => `${v} !== 0` },
  uint64: { ts: "number", wire: 0, write: "uint64", read: (w) => `varint64(r, end, ${w}, false)`, packable: true, def: "0", nonDefault: (v) => `${v} !== 0` },
  bool: { ts: "boolean", wire: 0, write: "bool", read: (w) => `varint(r, end, ${w}) !== 0`, packable: true, def: "false", nonDefault: (v) => `${v}` },
  fixed32: { ts: "number", wire: 5, write: "fixed32", read: (w) => `fixed32(r, end, ${w})`, packable: true, def: "0", nonDefault: (v) => `${v} !== 0` },
  float: { ts: "number", wire: 5, write: "float", read: (w) => `float32(r, end, ${w})`, packable: true, def: "0", nonDefault: (v) => `!Object.is(${v}, 0)` },
  double: { ts: "number", wire: 1, write: "double", read: (w) => `float64(r, end, ${w})`, packable: true, def: "0", nonDefault: (v) => `!Object.is(${v}, 0)` },
  string: { ts: "string", wire: 2, write: "string", read: (w) => `stringField(r, end, ${w})`, packable: false, def: '""', nonDefault: (v) => `${v} !== ""` },
  bytes: { ts: "Uint8Array", wire: 2, write: "bytes", read: (w) => `bytesField(r, end, ${w})`, packable: false, def: "new Uint8Array(0)", nonDefault: (v) => `${v}.length !== 0` },
};

// How each syntax represents, tests and clears a field (see the header).
const PRESENCE = {
  proto3: {
    property: (f, info) => `${f.name}: ${info.kind === "message" ? (info.repeated ? `${info.ts}[]` : `${info.ts} | null`) : info.ts}`,
    factory: (name, infos) => [
      "  return {",
      ...infos.map(([f, info]) => `    ${f.name}: init.${f.name} ?? ${info.kind === "message" ? (info.repeated ? "[]" : "null") : info.def},`),
      "  };",
    ],
    isSet: (v, info) => (info.kind === "message" ? `${v} != null` : info.nonDefault(v)),
    clear: (v) => `${v} = null;`,
  },
  proto2: {
    property: (f, info) => (info.repeated ? `${f.name}: ${info.ts}[]` : `${f.name}?: ${info.ts}`),
    factory: (name, infos) => {
      const arrays = infos.filter(([, i]) => i.repeated).map(([f]) => `${f.name}: []`);
      return [`  return { ${arrays.join(", ")}${arrays.length ? ", " : ""}...init };`];
    },
    isSet: (v) => `${v} !== undefined`,
    clear: (v) => `delete ${v};`,
  },
};

function fieldInfo(syntax, typeName, f, tsName) {
  const where = `${typeName}.${f.name}`;
  if (f.map) throw new Error(`${where}: map fields are not supported`);
  const synthetic = f.partOf && f.partOf.name.startsWith("_"); // proto3 `optional`
  if (syntax === "proto3" && synthetic) throw new Error(`${where}: proto3 'optional' is not supported`);
  const oneof = f.partOf && !synthetic ? f.partOf.name : null;
  const rt = f.resolvedType;
  if (rt instanceof protobuf.Type) return { kind: "message", ts: tsName.get(rt), wire: 2, repeated: f.repeated, oneof };
  if (syntax === "proto3" && f.repeated) throw new Error(`${where}: repeated scalars are not supported in proto3 (use bytes)`);
  if (syntax === "proto3" && oneof) throw new Error(`${where}: scalar oneof members are not supported in proto3`);
  const s = rt instanceof protobuf.Enum ? SCALARS.int32 : SCALARS[f.type];
  if (!s) throw new Error(`${where}: type ${f.type} is not supported by this generator`);
  return { kind: "scalar", ...s, packed: f.repeated && s.packable && f.packed, repeated: f.repeated, oneof };
}

/** The TypeScript module for one .proto, as a string. */
function generate({ proto, error }) {
  const source = readFileSync(join(here, proto), "utf8");
  const syntax = /^\s*syntax\s*=\s*"(proto[23])"\s*;/m.exec(source)?.[1];
  if (!syntax) throw new Error(`${proto}: expected syntax = "proto2" or "proto3"`);
  const presence = PRESENCE[syntax];
  const parsed = protobuf.parse(source, { keepCase: false });
  const root = parsed.root;
  root.resolveAll();
  const pkg = parsed.package ? root.lookup(parsed.package) : root;
  if (!pkg) throw new Error(`${proto}: package ${parsed.package} not found`);

  const types = [];
  const enums = [];
  const tsName = new Map(); // protobufjs object -> flattened TypeScript name
  (function walk(ns, prefix) {
    for (const obj of ns.nestedArray) {
      const name = prefix ? `${prefix}_${obj.name}` : obj.name;
      if (obj instanceof protobuf.Type) {
        tsName.set(obj, name);
        types.push(obj);
        walk(obj, name);
      } else if (obj instanceof protobuf.Enum) {
        tsName.set(obj, name);
        enums.push(obj);
      } else throw new Error(`${proto}: ${obj.name}: unsupported declaration (${obj.constructor.name})`);
    }
  })(pkg, "");

  const messages = types.map((t) => {
    const name = tsName.get(t);
    const fields = t.fieldsArray.slice().sort((a, b) => a.id - b.id);
    const infos = fields.map((f) => [f, fieldInfo(syntax, name, f, tsName)]);
    const oneofs = new Map();
    for (const [f, info] of infos) if (info.oneof) (oneofs.get(info.oneof) ?? oneofs.set(info.oneof, []).get(info.oneof)).push(f.name);
    return { t, name, infos, oneofs };
  });
  const allInfos = messages.flatMap((m) => m.infos.map(([, info]) => info));
  const uses = {
    varint64: allInfos.some((i) => i.write === "int64" || i.write === "uint64"),
    fixed32: allInfos.some((i) => i.write === "fixed32"),
    repeated: allInfos.some((i) => i.kind === "scalar" && i.repeated && i.packable),
  };

  const out = [];
  const emit = (s = "") => out.push(s);
  const sha = createHash("sha256").update(source).digest("hex");

  emit(`// GENERATED by exporter/build-schema.mjs from exporter/${proto}. Do not edit; not committed.`);
  emit("/* eslint-disable */");
  emit('import pb from "protobufjs/minimal.js";');
  if (error.from) emit(`import { ${error.name} } from ${JSON.stringify(error.from)};`);
  emit();
  emit(`/** sha256 of the ${proto} this module was generated from. */`);
  emit(`export const SCHEMA_SOURCE_SHA256 = ${JSON.stringify(sha)};`);
  emit(`export const SCHEMA_PACKAGE = ${JSON.stringify(parsed.package ?? "")};`);
  emit();
  emit("/** protobufjs JSON descriptor of the schema (for `Root.fromJSON` in tools; not used to encode or decode). */");
  emit(`export const schemaDescriptor = ${JSON.stringify(root.toJSON(), null, 2)};`);
  emit();
  if (!error.from) {
    emit(`/** A malformed ${error.what}: \`where\` names the field (e.g. "${error.example}"). */
export class ${error.name} extends Error {
  readonly where: string;
  readonly problem: string;
  constructor(where: string, problem: string) {
    super(where ? \`\${where}: \${problem}\` : problem);
    this.name = "${error.name}";
    this.where = where;
    this.problem = problem;
  }
}
`);
  }

  for (const e of enums) {
    const name = tsName.get(e);
    const entries = Object.entries(e.values);
    emit(`export const ${name} = {`);
    for (const [k, v] of entries) emit(`  ${k}: ${v},`);
    emit("} as const;");
    emit(`export const ${name}Name: Readonly<Record<number, string>> = {`);
    for (const [k, v] of entries) emit(`  ${v}: ${JSON.stringify(k)},`);
    emit("};");
    emit();
  }

  emit("/** Field numbers, per message (camelCase names). */");
  emit("export const FIELD = {");
  for (const { t, name } of messages) emit(`  ${name}: { ${t.fieldsArray.map((f) => `${f.name}: ${f.id}`).join(", ")} },`);
  emit("} as const;");
  emit();

  emit(`// ---- wire helpers: every read is bounded by the end of the enclosing message ----
type Reader = pb.Reader;
type Writer = pb.Writer;

function fail(where: string, problem: string): never {
  throw new ${error.name}(where, problem);
}

/** A varint's low 32 bits (unsigned); at most 10 bytes, never past \`end\`. */
function varint(r: Reader, end: number, where: string): number {
  const buf = r.buf;
  let pos = r.pos;
  let v = 0;
  for (let i = 0; i < 10; i++) {
    if (pos >= end) fail(where, "truncated varint");
    const b = buf[pos++];
    if (i < 5) v |= (b & 0x7f) << (7 * i);
    if (b < 0x80) {
      r.pos = pos;
      return v >>> 0;
    }
  }
  return fail(where, "malformed varint (longer than 10 bytes)");
}
`);
  if (uses.varint64) {
    emit(`/** A 64-bit varint as a number, signed (int64) or not (uint64); beyond ±2^53 is an error. */
function varint64(r: Reader, end: number, where: string, signed: boolean): number {
  const buf = r.buf;
  let pos = r.pos;
  let v = 0n;
  for (let i = 0; i < 10; i++) {
    if (pos >= end) fail(where, "truncated varint");
    const b = buf[pos++];
    v |= BigInt(b & 0x7f) << BigInt(7 * i);
    if (b < 0x80) {
      r.pos = pos;
      const x = signed ? BigInt.asIntN(64, v) : BigInt.asUintN(64, v);
      if (x > BigInt(Number.MAX_SAFE_INTEGER) || x < BigInt(Number.MIN_SAFE_INTEGER)) fail(where, \`64-bit integer \${x} is beyond ±2^53\`);
      return Number(x);
    }
  }
  return fail(where, "malformed varint (longer than 10 bytes)");
}
`);
  }
  emit(`function lengthEnd(r: Reader, end: number, where: string): number {
  const len = varint(r, end, where);
  const left = end - r.pos;
  if (len > left) fail(where, \`truncated: declares \${len} bytes but only \${left} remain\`);
  return r.pos + len;
}

function bytesField(r: Reader, end: number, where: string): Uint8Array {
  const e = lengthEnd(r, end, where);
  const v = r.buf.subarray(r.pos, e);
  r.pos = e;
  return v;
}

function stringField(r: Reader, end: number, where: string): string {
  const e = lengthEnd(r, end, where);
  const v = pb.util.utf8.read(r.buf, r.pos, e);
  r.pos = e;
  return v;
}
`);
  if (uses.fixed32) {
    emit(`function fixed32(r: Reader, end: number, where: string): number {
  if (end - r.pos < 4) fail(where, "truncated fixed32");
  return r.fixed32();
}
`);
  }
  emit(`function float32(r: Reader, end: number, where: string): number {
  if (end - r.pos < 4) fail(where, "truncated float");
  return r.float();
}

function float64(r: Reader, end: number, where: string): number {
  if (end - r.pos < 8) fail(where, "truncated double");
  return r.double();
}

function expectWire(actual: number, expected: number, where: string): void {
  if (actual !== expected) fail(where, \`wire type \${actual}, expected \${expected}\`);
}
`);
  if (uses.repeated) {
    emit(`/** Reads a repeated scalar in either form: one element (wire type \`elementWire\`) or a packed run. */
function repeated<T>(r: Reader, end: number, wire: number, elementWire: number, where: string, into: T[], one: (e: number) => T): void {
  if (wire === 2 && elementWire !== 2) {
    const e = lengthEnd(r, end, where);
    while (r.pos < e) into.push(one(e));
    return;
  }
  expectWire(wire, elementWire, where);
  into.push(one(end));
}
`);
  }
  emit(`/** Skips an unknown field (forward compatibility). Groups (wire types 3, 4) are rejected. */
function skipField(r: Reader, wire: number, end: number, where: string): void {
  switch (wire) {
    case 0:
      varint(r, end, where);
      return;
    case 1:
      if (end - r.pos < 8) fail(where, "truncated 64-bit field");
      r.pos += 8;
      return;
    case 2:
      r.pos = lengthEnd(r, end, where);
      return;
    case 5:
      if (end - r.pos < 4) fail(where, "truncated 32-bit field");
      r.pos += 4;
      return;
    default:
      fail(where, \`unsupported wire type \${wire}\`);
  }
}
`);

  for (const { t, name, infos, oneofs } of messages) {
    // interface
    if (t.comment) emit(`/** ${t.comment.replace(/\*\//g, "* /")} */`);
    emit(`export interface ${name} {`);
    for (const [f, info] of infos) emit(`  ${presence.property(f, info)};${f.comment ? ` // ${f.comment.replace(/\n/g, " ")}` : ""}`);
    emit("}");
    emit();

    // factory
    emit(`export function create${name}(init: Partial<${name}> = {}): ${name} {`);
    for (const line of presence.factory(name, infos)) emit(line);
    emit("}");
    emit();

    // writer
    emit(`export function write${name}(m: ${name}, w: Writer): Writer {`);
    for (const [oneofName, members] of oneofs) {
      const set = members.map((n) => `(${presence.isSet(`m.${n}`, { kind: "message" })} ? 1 : 0)`);
      emit(`  if (${set.join(" + ")} > 1) throw new Error("${name}.${oneofName}: more than one oneof member set");`);
    }
    for (const [f, info] of infos) {
      const v = `m.${f.name}`;
      const wire = info.packed ? 2 : info.wire;
      const tag = ((f.id << 3) | wire) >>> 0;
      if (info.kind === "message") {
        if (info.repeated) emit(`  for (const x of ${v}) write${info.ts}(x, w.uint32(${tag}).fork()).ldelim();`);
        else emit(`  if (${presence.isSet(v, info)}) write${info.ts}(${v}, w.uint32(${tag}).fork()).ldelim();`);
      } else if (info.packed) {
        emit(`  if (${v}.length) {`);
        emit(`    w.uint32(${tag}).fork();`);
        emit(`    for (const x of ${v}) w.${info.write}(x);`);
        emit("    w.ldelim();");
        emit("  }");
      } else if (info.repeated) {
        emit(`  for (const x of ${v}) w.uint32(${tag}).${info.write}(x);`);
      } else {
        emit(`  if (${presence.isSet(v, info)}) w.uint32(${tag}).${info.write}(${v});`);
      }
    }
    emit("  return w;");
    emit("}");
    emit();

    // reader
    emit(`export function read${name}(r: Reader, end: number, where: string): ${name} {`);
    emit(`  const m = create${name}();`);
    emit("  while (r.pos < end) {");
    emit("    const tag = varint(r, end, where);");
    emit("    const id = tag >>> 3;");
    emit("    const wire = tag & 7;");
    emit("    switch (id) {");
    for (const [f, info] of infos) {
      emit(`      case ${f.id}: {`);
      const at = info.repeated ? `\`\${where}.${f.name}[\${m.${f.name}.length}]\`` : `where + ".${f.name}"`;
      emit(`        const at = ${at};`);
      if (info.kind === "message") {
        emit("        expectWire(wire, 2, at);");
        emit("        const e = lengthEnd(r, end, at);");
        if (info.repeated) emit(`        m.${f.name}.push(read${info.ts}(r, e, at));`);
        else emit(`        m.${f.name} = read${info.ts}(r, e, at);`);
      } else if (info.repeated && info.packable) {
        emit(`        repeated(r, end, wire, ${info.wire}, at, m.${f.name}, (end) => ${info.read("at")});`);
      } else if (info.repeated) {
        emit(`        expectWire(wire, ${info.wire}, at);`);
        emit(`        m.${f.name}.push(${info.read("at")});`);
      } else {
        emit(`        expectWire(wire, ${info.wire}, at);`);
        emit(`        m.${f.name} = ${info.read("at")};`);
      }
      if (info.oneof) for (const other of oneofs.get(info.oneof)) if (other !== f.name) emit(`        ${presence.clear(`m.${other}`)}`);
      emit("        break;");
      emit("      }");
    }
    emit("      default:");
    emit('        if (id === 0) fail(where, "field number 0");');
    emit(`        skipField(r, wire, end, \`\${where}.<field \${id}>\`);`);
    emit("    }");
    emit("  }");
    emit('  if (r.pos !== end) fail(where, "last field runs past the end of the message");');
    emit("  return m;");
    emit("}");
    emit();

    emit(`export function encode${name}(m: ${name}): Uint8Array {`);
    emit(`  const b = write${name}(m, pb.Writer.create()).finish();`);
    emit("  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);");
    emit("}");
    emit();
    emit(`/** Decodes a whole buffer as one ${name}; throws ${error.name} naming the bad field. */`);
    emit(`export function decode${name}(bytes: Uint8Array, where = "${name}"): ${name} {`);
    emit(`  return read${name}(pb.Reader.create(bytes), bytes.length, where);`);
    emit("}");
    emit();
  }
  return out.join("\n");
}

const args = process.argv.slice(2);
const check = args.includes("--check");
const names = args.filter((a) => a !== "--check");
for (const n of names) {
  if (!TARGETS.some((t) => t.proto === n)) {
    console.error(`build-schema: unknown proto ${JSON.stringify(n)}; expected one of ${TARGETS.map((t) => t.proto).join(", ")} (or none for all)`);
    process.exit(2);
  }
}
let stale = false;
for (const target of TARGETS.filter((t) => names.length === 0 || names.includes(t.proto))) {
  const outPath = join(here, "generated", target.out);
  const text = generate(target);
  const current = existsSync(outPath) ? readFileSync(outPath, "utf8") : null;
  if (current === text) continue;
  if (check) {
    console.error(`${outPath} is ${current === null ? "missing" : "stale"}: run node exporter/build-schema.mjs`);
    stale = true;
    continue;
  }
  mkdirSync(dirname(outPath), { recursive: true });
  const tmp = `${outPath}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, outPath);
  console.log(`wrote ${outPath}`);
}
if (stale) process.exit(1);
