// Runs a wasm32-wasip1 command module under Node's WASI (V8, the engine Envoy embeds),
// for timing filter code without Envoy. Imports other than WASI (the proxy-wasm ABI the
// filter library links against) are stubs that return 0: the code timed never calls them.
// Usage: node scripts/wasi-run.mjs MODULE.wasm [ARGS...]
import { readFile } from "node:fs/promises";
import { WASI } from "node:wasi";
import { argv, env } from "node:process";

const wasi = new WASI({ version: "preview1", args: argv.slice(2), env });
const module = await WebAssembly.compile(await readFile(argv[2]));
const imports = wasi.getImportObject();
for (const imp of WebAssembly.Module.imports(module)) {
  if (imp.kind === "function" && !(imports[imp.module] && imports[imp.module][imp.name])) {
    imports[imp.module] ??= {};
    imports[imp.module][imp.name] = () => 0;
  }
}
const instance = await WebAssembly.instantiate(module, imports);
// The filter library exports `_initialize` too (a reactor); run `main` as a command.
if (instance.exports._start) {
  wasi.start({ exports: { memory: instance.exports.memory, _start: instance.exports._start } });
}
